// Adding torrents: magnet links or URLs pasted, .torrent files chosen or dropped anywhere on the page; the folder,
// category, tags, paused, in order; the files of a .torrent chosen before it starts, those of a magnet link once
// its metadata arrives.
import * as api from './api.js';
import * as fmt from './format.js';
import { el, toast, openDialog } from './ui.js';
import { icon } from './icons.js';
import { describeTorrent } from './bencode.js';

let current = null; // the open dialog's state, so files dropped while it is open join it
const chooseLater = new Set(); // info-hashes of magnet links whose files the user wants to choose

export function installDropTarget(app, overlay) {
  let depth = 0;
  const hasFiles = e => [...(e.dataTransfer?.types ?? [])].includes('Files');
  addEventListener('dragenter', e => { if (!hasFiles(e)) return; depth++; overlay.hidden = false; e.preventDefault(); });
  addEventListener('dragover', e => { if (!hasFiles(e)) return; e.preventDefault(); e.dataTransfer.dropEffect = 'copy'; });
  addEventListener('dragleave', e => { if (!hasFiles(e)) return; depth = Math.max(0, depth - 1); if (depth === 0) overlay.hidden = true; });
  addEventListener('drop', e => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    overlay.hidden = true;
    const files = [...e.dataTransfer.files];
    if (files.length) openAddDialog(app, { files });
  });
}

export async function openAddDialog(app, { files = [], text = '' } = {}) {
  if (current) { await current.addFiles(files); return; }
  if (!app.settings) app.settings = await api.get('settings').catch(() => null);

  const links = el('textarea', { rows: '3', placeholder: 'magnet:?xt=urn:btih:…  or the http(s) address of a .torrent (one per line)', 'aria-label': 'Magnet links or URLs', autofocus: true }, text);
  const picker = el('input', { type: 'file', multiple: true, accept: '.torrent,application/x-bittorrent', hidden: true });
  const list = el('div.file-pill-list');
  const zone = el('div.dropzone', icon('upload'),
    el('div.grow', el('strong', '.torrent files'), el('div.muted', 'Drop them here or anywhere on the page.')),
    el('button.btn', { type: 'button', onclick: () => picker.click() }, 'Choose…'), picker);
  const savePath = el('input', { type: 'text', placeholder: app.settings?.default_save_path ?? 'default folder', list: 'add-folders', 'aria-label': 'Save to' });
  const folders = el('datalist#add-folders', [app.settings?.default_save_path, ...app.categories.map(c => c.save_path)].filter(Boolean).map(p => el('option', { value: p })));
  const category = el('input', { type: 'text', list: 'add-categories', placeholder: 'none', 'aria-label': 'Category' });
  const categories = el('datalist#add-categories', app.categories.map(c => el('option', { value: c.name })));
  const tags = el('input', { type: 'text', placeholder: 'hd, linux', 'aria-label': 'Tags' });
  const paused = el('input.switch', { type: 'checkbox', 'aria-label': 'Start paused' });
  const sequential = el('input.switch', { type: 'checkbox', 'aria-label': 'Download in order' });
  const later = el('input.switch', { type: 'checkbox', 'aria-label': 'Choose the files of magnet links' });
  const submit = el('button.btn.primary', { type: 'submit' }, 'Add');
  const entries = []; // {file, bytes, info, wanted: Set<index>, node}

  category.addEventListener('change', () => {
    const c = app.categories.find(x => x.name === category.value.trim());
    if (c?.save_path && !savePath.value) savePath.placeholder = c.save_path;
  });

  const addFiles = async chosen => {
    for (const file of chosen) {
      let bytes, info, problem = null;
      try {
        bytes = new Uint8Array(await file.arrayBuffer());
        info = describeTorrent(bytes);
      } catch (e) {
        problem = e.message;
      }
      const entry = { file, bytes, info, wanted: new Set(info?.files.filter(f => !f.padding).map(f => f.index) ?? []) };
      entry.node = torrentEntry(entry, problem, () => { entries.splice(entries.indexOf(entry), 1); entry.node.remove(); });
      entries.push(entry);
      list.append(entry.node);
    }
  };
  picker.addEventListener('change', () => { addFiles([...picker.files]); picker.value = ''; });
  zone.addEventListener('dragover', () => zone.classList.add('over'));
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', () => zone.classList.remove('over'));

  const dialog = openDialog(close => ({
    title: 'Add torrents',
    form: true,
    onSubmit: async () => {
      submit.disabled = true;
      const ok = await addAll(app, {
        links: links.value.split('\n').map(s => s.trim()).filter(Boolean),
        entries: entries.filter(e => e.info),
        options: {
          save_path: savePath.value.trim() || null,
          category: category.value.trim() || null,
          tags: tags.value.split(',').map(s => s.trim()).filter(Boolean),
          paused: paused.checked,
          sequential: sequential.checked,
        },
        chooseLater: later.checked,
      });
      submit.disabled = false;
      if (ok) close(true);
    },
    body: [
      el('label.field', el('span', 'Magnet links or URLs'), links),
      zone, list,
      el('div.two',
        el('label.field', el('span', 'Save to'), savePath, folders),
        el('label.field', el('span', 'Category'), category, categories)),
      el('label.field', el('span', 'Tags'), tags, el('small', 'Separated by commas.')),
      el('div.settings-row',
        el('label.check', paused, 'Start paused'),
        el('label.check', sequential, 'Download in order'),
        el('label.check', { title: 'The file list opens when the metadata of a magnet link arrives' }, later, 'Choose files of magnet links')),
    ],
    foot: [el('button.btn', { type: 'button', onclick: () => close(false) }, 'Cancel'), submit],
    onClose: () => { current = null; },
  }));
  current = { addFiles };
  await addFiles(files);
  return dialog;
}

function torrentEntry(entry, problem, remove) {
  const head = el('div.torrent-file-head', icon('file'),
    el('span.name', { title: entry.info?.name ?? entry.file.name }, entry.info?.name ?? entry.file.name),
    el('span.muted', problem ?? `${fmt.size(entry.info.size)}`),
    el('button.icon-btn', { type: 'button', 'aria-label': `Do not add ${entry.file.name}`, onclick: remove }, icon('x')));
  const node = el('div.torrent-file', head);
  if (problem) { head.classList.add('bad'); return node; }
  const shown = entry.info.files.filter(f => !f.padding);
  if (shown.length > 1) {
    const files = el('div.torrent-file-files', shown.map(f => {
      const box = el('input', { type: 'checkbox', checked: true, 'aria-label': `Download ${f.path}` });
      box.addEventListener('change', () => { if (box.checked) entry.wanted.add(f.index); else entry.wanted.delete(f.index); });
      return el('label', box, el('span', { title: f.path }, f.path.split('/').slice(1).join('/')), el('span.muted', fmt.size(f.length)));
    }));
    node.append(files);
  }
  return node;
}

async function addAll(app, { links, entries, options, chooseLater: later }) {
  if (!links.length && !entries.length) {
    toast('Paste a magnet link or a URL, or choose a .torrent file.', 'error', 'Nothing to add');
    return false;
  }
  const jobs = [
    ...links.map(uri => ({ label: uri.startsWith('magnet:') ? 'magnet link' : uri, body: { uri, ...options }, magnet: uri.startsWith('magnet:') || /^[0-9a-f]{40}$/i.test(uri) })),
    ...entries.map(e => ({
      label: e.file.name,
      body: {
        metainfo: base64(e.bytes), ...options,
        file_priorities: e.info.files.every(f => f.padding || e.wanted.has(f.index)) ? null : e.info.files.map(f => (f.padding || e.wanted.has(f.index) ? 'normal' : 'skip')),
      },
    })),
  ];
  let added = 0;
  const failed = [];
  for (const job of jobs) {
    try {
      const result = await api.post('torrents', job.body);
      app.store.upsert(result.added ?? []);
      added += result.added?.length ?? 0;
      for (const f of result.failed ?? []) failed.push(`${f.source}: ${f.error}`);
      if (later && job.magnet) for (const row of result.added ?? []) if (!row.has_metadata) chooseLater.add(row.info_hash);
    } catch (e) {
      failed.push(`${job.label}: ${e.message}`);
    }
  }
  if (added) toast(added === 1 ? 'Torrent added.' : `${added} torrents added.`, 'ok');
  for (const f of failed) toast(f, 'error', 'Could not add');
  return failed.length === 0;
}

function base64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** A magnet link's metadata arrived: if the user asked to choose its files, open them now. */
export function chooseFilesWhenKnown(app, event) {
  if (!event.info_hash || !chooseLater.delete(event.info_hash)) return;
  toast('Choose which files to download.', 'info', event.name);
  app.openDetails(event.torrent_id, 'files');
}
