// A torrent's files as a tree: folders fold, sizes and progress add up, a priority set on a folder applies to every
// file in it, and audio and video files get a play button that streams them from the daemon while they download.
import * as api from './api.js';
import * as fmt from './format.js';
import { el, toast, openDialog } from './ui.js';
import { icon } from './icons.js';

const video = /\.(mp4|m4v|webm|mkv|mov|ogv)$/i;
const audio = /\.(mp3|m4a|aac|oga|ogg|opus|flac|wav)$/i;
const priorities = [['high', 'High'], ['normal', 'Normal'], ['low', 'Low'], ['skip', 'Skip']];

export class FileTree {
  constructor(app) {
    this.app = app;
    this.reset(null);
  }

  reset(id) {
    this.id = id;
    this.root = null;
    this.table = null;
    this.byIndex = [];
  }

  async refresh(body, details, stillCurrent) {
    const files = await api.get(`torrents/${details.torrent.id}/files`);
    if (!stillCurrent()) return;
    if (!files.length) {
      this.root = null;
      body.replaceChildren(el('div.empty-note', 'The file list appears once the metadata is known.'));
      return;
    }
    if (!this.root || this.byIndex.length !== files.length || !body.contains(this.table)) {
      this.build(files, details.torrent);
      body.replaceChildren(this.table);
    } else {
      this.apply(files);
    }
  }

  build(files, torrent) {
    this.torrent = torrent;
    const root = folder('', '', -1);
    this.byIndex = new Array(files.length);
    for (const f of files) {
      const parts = f.path.split('/');
      if (parts.includes('.pad')) { this.byIndex[f.index] = null; continue; } // BEP 47 padding: never shown
      let node = root;
      for (let i = 0; i < parts.length - 1; i++) {
        let next = node.children.get(parts[i]);
        if (!next) { next = folder(parts[i], parts.slice(0, i + 1).join('/'), node.depth + 1); node.children.set(parts[i], next); }
        node = next;
      }
      const leaf = { name: parts.at(-1), path: f.path, depth: node.depth + 1, index: f.index, file: f, children: null };
      node.children.set(`\u0000${f.index}`, leaf);
      this.byIndex[f.index] = leaf;
    }
    // Open the first levels, unless the torrent has very many files.
    const many = files.length > 300;
    const openTo = (node, depth) => {
      if (!node.children) return;
      node.open = depth < (many ? 1 : 3);
      for (const c of node.children.values()) openTo(c, depth + 1);
    };
    for (const c of root.children.values()) openTo(c, 0);
    this.root = root;
    this.tbody = el('tbody');
    this.table = el('table.grid.files',
      el('thead', el('tr', el('th', 'Name'), el('th.num', 'Size'), el('th', 'Progress'), el('th', 'Priority'), el('th', ''))),
      this.tbody);
    this.aggregate(root);
    this.renderRows();
  }

  apply(files) {
    for (const f of files) {
      const leaf = this.byIndex[f.index];
      if (leaf) leaf.file = f;
    }
    this.aggregate(this.root);
    for (const node of this.visible) this.updateRow(node);
  }

  /** Sums sizes and done bytes up the tree; a folder's priority is its files' when they agree, else 'mixed'. */
  aggregate(node) {
    if (!node.children) return;
    let size = 0, done = 0, priority = null;
    for (const c of node.children.values()) {
      if (c.children) {
        this.aggregate(c);
        size += c.size; done += c.done;
        priority = priority === null ? c.priority : priority === c.priority ? priority : 'mixed';
      } else {
        size += c.file.size; done += c.file.done;
        priority = priority === null ? c.file.priority : priority === c.file.priority ? priority : 'mixed';
      }
    }
    node.size = size;
    node.done = done;
    node.priority = priority ?? 'normal';
  }

  renderRows() {
    const rows = [];
    const visible = [];
    const walk = node => {
      const children = [...node.children.values()].sort((a, b) => (!!b.children - !!a.children) || a.name.localeCompare(b.name, undefined, { numeric: true }));
      for (const c of children) {
        visible.push(c);
        rows.push(c.row ??= this.makeRow(c));
        this.updateRow(c);
        if (c.children && c.open) walk(c);
      }
    };
    walk(this.root);
    this.visible = visible;
    this.tbody.replaceChildren(...rows);
  }

  makeRow(node) {
    const isFolder = !!node.children;
    const twist = isFolder
      ? el(`button.twist${node.open ? '.open' : ''}`, { type: 'button', 'aria-label': 'Open or close the folder', 'aria-expanded': String(!!node.open) }, icon('chevron'))
      : el('span.twist-gap');
    if (isFolder) twist.addEventListener('click', () => { node.open = !node.open; twist.classList.toggle('open', node.open); twist.setAttribute('aria-expanded', String(node.open)); this.renderRows(); });
    const kind = isFolder ? 'folder' : video.test(node.name) ? 'film' : audio.test(node.name) ? 'music' : 'file';
    const name = el('div.tree-name', twist, icon(kind, 'kind'), el('span.label', { title: node.path }, node.name));
    name.style.paddingLeft = `${node.depth * 18}px`;
    const fill = el('i');
    const bar = el('div.bar', fill);
    const pct = el('span.pct');
    const select = el('select.prio', { 'aria-label': `Priority of ${node.name}` },
      el('option', { value: 'mixed', disabled: true, hidden: true }, 'Mixed'),
      priorities.map(([v, label]) => el('option', { value: v }, label)));
    select.addEventListener('change', () => this.setPriority(node, select.value));
    const media = !isFolder && (video.test(node.name) || audio.test(node.name));
    const play = media ? el('button.btn.play', { type: 'button', title: 'Play in the browser while it downloads', onclick: () => openPlayer(this.torrent, node.file, video.test(node.name)) }, icon('play'), 'Play') : '';
    const size = el('td.num');
    const row = el('tr', { dataset: isFolder ? { path: node.path, folder: '' } : { index: String(node.index), path: node.path } },
      el('td', name), size, el('td', el('div.file-progress', bar, pct)), el('td', select), el('td', play));
    node.cells = { size, fill, pct, select, bar };
    return row;
  }

  updateRow(node) {
    const c = node.cells;
    const size = node.children ? node.size : node.file.size;
    const done = node.children ? node.done : node.file.done;
    const priority = node.children ? node.priority : node.file.priority;
    const progress = size > 0 ? Math.min(1, done / size) : 1;
    const sizeText = fmt.size(size);
    if (c.size.textContent !== sizeText) c.size.textContent = sizeText;
    c.fill.style.transform = `scaleX(${progress})`;
    const pctText = fmt.percent(progress);
    if (c.pct.textContent !== pctText) c.pct.textContent = pctText;
    c.bar.classList.toggle('done', progress >= 1);
    if (document.activeElement !== c.select && c.select.value !== priority) c.select.value = priority;
    node.row.classList.toggle('skipped', priority === 'skip');
  }

  async setPriority(node, priority) {
    const indices = [];
    const collect = n => { if (n.children) for (const c of n.children.values()) collect(c); else indices.push(n.index); };
    collect(node);
    try {
      const files = await api.post(`torrents/${this.torrent.id}/files/priority`, { files: indices, priority });
      this.apply(files);
    } catch (e) {
      toast(e.message, 'error', 'Could not change the priority');
      this.aggregate(this.root);
      for (const n of this.visible) this.updateRow(n);
    }
  }
}

function folder(name, path, depth) {
  return { name, path, depth, children: new Map(), open: false, size: 0, done: 0, priority: 'normal' };
}

/** The browser's own player on the daemon's streaming URL: it plays while the file is still downloading. */
export function openPlayer(torrent, file, isVideo) {
  const url = `/stream/${torrent.info_hash}/${file.index}`;
  const media = el(isVideo ? 'video' : 'audio', { controls: true, autoplay: true, preload: 'metadata', src: url });
  media.addEventListener('error', async () => {
    // A media element cannot read the error's body: ask once more for the first byte to show the daemon's words.
    try {
      const r = await fetch(url, { headers: { Range: 'bytes=0-0' } });
      const body = r.ok ? null : await r.json().catch(() => null);
      toast(body?.error ?? (r.ok ? 'the browser cannot play this format' : `${r.status} ${r.statusText}`), 'error', 'Cannot play this file');
    } catch {
      toast('the daemon cannot be reached', 'error', 'Cannot play this file');
    }
  });
  const name = file.path.split('/').at(-1);
  openDialog(() => ({
    title: name,
    body: [
      el('div.player', media),
      file.priority === 'skip' ? el('p.muted', 'This file is skipped: only what is already downloaded can play. Set its priority to download the rest.') : null,
    ],
    foot: [
      el('span.muted.left', `${fmt.percent(file.progress)} downloaded`),
      el('a.btn', { href: url, target: '_blank', rel: 'noopener' }, icon('external'), 'Open in a new tab'),
    ],
    onClose: () => { media.pause(); media.removeAttribute('src'); media.load(); },
  }), 'player-dialog');
}
