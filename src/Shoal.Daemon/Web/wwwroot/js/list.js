// The torrent list, virtualised: a fixed pool of row elements (what fits on screen plus a margin) is moved and
// refilled as the list scrolls, so the DOM holds a few dozen rows whatever the number of torrents. Each row keeps
// what it last wrote to each cell and writes only what changed: an update of one torrent touches one row's cells.
import * as fmt from './format.js';
import { el, setText } from './ui.js';
import { icon } from './icons.js';

export const columns = [
  { id: 'check', label: '', cls: 'check-cell' },
  { id: 'name', label: 'Name', sort: 'name', cls: 'name' },
  { id: 'size', label: 'Size', sort: 'size', cls: 'size', num: true, desc: true },
  { id: 'progress', label: 'Progress', sort: 'progress', cls: 'progress-cell', desc: true },
  { id: 'state', label: 'Status', sort: 'state', cls: 'state-cell' },
  { id: 'down', label: 'Down', sort: 'down', cls: 'down-rate', num: true, desc: true },
  { id: 'up', label: 'Up', sort: 'up', cls: 'up-rate', num: true, desc: true },
  { id: 'eta', label: 'ETA', sort: 'eta', cls: 'eta', num: true },
  { id: 'ratio', label: 'Ratio', sort: 'ratio', cls: 'ratio', num: true, desc: true },
  { id: 'peers', label: 'Peers', sort: 'peers', cls: 'peers', num: true, desc: true, title: 'Seeds / peers connected' },
  { id: 'added', label: 'Added', sort: 'added', cls: 'added', num: true, desc: true },
  { id: 'category', label: 'Category', sort: 'category', cls: 'category' },
  { id: 'tags', label: 'Tags', sort: 'tags', cls: 'tags' },
];

/** Rows drawn above and below the visible ones, so a fast flick shows rows rather than blank space. */
const overscan = 8;

const narrow = matchMedia('(max-width: 720px)');

export class TorrentList {
  constructor(store, { root, head, body, empty }, callbacks) {
    this.store = store;
    this.root = root;
    this.head = head;
    this.body = body;
    this.empty = empty;
    this.callbacks = callbacks;
    this.pool = [];
    this.rowH = 38;
    this.selected = new Set();
    this.anchor = null;
    this.focusId = null;
    this.frame = 0;
    this.fullPending = false;
    this.changedPending = new Set();
    this.bodyHeight = -1;
    this.buildHead();
    this.measure();
    // Scroll events come before the frame's animation callbacks: drawing right here puts the rows in place in the
    // same frame the browser scrolls (a frame later would flash blank space at the edge on a fast flick).
    root.addEventListener('scroll', () => { this.fullPending = true; this.render(); }, { passive: true });
    new ResizeObserver(() => { this.measure(); this.schedule(true); }).observe(root);
    narrow.addEventListener('change', () => { this.measure(); this.schedule(true); });
    body.addEventListener('click', e => this.onClick(e));
    body.addEventListener('dblclick', e => { const id = this.idAt(e); if (id != null) this.callbacks.onOpen(id); });
    body.addEventListener('contextmenu', e => this.onContextMenu(e));
    root.addEventListener('keydown', e => this.onKey(e));
    store.subscribe(change => this.onStoreChange(change));
  }

  // ---- header ------------------------------------------------------------------------------------------------

  buildHead() {
    this.headCells = new Map();
    for (const c of columns) {
      if (c.id === 'check') {
        this.headCheck = el('input', { type: 'checkbox', 'aria-label': 'Select all shown torrents', onchange: e => this.selectAll(e.target.checked) });
        this.head.append(el('div.head-cell.check-cell', { role: 'columnheader' }, this.headCheck));
        continue;
      }
      const cell = el(`div.head-cell${c.num ? '.num' : ''}`, { role: 'columnheader', tabindex: '-1', title: c.title ?? `Sort by ${c.label.toLowerCase()}`, 'data-sort': c.sort },
        c.num ? icon('up', 'sort-arrow') : null, c.label, c.num ? null : icon('up', 'sort-arrow'));
      cell.addEventListener('click', () => {
        const s = this.store.sort;
        this.store.setSort(c.sort, s.key === c.sort ? !s.desc : !!c.desc);
        this.callbacks.onSortChange?.();
      });
      this.headCells.set(c.sort, cell);
      this.head.append(cell);
    }
    this.updateHead();
  }

  updateHead() {
    const { key, desc } = this.store.sort;
    for (const [sort, cell] of this.headCells) {
      const value = sort === key ? (desc ? 'descending' : 'ascending') : 'none';
      if (cell.getAttribute('aria-sort') !== value) cell.setAttribute('aria-sort', value);
    }
  }

  // ---- layout ------------------------------------------------------------------------------------------------

  measure() {
    const h = parseFloat(getComputedStyle(this.root).getPropertyValue('--row-h')) || 38;
    if (h !== this.rowH) {
      this.rowH = h;
      for (const slot of this.pool) slot.idx = -1;
    }
    this.viewportH = this.root.clientHeight;
    const wanted = Math.ceil(this.viewportH / this.rowH) + 2 * overscan + 1;
    if (wanted > this.pool.length) {
      for (let i = this.pool.length; i < wanted; i++) this.pool.push(this.makeSlot());
      for (const slot of this.pool) slot.idx = -1; // the modulo changed: every slot takes a new place
    }
  }

  makeSlot() {
    const check = el('input', { type: 'checkbox', tabindex: '-1', 'aria-label': 'Select' });
    const name = el('div.cell.name', { role: 'gridcell' });
    const size = el('div.cell.num.size', { role: 'gridcell' });
    const fill = el('i');
    const bar = el('div.bar', fill);
    const pct = el('span.pct');
    const progress = el('div.cell.progress-cell', { role: 'gridcell' }, el('div.progress', bar, pct));
    const stateB = el('b'), stateSpan = el('span');
    const stateText = el('span.state-text', stateB, stateSpan);
    const state = el('div.cell.state-cell', { role: 'gridcell' }, el('div.state', el('span.state-dot'), stateText));
    const down = el('div.cell.num.down-rate', { role: 'gridcell' });
    const up = el('div.cell.num.up-rate', { role: 'gridcell' });
    const eta = el('div.cell.num.eta', { role: 'gridcell' });
    const ratio = el('div.cell.num.ratio', { role: 'gridcell' });
    const peers = el('div.cell.num.peers', { role: 'gridcell' });
    const added = el('div.cell.num.added.dim', { role: 'gridcell' });
    const category = el('div.cell.category', { role: 'gridcell' });
    const tags = el('div.cell.tags.dim', { role: 'gridcell' });
    const row = el('div.row', { role: 'row', hidden: true },
      el('div.cell.check-cell', { role: 'gridcell' }, check), name, size, progress, state, down, up, eta, ratio, peers, added, category, tags);
    this.body.append(row);
    return { row, check, name, size, bar, fill, pct, state, stateText, stateB, stateSpan, down, up, eta, ratio, peers, added, category, tags, id: null, idx: -1, v: {} };
  }

  // ---- rendering -----------------------------------------------------------------------------------------------

  onStoreChange(change) {
    if (change.structural) {
      this.fullPending = true;
      if (change.removed) for (const id of change.removed) this.selected.delete(id);
      this.updateHead();
    } else {
      for (const id of change.changed) this.changedPending.add(id);
    }
    this.schedule(false);
  }

  schedule(full) {
    if (full) this.fullPending = true;
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  /** Draws now (tests and the first screen call it without waiting for a frame). */
  render() {
    if (this.frame) { cancelAnimationFrame(this.frame); this.frame = 0; }
    const view = this.store.view;
    const n = view.length;
    const rowH = this.rowH;
    const height = n * rowH;
    if (height !== this.bodyHeight) { this.body.style.height = `${height}px`; this.bodyHeight = height; }
    this.empty.hidden = n > 0 || !this.store.loaded;
    if (n === 0 && this.store.loaded) this.renderEmpty();
    const poolSize = this.pool.length;
    const top = this.root.scrollTop;
    const first = Math.max(0, Math.min(Math.floor(top / rowH) - overscan, n - poolSize));
    const last = Math.min(n, first + poolSize);
    const full = this.fullPending;
    this.fullPending = false;
    const changed = this.changedPending;
    this.changedPending = new Set();
    for (let i = first; i < first + poolSize; i++) {
      const slot = this.pool[i % poolSize];
      if (i >= last) {
        if (!slot.row.hidden) { slot.row.hidden = true; slot.id = null; slot.idx = -1; }
        continue;
      }
      const id = view[i];
      if (slot.idx !== i) {
        slot.idx = i;
        slot.row.style.transform = `translateY(${i * rowH}px)`;
        if (slot.row.hidden) slot.row.hidden = false;
        this.bind(slot, id, i);
      } else if (full || slot.id !== id || changed.has(id)) {
        this.bind(slot, id, i);
      }
    }
    if (!this.firstRows && last > first) {
      this.firstRows = true;
      performance.mark('shoal:first-rows'); // what the browser test reads: the first screen of rows is in the DOM
    }
    this.callbacks.onRendered?.();
  }

  bind(slot, id, index) {
    const r = this.store.rows.get(id);
    const v = slot.v;
    if (slot.id !== id) {
      slot.id = id;
      slot.row.dataset.id = id;
    }
    if (v.index !== index) { v.index = index; slot.row.setAttribute('aria-rowindex', index + 2); }
    const selected = this.selected.has(id);
    if (v.selected !== selected) {
      v.selected = selected;
      slot.row.classList.toggle('selected', selected);
      slot.row.setAttribute('aria-selected', selected);
      slot.check.checked = selected;
    }
    const focused = this.focusId === id;
    if (v.focused !== focused) { v.focused = focused; slot.row.classList.toggle('focused', focused); }
    if (v.name !== r.name) { v.name = r.name; slot.name.textContent = r.name; slot.name.title = r.name; }
    put(slot, 'size', r.has_metadata ? fmt.size(r.total_size) : '–');
    if (v.progress !== r.progress) {
      v.progress = r.progress;
      slot.fill.style.transform = `scaleX(${r.progress})`;
      setText(slot.pct, fmt.percent(r.progress));
    }
    const barKind = r.state === 'error' ? 'error' : r.state === 'checking' ? 'checking' : r.state === 'paused' ? 'paused' : r.progress >= 1 ? 'done' : '';
    if (v.barKind !== barKind) { v.barKind = barKind; slot.bar.className = barKind ? `bar ${barKind}` : 'bar'; }
    if (v.state !== r.state) {
      v.state = r.state;
      slot.row.dataset.state = r.state;
      setText(slot.stateB, fmt.stateLabels[r.state] ?? r.state);
    }
    const reason = r.error ?? reasonText(r.state_reason, fmt.stateLabels[r.state]);
    if (v.reason !== reason) {
      v.reason = reason;
      setText(slot.stateSpan, reason ? ` · ${reason}` : '');
      slot.stateText.title = r.error ?? r.state_reason ?? '';
    }
    putRate(slot, 'down', r.down_rate);
    putRate(slot, 'up', r.up_rate);
    put(slot, 'eta', r.eta_seconds == null ? '' : fmt.eta(r.eta_seconds));
    put(slot, 'ratio', fmt.ratio(r.ratio));
    put(slot, 'peers', r.peers || r.seeds ? `${r.seeds} / ${r.peers}` : '–');
    put(slot, 'added', fmt.date(r._added));
    if (v.addedTitle !== r.added_at) { v.addedTitle = r.added_at; slot.added.title = fmt.dateTime(r._added); }
    put(slot, 'category', r.category ?? '');
    put(slot, 'tags', r.tags.join(', '));
  }

  renderEmpty() {
    const none = this.store.rows.size === 0;
    const key = none ? 'none' : 'filtered';
    if (this.empty.dataset.kind === key) return;
    this.empty.dataset.kind = key;
    this.empty.replaceChildren(none
      ? el('div.empty-card', icon('download'), el('strong', 'No torrents yet'),
        el('span', 'Add a magnet link or a .torrent file with the Add button, press A, or drop .torrent files anywhere on this page.'))
      : el('div.empty-card', icon('search'), el('strong', 'Nothing matches'), el('span', 'No torrent matches the filters on the left and the text above.')));
  }

  // ---- selection ---------------------------------------------------------------------------------------------

  idAt(e) {
    const row = e.target.closest('.row');
    return row && row.dataset.id ? Number(row.dataset.id) : null;
  }

  onClick(e) {
    const id = this.idAt(e);
    if (id == null) return;
    const onCheck = e.target.closest('.check-cell');
    if (onCheck) {
      this.toggle(id);
      this.anchor = id;
    } else if (e.shiftKey && this.anchor != null) {
      this.selectRange(this.anchor, id, e.ctrlKey || e.metaKey);
    } else if (e.ctrlKey || e.metaKey) {
      this.toggle(id);
      this.anchor = id;
    } else if (narrow.matches) {
      this.callbacks.onOpen(id);
      return;
    } else {
      this.selected.clear();
      this.selected.add(id);
      this.anchor = id;
    }
    this.focusId = id;
    this.root.focus({ preventScroll: true });
    this.selectionChanged();
  }

  onContextMenu(e) {
    const id = this.idAt(e);
    if (id == null) return;
    e.preventDefault();
    if (!this.selected.has(id)) {
      this.selected.clear();
      this.selected.add(id);
      this.anchor = id;
      this.focusId = id;
      this.selectionChanged();
    }
    this.callbacks.onContextMenu?.(e.clientX, e.clientY);
  }

  toggle(id) {
    if (this.selected.has(id)) this.selected.delete(id); else this.selected.add(id);
  }

  selectRange(fromId, toId, add) {
    const view = this.store.view;
    let a = view.indexOf(fromId), b = view.indexOf(toId);
    if (a < 0) a = b;
    if (a > b) [a, b] = [b, a];
    if (!add) this.selected.clear();
    for (let i = a; i <= b; i++) this.selected.add(view[i]);
  }

  selectAll(on) {
    this.selected.clear();
    if (on) for (const id of this.store.view) this.selected.add(id);
    this.selectionChanged();
  }

  clearSelection() {
    if (this.selected.size === 0) return;
    this.selected.clear();
    this.selectionChanged();
  }

  selectionChanged() {
    const shown = this.store.view.length;
    this.headCheck.checked = shown > 0 && this.selected.size >= shown && this.store.view.every(id => this.selected.has(id));
    this.headCheck.indeterminate = this.selected.size > 0 && !this.headCheck.checked;
    this.callbacks.onSelectionChange?.([...this.selected]);
    this.schedule(true);
  }

  /** The selected ids that still exist. */
  selection() {
    return [...this.selected].filter(id => this.store.rows.has(id));
  }

  // ---- keyboard ------------------------------------------------------------------------------------------------

  onKey(e) {
    const view = this.store.view;
    if (e.target !== this.root || view.length === 0) return;
    const page = Math.max(1, Math.floor(this.viewportH / this.rowH) - 1);
    let i = this.focusId == null ? -1 : view.indexOf(this.focusId);
    let next = null;
    switch (e.key) {
      case 'ArrowDown': case 'j': next = Math.min(view.length - 1, i + 1); break;
      case 'ArrowUp': case 'k': next = Math.max(0, i < 0 ? 0 : i - 1); break;
      case 'PageDown': next = Math.min(view.length - 1, i + page); break;
      case 'PageUp': next = Math.max(0, i - page); break;
      case 'Home': next = 0; break;
      case 'End': next = view.length - 1; break;
      case ' ':
        if (this.focusId != null) { this.toggle(this.focusId); this.anchor = this.focusId; this.selectionChanged(); }
        e.preventDefault();
        return;
      case 'Enter':
        if (this.focusId != null) this.callbacks.onOpen(this.focusId);
        e.preventDefault();
        return;
      case 'a':
        if (e.ctrlKey || e.metaKey) { this.selectAll(true); e.preventDefault(); e.stopPropagation(); }
        return;
      default:
        return;
    }
    e.preventDefault();
    const id = view[next];
    if (e.shiftKey) this.selectRange(this.anchor ?? id, id, false);
    else { this.selected.clear(); this.selected.add(id); this.anchor = id; }
    this.focusId = id;
    this.scrollToIndex(next);
    this.selectionChanged();
  }

  scrollToIndex(i) {
    const y = i * this.rowH;
    const headH = this.head.offsetHeight;
    if (y < this.root.scrollTop) this.root.scrollTop = y;
    else if (y + this.rowH > this.root.scrollTop + this.viewportH - headH) this.root.scrollTop = y + this.rowH - this.viewportH + headH;
  }
}

function put(slot, key, text) {
  if (slot.v[key] !== text) {
    slot.v[key] = text;
    slot[key].textContent = text;
  }
}

function putRate(slot, key, bytes) {
  const text = fmt.cellRate(bytes);
  if (slot.v[key] !== text) {
    slot.v[key] = text;
    slot[key].textContent = text;
    slot[key].classList.toggle('zero', !bytes);
  }
}

/** The daemon's reason without the state word it starts with ("downloading: stalled" -> "stalled"). */
function reasonText(reason, label) {
  if (!reason) return '';
  const colon = reason.indexOf(': ');
  const text = colon > 0 && colon < 24 ? reason.slice(colon + 2) : reason;
  return text.toLowerCase() === label?.toLowerCase() ? '' : text;
}
