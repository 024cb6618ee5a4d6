// The torrents the page knows: every row by id, and the ids the list shows (filtered and sorted). Updates from the
// event stream are applied incrementally: a row whose place does not change keeps it, a few that move are taken out
// and put back by binary search, and only a large batch sorts again (10,000 rows sort in a few milliseconds).

const stateRank = { error: 0, checking: 1, fetching_metadata: 2, downloading: 3, queued_download: 4, seeding: 5, queued_seed: 6, paused: 7 };

/** State groups of the sidebar, as the daemon's list filters define them. */
export const stateGroups = [
  { id: 'all', label: 'All', icon: 'all', test: () => true },
  { id: 'downloading', label: 'Downloading', icon: 'down', test: r => r.state === 'downloading' || r.state === 'fetching_metadata' || r.state === 'queued_download' },
  { id: 'seeding', label: 'Seeding', icon: 'up', test: r => r.state === 'seeding' || r.state === 'queued_seed' },
  { id: 'completed', label: 'Completed', icon: 'done', test: r => r.progress >= 1 },
  { id: 'active', label: 'Active', icon: 'bolt', test: r => r.down_rate > 0 || r.up_rate > 0 },
  { id: 'inactive', label: 'Inactive', icon: 'moon', test: r => !(r.down_rate > 0 || r.up_rate > 0) },
  { id: 'paused', label: 'Paused', icon: 'pause', test: r => r.state === 'paused' },
  { id: 'queued', label: 'Queued', icon: 'queue', test: r => r.state === 'queued_download' || r.state === 'queued_seed' },
  { id: 'checking', label: 'Checking', icon: 'check', test: r => r.state === 'checking' },
  { id: 'error', label: 'Errored', icon: 'alert', test: r => r.state === 'error' },
];
const groupById = Object.fromEntries(stateGroups.map(g => [g.id, g]));

/** Sort keys by column: numbers or lowercase strings, so comparing is a plain < (no collator in the hot loop). */
const sortKeys = {
  name: r => r._name,
  size: r => r.total_size,
  progress: r => r.progress,
  state: r => stateRank[r.state] ?? 9,
  down: r => r.down_rate,
  up: r => r.up_rate,
  eta: r => r.eta_seconds ?? Number.MAX_SAFE_INTEGER,
  ratio: r => r.ratio,
  peers: r => r.peers * 65536 + r.seeds,
  added: r => r._added,
  category: r => r.category ? r.category.toLowerCase() : '\uffff',
  tags: r => r.tags.length ? r.tags.join(',').toLowerCase() : '\uffff',
  queue: r => r.queue_position,
};
export const sortColumns = Object.keys(sortKeys);

/** How many moved rows are repositioned one by one before a batch sorts everything again. */
const incrementalLimit = 64;

export class TorrentStore {
  constructor() {
    this.rows = new Map();
    this.view = [];
    this.filter = { state: 'all', category: null, tag: null, search: '' };
    this.sort = { key: 'added', desc: true };
    this.listeners = new Set();
    this.words = [];
    this.loaded = false;
  }

  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(change) {
    for (const l of this.listeners) l(change);
  }

  /** Replaces everything with a fresh list (first load, resync). */
  reset(list) {
    this.rows.clear();
    for (const row of list) this.rows.set(row.id, this.decorate(row));
    this.loaded = true;
    this.rebuild();
  }

  /**
   * Shows the first screen from a page the daemon sorted and filtered (the same order this store keeps) while the
   * whole list is on its way; the whole list then replaces it.
   */
  preview(list) {
    if (this.loaded) return;
    this.rows.clear();
    for (const row of list) this.rows.set(row.id, this.decorate(row));
    this.view = list.map(r => r.id);
    this.emit({ structural: true });
  }

  /** The daemon's list query for the first screen in this store's order, or null when the daemon orders differently. */
  previewQuery(limit) {
    const server = { name: 'name', size: 'total_size', progress: 'progress', down: 'down_rate', up: 'up_rate', ratio: 'ratio', peers: 'peers', added: 'added_at', queue: 'queue_position' };
    const f = this.filter;
    if (!server[this.sort.key] || f.category === '' || f.tag === '') return null;
    const q = new URLSearchParams({ sort: server[this.sort.key], reverse: String(this.sort.desc), limit: String(limit) });
    if (f.state && f.state !== 'all') q.set('state', f.state);
    if (f.category) q.set('category', f.category);
    if (f.tag) q.set('tag', f.tag);
    if (f.search.trim()) q.set('search', f.search.trim());
    return q.toString();
  }

  decorate(row) {
    row._name = row.name.toLowerCase();
    row._added = Date.parse(row.added_at) || 0;
    row._k = sortKeys[this.sort.key](row);
    row._in = this.matches(row);
    return row;
  }

  matches(row) {
    const f = this.filter;
    if (!(groupById[f.state] ?? groupById.all).test(row)) return false;
    if (f.category !== null && (f.category === '' ? row.category != null : row.category !== f.category)) return false;
    if (f.tag !== null && (f.tag === '' ? row.tags.length !== 0 : !row.tags.includes(f.tag))) return false;
    for (const w of this.words) if (!row._name.includes(w)) return false;
    return true;
  }

  compare(a, b) {
    const x = a._k, y = b._k;
    const c = x < y ? -1 : x > y ? 1 : a.id - b.id;
    return this.sort.desc ? -c : c;
  }

  /** Filters and sorts every row again. */
  rebuild() {
    const shown = [];
    for (const row of this.rows.values()) if (row._in) shown.push(row);
    shown.sort((a, b) => this.compare(a, b));
    this.view = shown.map(r => r.id);
    this.emit({ structural: true });
  }

  setFilter(patch) {
    Object.assign(this.filter, patch);
    this.words = this.filter.search.toLowerCase().split(/\s+/).filter(Boolean);
    for (const row of this.rows.values()) row._in = this.matches(row);
    this.rebuild();
  }

  setSort(key, desc) {
    if (!(key in sortKeys)) return;
    this.sort = { key, desc };
    const k = sortKeys[key];
    for (const row of this.rows.values()) row._k = k(row);
    this.rebuild();
  }

  /** Applies new or changed rows (an 'updated' or 'added' event, an action's answer). */
  upsert(list) {
    if (!this.loaded || list.length === 0) return;
    const moved = [], changed = new Set();
    let inserted = false;
    for (const row of list) {
      const old = this.rows.get(row.id);
      this.decorate(row);
      this.rows.set(row.id, row);
      if (!old) {
        if (row._in) { moved.push(row); inserted = true; }
      } else if (old._in !== row._in || (row._in && old._k !== row._k)) {
        moved.push(row);
        if (old._in) changed.add(row.id);
      } else if (row._in) {
        changed.add(row.id);
      }
    }
    if (moved.length === 0) {
      this.emit({ structural: false, changed });
      return;
    }
    if (moved.length > incrementalLimit) {
      this.rebuild();
      return;
    }
    // Take the moved rows out (their old places), then put back those still shown, each by binary search:
    // every row left in the view is where its unchanged key says, so the search is sound.
    const gone = new Set(moved.map(r => r.id));
    if (!inserted || moved.length > 1) this.view = this.view.filter(id => !gone.has(id));
    else { const i = this.view.indexOf(moved[0].id); if (i >= 0) this.view.splice(i, 1); }
    for (const row of moved) {
      if (!row._in) continue;
      let lo = 0, hi = this.view.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.compare(this.rows.get(this.view[mid]), row) < 0) lo = mid + 1; else hi = mid;
      }
      this.view.splice(lo, 0, row.id);
    }
    this.emit({ structural: true, changed });
  }

  remove(ids) {
    let any = false;
    const gone = new Set();
    for (const id of ids) {
      const row = this.rows.get(id);
      if (!row) continue;
      this.rows.delete(id);
      any = true;
      if (row._in) gone.add(id);
    }
    if (!any) return;
    if (gone.size) this.view = this.view.filter(id => !gone.has(id));
    this.emit({ structural: true, removed: ids });
  }

  /** Rows per state group, category and tag (for the sidebar), in one pass. */
  counts() {
    const groups = Object.fromEntries(stateGroups.map(g => [g.id, 0]));
    const categories = new Map(), tags = new Map();
    let noCategory = 0, noTag = 0;
    for (const r of this.rows.values()) {
      for (const g of stateGroups) if (g.test(r)) groups[g.id]++;
      if (r.category == null) noCategory++; else categories.set(r.category, (categories.get(r.category) ?? 0) + 1);
      if (r.tags.length === 0) noTag++;
      for (const t of r.tags) tags.set(t, (tags.get(t) ?? 0) + 1);
    }
    return { groups, categories, tags, noCategory, noTag, total: this.rows.size };
  }

  /** Sums of the shown rows' rates and sizes (the list's footer). */
  totals() {
    let size = 0, down = 0, up = 0;
    for (const id of this.view) {
      const r = this.rows.get(id);
      size += r.total_size; down += r.down_rate; up += r.up_rate;
    }
    return { size, down, up };
  }
}
