// Details of one torrent: general, files (a tree with progress and priorities, a play button for media), peers,
// trackers (add and remove) and the piece map. While open it asks the daemon for this one torrent every two seconds.
import * as api from './api.js';
import * as fmt from './format.js';
import { el, setText, toast, openDialog } from './ui.js';
import { icon } from './icons.js';
import { FileTree } from './files.js';
import { drawPieceMap } from './pieces.js';

const tabs = [
  ['general', 'General'], ['files', 'Files'], ['peers', 'Peers'], ['trackers', 'Trackers'], ['pieces', 'Pieces'],
];
const refreshEvery = 2000;

export class Details {
  constructor(app, root) {
    this.app = app;
    this.root = root;
    this.id = null;
    this.tab = 'general';
    this.timer = 0;
    this.generation = 0;
    this.title = el('div.details-title');
    this.tabButtons = new Map(tabs.map(([id, label]) => [id, el('button.tab', {
      type: 'button', role: 'tab', 'aria-selected': 'false', onclick: () => this.showTab(id),
    }, label)]));
    this.body = el('div.details-body', { role: 'tabpanel' });
    const resize = el('div.details-resize', { title: 'Drag to resize' });
    resize.addEventListener('pointerdown', e => this.startResize(e));
    root.append(resize, el('div.details-head',
      el('button.icon-btn.only-narrow', { type: 'button', 'aria-label': 'Back to the list', onclick: () => this.close() }, icon('chevron', 'back')),
      this.title, el('div.tabs', { role: 'tablist' }, [...this.tabButtons.values()]),
      el('button.icon-btn', { type: 'button', 'aria-label': 'Close details', title: 'Close (Esc)', onclick: () => this.close() }, icon('x'))),
    this.body);
    const saved = Number(localStorage.getItem('shoal.detailsHeight'));
    if (saved > 120) root.style.height = `${saved}px`;
    this.files = new FileTree(app);
  }

  open(id, tab) {
    const changed = id !== this.id;
    this.id = id;
    this.root.hidden = false;
    if (changed) {
      this.generation++;
      this.data = null;
      this.files.reset(id);
      this.general = null;
      const row = this.app.store.rows.get(id);
      setText(this.title, row?.name ?? `Torrent ${id}`);
      this.title.title = row?.name ?? '';
    }
    this.showTab(tab, changed);
  }

  showTab(tab, force = false) {
    if (!tabs.some(([id]) => id === tab)) tab = 'general';
    if (tab !== this.tab || force) {
      this.tab = tab;
      for (const [id, button] of this.tabButtons) button.setAttribute('aria-selected', String(id === tab));
      this.body.replaceChildren(el('div.empty-note', 'Loading…'));
      this.general = null;
      this.view = null;
      const hash = `#/t/${this.id}/${tab}`;
      if (location.hash !== hash) history.replaceState(null, '', hash);
    }
    this.refresh();
  }

  close(navigate = true) {
    if (this.id == null) return;
    this.id = null;
    this.root.hidden = true;
    clearTimeout(this.timer);
    this.body.replaceChildren();
    this.files.reset(null);
    if (navigate && location.hash.startsWith('#/t/')) location.hash = '#/';
    requestAnimationFrame(() => { this.app.list.measure(); this.app.list.render(); this.app.list.root.focus({ preventScroll: true }); });
  }

  refreshSoon() {
    if (this.id == null) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), 150);
  }

  async refresh() {
    clearTimeout(this.timer);
    if (this.id == null) return;
    const id = this.id, tab = this.tab, generation = this.generation;
    try {
      const details = await api.get(`torrents/${id}`);
      if (id !== this.id) return;
      this.data = details;
      setText(this.title, details.torrent.name);
      this.title.title = details.torrent.name;
      if (tab !== this.tab) return;
      if (tab === 'general') this.renderGeneral(details);
      else if (tab === 'files') await this.files.refresh(this.body, details, () => id === this.id && this.tab === 'files' && generation === this.generation);
      else if (tab === 'peers') this.renderPeers(await api.get(`torrents/${id}/peers`));
      else if (tab === 'trackers') this.renderTrackers(await api.get(`torrents/${id}/trackers`), details);
      else if (tab === 'pieces') this.renderPieces(await api.get(`torrents/${id}/pieces`), details);
    } catch (e) {
      if (id !== this.id) return;
      if (e.status === 404 && tab !== 'pieces') {
        toast('This torrent is no longer in the daemon.', 'info');
        this.close();
        return;
      }
      if (e.status !== 0) this.body.replaceChildren(el('div.empty-note', e.message));
    }
    if (id === this.id && !document.hidden) this.timer = setTimeout(() => this.refresh(), refreshEvery);
  }

  // ---- general ---------------------------------------------------------------------------------------------------

  renderGeneral(d) {
    const t = d.torrent;
    const s = d.settings ?? {};
    const values = [
      ['Status', `${fmt.stateLabels[t.state] ?? t.state}${t.state_reason ? ` · ${t.state_reason}` : ''}`],
      ['Error', t.error ?? ''],
      ['Progress', `${fmt.percent(t.progress)} · ${fmt.size(t.done_bytes)} of ${fmt.size(t.wanted_size)}`],
      ['Size', t.has_metadata ? `${fmt.size(t.total_size)} in ${fmt.count(t.file_count)} file${t.file_count === 1 ? '' : 's'}` : 'metadata not known yet'],
      ['Pieces', t.has_metadata ? `${fmt.count(t.piece_count)} × ${fmt.size(t.piece_size)} · ${fmt.count(d.verified_pieces)} verified${d.failed_pieces ? ` · ${d.failed_pieces} failed` : ''}` : '–'],
      ['Rates', `↓ ${fmt.rate(t.down_rate)} · ↑ ${fmt.rate(t.up_rate)}`],
      ['ETA', t.eta_seconds == null ? '–' : fmt.eta(t.eta_seconds)],
      ['Downloaded', fmt.size(t.downloaded)],
      ['Uploaded', fmt.size(t.uploaded)],
      ['Ratio', fmt.ratio(t.ratio)],
      ['Peers', `${fmt.plural(t.seeds, 'seed')}, ${fmt.plural(t.peers, 'peer')} connected`],
      ['Seeding time', fmt.duration(t.seeding_seconds)],
      ['Active time', fmt.duration(t.active_seconds)],
      ['Added', fmt.dateTime(t.added_at)],
      ['Completed', t.completed_at ? fmt.dateTime(t.completed_at) : '–'],
      ['Last activity', t.last_activity ? fmt.relative(t.last_activity) : '–'],
      ['Save path', t.save_path],
      ['Category', t.category ?? '–'],
      ['Tags', t.tags.join(', ') || '–'],
      ['Queue position', String(t.queue_position + 1)],
      ['Info-hash', t.info_hash],
      ['Created', [d.created_at ? fmt.dateTime(d.created_at) : null, d.created_by].filter(Boolean).join(' by ') || '–'],
      ['Comment', d.comment ?? '–'],
      ['Private', d.is_private ? 'yes: no DHT, PEX or local discovery' : 'no'],
    ];
    if (!this.general) {
      const cells = new Map();
      const list = el('dl.kv');
      for (const [label] of values) {
        const dd = el('dd');
        if (label === 'Error') dd.classList.add('error');
        if (label === 'Info-hash' || label === 'Save path') dd.classList.add('mono');
        const row = el('div', el('dt', label), dd);
        cells.set(label, { dd, row });
        list.append(row);
      }
      const magnet = el('button.copy', { type: 'button', onclick: () => copy(this.data?.magnet, 'Magnet link copied.') }, 'Copy magnet link');
      cells.get('Info-hash').dd.after(magnet);
      this.general = { cells, options: this.optionsForm(d) };
      this.body.replaceChildren(el('div.details-pad', list, this.general.options.form));
    }
    for (const [label, value] of values) {
      const { dd, row } = this.general.cells.get(label);
      setText(dd, value);
      row.hidden = label === 'Error' && !value;
    }
    this.general.options.update(t, s);
  }

  optionsForm(d) {
    const down = el('input', { type: 'number', min: '0', step: '1', inputmode: 'numeric', 'aria-label': 'Download limit in KiB/s' });
    const up = el('input', { type: 'number', min: '0', step: '1', inputmode: 'numeric', 'aria-label': 'Upload limit in KiB/s' });
    const sequential = el('input.switch', { type: 'checkbox', 'aria-label': 'Download in order' });
    const id = d.torrent.id;
    const save = el('button.btn', { type: 'submit' }, 'Apply');
    const form = el('form.inline-form', {
      onsubmit: async e => {
        e.preventDefault();
        try {
          await api.post(`torrents/${id}/options`, { download_limit: fmt.fromKiB(down.value), upload_limit: fmt.fromKiB(up.value), sequential: sequential.checked });
          toast('Options applied.', 'ok');
          this.refreshSoon();
        } catch (err) {
          toast(err.message, 'error', 'Could not change the options');
        }
      },
    },
    el('label.field', el('span', 'Download limit'), el('div.unit-input', down, el('span', 'KiB/s'))),
    el('label.field', el('span', 'Upload limit'), el('div.unit-input', up, el('span', 'KiB/s'))),
    el('label.check', sequential, 'Download in order'),
    save);
    let filled = false;
    return {
      form,
      update: (t, s) => {
        if (filled && form.contains(document.activeElement)) return;
        filled = true;
        down.value = fmt.toKiB(s.download_limit ?? t.download_limit);
        up.value = fmt.toKiB(s.upload_limit ?? t.upload_limit);
        sequential.checked = s.sequential ?? t.sequential;
      },
    };
  }

  // ---- peers -----------------------------------------------------------------------------------------------------

  renderPeers(peers) {
    if (!peers.length) {
      const row = this.app.store.rows.get(this.id);
      this.body.replaceChildren(el('div.empty-note', row && (row.state === 'paused' || row.state.startsWith('queued')) ? 'Not connected to any peer while it is not running.' : 'No peer connected.'));
      return;
    }
    peers.sort((a, b) => b.down_rate - a.down_rate || b.up_rate - a.up_rate || a.address.localeCompare(b.address));
    const flagsHelp = 'D/d: downloading from it / want to; U/u: uploading to it / it wants to; I: incoming; X: from PEX; H: from the DHT; L: local discovery';
    this.body.replaceChildren(el('table.grid',
      el('thead', el('tr', ['Address', 'Client', 'Flags', 'Transport', 'Source', 'Progress', 'Down', 'Up', 'Downloaded', 'Uploaded'].map((h, i) =>
        el(i >= 6 ? 'th.num' : 'th', h === 'Flags' ? { title: flagsHelp } : null, h)))),
      el('tbody', peers.map(p => el('tr',
        el('td.mono', p.address),
        el('td', { title: p.client }, p.client || '–'),
        el('td.flags', { title: flagsHelp }, p.flags || '–'),
        el('td', p.transport === 'utp' ? 'µTP' : p.transport.toUpperCase()),
        el('td', p.source),
        el('td', el('div.file-progress', el('div.bar', barFill(p.progress)), el('span.pct', fmt.percent(p.progress)))),
        el('td.num', fmt.cellRate(p.down_rate)),
        el('td.num', fmt.cellRate(p.up_rate)),
        el('td.num', fmt.size(p.downloaded)),
        el('td.num', fmt.size(p.uploaded)))))));
  }

  // ---- trackers --------------------------------------------------------------------------------------------------

  renderTrackers(trackers, d) {
    const extra = d.settings?.trackers ?? [];
    const id = d.torrent.id;
    const setExtra = async (list, done) => {
      try {
        await api.post(`torrents/${id}/options`, { trackers: list });
        toast(done, 'ok');
        this.refreshSoon();
        return true;
      } catch (e) {
        toast(e.message, 'error', 'Could not change the trackers');
        return false;
      }
    };
    const table = trackers.length ? el('table.grid',
      el('thead', el('tr', ['URL', 'Tier', 'Status', 'Peers', 'Seeds', 'Leechers', 'Last announce', 'Next announce', 'Message', ''].map((h, i) =>
        el(i >= 3 && i <= 5 ? 'th.num' : 'th', h)))),
      el('tbody', trackers.map(t => el('tr',
        el('td.mono', { title: t.url }, t.url),
        el('td.num', String(t.tier + 1)),
        el('td', el(`span.pill${t.status === 'working' ? '.ok' : t.status === 'error' ? '.bad' : ''}`, t.status)),
        el('td.num', String(t.peers)),
        el('td.num', t.seeds == null ? '–' : String(t.seeds)),
        el('td.num', t.leechers == null ? '–' : String(t.leechers)),
        el('td', t.last_announce ? fmt.relative(t.last_announce) : '–'),
        el('td', t.next_announce ? fmt.relative(t.next_announce) : '–'),
        el('td.wrap', { title: t.last_error ?? t.message ?? '' }, t.last_error ?? t.message ?? ''),
        el('td', extra.includes(t.url)
          ? el('button.btn.play', { type: 'button', title: 'Remove this tracker', onclick: () => setExtra(extra.filter(u => u !== t.url), 'Tracker removed.') }, icon('trash'), 'Remove')
          : el('span.muted', { title: 'Named in the torrent itself' }, 'built in'))))))
      : el('div.empty-note', 'This torrent names no tracker.');
    const input = el('textarea', { rows: '2', placeholder: 'udp://tracker.example:1337/announce (one per line)', 'aria-label': 'Trackers to add' });
    const form = el('form.inline-form', {
      onsubmit: e => {
        e.preventDefault();
        // The form outlives refreshes (only the table is replaced): read the extra trackers of the latest answer.
        const current = this.view?.kind === 'trackers' ? this.view.extra : extra;
        const urls = input.value.split('\n').map(s => s.trim()).filter(Boolean);
        if (urls.length) {
          setExtra([...current, ...urls.filter(u => !current.includes(u))], urls.length === 1 ? 'Tracker added.' : `${urls.length} trackers added.`)
            .then(ok => { if (ok) input.value = ''; });
        }
      },
    }, el('label.field', { style: null }, el('span', 'Add trackers'), input), el('button.btn', { type: 'submit' }, icon('plus'), 'Add'));
    form.firstChild.style.flex = '1';
    // Keep what the user is typing across refreshes.
    if (this.view?.kind === 'trackers') {
      input.value = this.view.input.value;
      const focused = document.activeElement === this.view.input;
      this.view.table.replaceWith(table);
      this.view.table = table;
      this.view.extra = extra;
      if (focused) this.view.input.focus();
      return;
    }
    this.view = { kind: 'trackers', table, input, extra };
    this.body.replaceChildren(table, el('div.details-pad', form));
  }

  // ---- pieces ----------------------------------------------------------------------------------------------------

  renderPieces(map, d) {
    if (!d.torrent.has_metadata) {
      this.body.replaceChildren(el('div.empty-note', 'The piece map appears once the metadata is known.'));
      return;
    }
    if (this.view?.kind !== 'pieces') {
      const canvas = el('canvas.piece-map', { role: 'img' });
      const legend = el('div.piece-legend');
      this.view = { kind: 'pieces', canvas, legend };
      this.body.replaceChildren(el('div.piece-map-wrap', legend, canvas));
    }
    const { canvas, legend } = this.view;
    const counts = drawPieceMap(canvas, map);
    canvas.setAttribute('aria-label', `${counts.have} of ${map.piece_count} pieces verified, ${counts.downloading} downloading`);
    legend.replaceChildren(
      el('span', el('i.have'), `Have ${fmt.count(counts.have)}`),
      el('span', el('i.partial'), `Downloading ${fmt.count(counts.downloading)}`),
      el('span', el('i.missing'), `Missing ${fmt.count(map.piece_count - counts.have - counts.downloading)}`),
      el('span.muted', `${fmt.count(map.piece_count)} pieces of ${fmt.size(map.piece_size)}`));
  }

  // ---- resizing --------------------------------------------------------------------------------------------------

  startResize(e) {
    e.preventDefault();
    const startY = e.clientY, startH = this.root.offsetHeight;
    const move = ev => {
      const h = Math.max(140, Math.min(innerHeight - 200, startH + startY - ev.clientY));
      this.root.style.height = `${h}px`;
    };
    const up = () => {
      removeEventListener('pointermove', move);
      removeEventListener('pointerup', up);
      localStorage.setItem('shoal.detailsHeight', String(this.root.offsetHeight));
      this.app.list.measure();
      this.app.list.render();
    };
    addEventListener('pointermove', move);
    addEventListener('pointerup', up);
  }
}

export function barFill(progress) {
  const fill = el('i');
  fill.style.transform = `scaleX(${progress})`;
  return fill;
}

async function copy(text, done) {
  if (!text) return;
  try {
    await navigator.clipboard.writeText(text);
    toast(done, 'ok');
  } catch {
    openDialog(() => ({ title: 'Magnet link', body: el('textarea', { rows: '4', readonly: true, autofocus: true }, text) }));
  }
}
