// The page's entry point: login, the list and its sidebar, the toolbar, the event stream, the views and shortcuts.
import * as api from './api.js';
import * as fmt from './format.js';
import { TorrentStore, stateGroups } from './store.js';
import { TorrentList } from './list.js';
import { EventStream } from './events.js';
import { el, toast, popupMenu, confirmDialog, openDialog, setText, applyTheme } from './ui.js';
import { icon, fillIcons } from './icons.js';
import { Details } from './details.js';
import { openAddDialog, installDropTarget, chooseFilesWhenKnown } from './add.js';
import { RateHistory, drawGraph, OverviewPage } from './overview.js';
import { SettingsPage } from './settings.js';
import { installShortcuts } from './keys.js';

const $ = id => document.getElementById(id);
const store = new TorrentStore();
const ui = loadUiState();

/** What the modules share. */
export const app = {
  store,
  list: null,
  details: null,
  history: new RateHistory(600),
  stats: null,
  settings: null,
  categories: [],
  tags: [],
  session: null,
  events: null,
  act,
  refreshOrganizers,
};
window.shoal = app; // for the browser tests and the curious: the page's state, read-only by convention

applyTheme(localStorage.getItem('shoal.theme') ?? 'auto');

// ---- start and login ---------------------------------------------------------------------------------------------

let started = false;

api.setUnauthorizedHandler(() => showLogin());

async function boot() {
  performance.mark('shoal:script');
  fillIcons();
  for (;;) {
    try {
      app.session = await api.session();
      performance.mark('shoal:session');
      break;
    } catch (e) {
      if (e.status === 401) { showLogin(); return; }
      setText($('boot'), '');
      $('boot').append(el('p.muted', `Waiting for the daemon: ${e.message}`));
      await new Promise(r => setTimeout(r, 2000));
      $('boot').replaceChildren(el('div.boot-mark'));
    }
  }
  showApp();
}

function showLogin() {
  app.events?.stop();
  $('boot').hidden = true;
  $('app').hidden = true;
  const form = $('login');
  form.hidden = false;
  $('login-password').value = '';
  $('login-password').focus();
}

$('login').addEventListener('submit', async e => {
  e.preventDefault();
  const button = e.target.querySelector('button');
  button.disabled = true;
  try {
    app.session = await api.login($('login-password').value);
    $('login').hidden = true;
    $('login-error').textContent = '';
    showApp();
  } catch (err) {
    $('login-error').textContent = err.status === 401 ? 'Wrong password.' : err.message;
    $('login-password').select();
  } finally {
    button.disabled = false;
  }
});

function showApp() {
  $('boot').hidden = true;
  $('login').hidden = true;
  $('app').hidden = false;
  if (!started) {
    started = true;
    init();
  } else {
    app.events.start();
  }
}

// ---- the main view -----------------------------------------------------------------------------------------------

function init() {
  store.filter = { ...store.filter, ...ui.filter };
  store.setFilter({});
  store.setSort(ui.sort.key, ui.sort.desc);
  $('search').value = store.filter.search;
  app.list = new TorrentList(store, { root: $('list'), head: $('list-head'), body: $('list-body'), empty: $('list-empty') }, {
    onOpen: id => openDetails(id),
    onSelectionChange: ids => updateToolbar(ids),
    onContextMenu: (x, y) => rowMenu(x, y),
    onSortChange: () => saveUiState(),
  });
  app.details = new Details(app, $('details'));
  store.subscribe(() => scheduleCounts());
  buildSidebar();
  updateToolbar([]);
  wireToolbar();
  wireTopbar();
  installDropTarget(app, $('drop-overlay'));
  installShortcuts(app, { openAdd: () => openAddDialog(app), removeSelected, toggleAlt, focusSearch: () => $('search').focus() });
  app.events = new EventStream({
    onEvent,
    onStatus: setConnection,
    onOpen: () => loadAll(),
    onClosed: async () => {
      try {
        app.session = await api.session();
        return true;
      } catch (e) {
        if (e.status === 401) showLogin();
        return false;
      }
    },
  });
  app.events.start();
  // The first screen comes from a short page the daemon sorts, without waiting for the whole list.
  const query = store.previewQuery(Math.ceil(innerHeight / 30) + 10);
  if (query) api.get(`torrents?${query}`).then(rows => { store.preview(rows); app.list.render(); }).catch(() => {});
  pollStats();
  window.addEventListener('hashchange', route);
  route();
}

let loading = null;
let buffered = null;
// Events kept while the list loads; past this many the rest are dropped and the list is loaded again afterwards.
const maxBuffered = 10_000;
let bufferOverflowed = false;

/** Fetches the whole list (first start, a resync, a reconnect) and what the sidebar needs. */
function loadAll() {
  if (loading) return loading;
  buffered = [];
  loading = (async () => {
    try {
      const [rows] = await Promise.all([api.get('torrents'), refreshOrganizers(), loadHistory()]);
      store.reset(rows);
      // Replay what came while the list was on its way, with buffering off first: replayed events must not be
      // buffered again (the array would grow while being walked, and the page would hang until it runs out of memory).
      const pending = buffered;
      buffered = null;
      for (const [kind, data] of pending) onEvent(kind, data);
      app.list.render();
      updateToolbar(app.list.selection());
      app.details.refreshSoon();
    } catch (e) {
      toast(e.message, 'error', 'Could not load the torrents');
    } finally {
      buffered = null;
      loading = null;
      if (bufferOverflowed) {
        bufferOverflowed = false;
        loadAll();
      }
    }
  })();
  return loading;
}

async function loadHistory() {
  try {
    app.history.load(await api.get('stats/history'));
  } catch {
    // an older daemon: the graph starts empty
  }
}

async function refreshOrganizers() {
  const [categories, tags] = await Promise.all([api.get('categories'), api.get('tags')]);
  app.categories = categories;
  app.tags = tags;
  buildOrganizerFilters();
}

function onEvent(kind, data) {
  if (buffered && kind !== 'resync') {
    if (buffered.length < maxBuffered) buffered.push([kind, data]); else bufferOverflowed = true;
    return;
  }
  switch (kind) {
    case 'updated':
    case 'added':
      if (data.torrents) store.upsert(data.torrents);
      break;
    case 'removed':
      if (data.torrent_id != null) store.remove([data.torrent_id]);
      break;
    case 'resync':
      loadAll();
      break;
    case 'error':
      toast(data.message ?? 'error', 'error', data.name);
      break;
    case 'finished':
      toast('Download complete', 'ok', data.name);
      break;
    case 'metadata_received':
      chooseFilesWhenKnown(app, data);
      break;
    case 'categories_changed':
    case 'tags_changed':
      refreshOrganizers().catch(() => {});
      break;
    case 'settings_changed':
      app.settingsPage?.externalChange();
      break;
  }
  if (data.torrent_id != null && data.torrent_id === app.details.id && kind !== 'updated') app.details.refreshSoon();
}

let connection = 'connecting';
function setConnection(state) {
  const conn = $('conn');
  const was = connection;
  connection = state;
  conn.dataset.state = state;
  setText($('conn-text'), state === 'live' ? 'Connected' : state === 'reconnecting' ? 'Reconnecting…' : 'Daemon unreachable, retrying');
  if (state !== 'live' && was === 'live') toast('Lost the connection to the daemon; reconnecting by itself.', 'error');
  if (state === 'live' && (was === 'reconnecting' || was === 'down')) toast('Connected to the daemon again.', 'ok');
}

// ---- statistics --------------------------------------------------------------------------------------------------

let statsTimer = 0;
async function pollStats() {
  clearTimeout(statsTimer);
  if (document.visibilityState === 'visible' && !$('app').hidden) {
    try {
      const s = await api.get('stats');
      app.stats = s;
      app.history.push(Date.now(), s.down_rate, s.up_rate);
      showStats(s);
    } catch {
      // the event stream reports the connection; a missed sample is a gap in the graph
    }
  }
  statsTimer = setTimeout(pollStats, 1000);
}
document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') pollStats(); });

function showStats(s) {
  setText($('top-down'), fmt.rate(s.down_rate));
  setText($('top-up'), fmt.rate(s.up_rate));
  setText($('mini-down'), fmt.rate(s.down_rate));
  setText($('mini-up'), fmt.rate(s.up_rate));
  setText($('sb-dht'), `DHT: ${fmt.count(s.dht_nodes)} nodes`);
  setText($('sb-free'), s.free_space >= 0 ? `Free: ${fmt.size(s.free_space)}` : 'Free: unknown');
  setText($('sb-totals'), `Session: ↓ ${fmt.size(s.downloaded)} ↑ ${fmt.size(s.uploaded)}`);
  setText($('sb-peers'), `${fmt.count(s.peers)} peers`);
  const alt = $('alt-speed');
  if (alt.getAttribute('aria-pressed') !== String(s.alt_speed_active)) alt.setAttribute('aria-pressed', String(s.alt_speed_active));
  alt.title = s.alt_speed_active ? `Alternative speed limits on (↓ ${limitText(s.download_limit)}, ↑ ${limitText(s.upload_limit)}). T turns them off.` : 'Alternative speed limits (T)';
  if (!$('sidebar').hidden) drawGraph($('mini-graph'), app.history, { seconds: 300, compact: true });
  app.overviewPage?.update();
}

const limitText = bytes => bytes ? fmt.rate(bytes) : 'unlimited';

async function toggleAlt() {
  try {
    const on = !(app.stats?.alt_speed_active ?? false);
    const settings = await api.patch('settings', { alt_speed_enabled: on });
    app.settings = settings;
    toast(on ? 'Alternative speed limits on.' : 'Alternative speed limits off.', 'info');
    pollStats();
  } catch (e) {
    toast(e.message, 'error', 'Could not switch the speed limits');
  }
}

// ---- sidebar -----------------------------------------------------------------------------------------------------

const countNodes = { state: new Map(), category: new Map(), tag: new Map() };

function sideItem(kind, value, label, iconName) {
  const count = el('span.count');
  const item = el('li.side-item', { role: 'option', tabindex: '0', 'aria-selected': 'false', dataset: { kind } },
    iconName ? icon(iconName) : null, el('span.label', label), count);
  item.addEventListener('click', () => chooseFilter(kind, value));
  item.addEventListener('keydown', e => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); chooseFilter(kind, value); } });
  countNodes[kind].set(value, { item, count });
  return item;
}

function buildSidebar() {
  $('state-filters').replaceChildren(...stateGroups.map(g => sideItem('state', g.id, g.label, g.icon)));
  buildOrganizerFilters();
}

function buildOrganizerFilters() {
  countNodes.category.clear();
  countNodes.tag.clear();
  const categories = new Set(app.categories.map(c => c.name));
  for (const r of store.rows.values()) if (r.category) categories.add(r.category);
  $('category-filters').replaceChildren(
    sideItem('category', null, 'All', 'folder'), sideItem('category', '', 'Uncategorised', 'folder'),
    ...[...categories].sort().map(c => sideItem('category', c, c, 'folder')));
  $('tag-filters').replaceChildren(
    sideItem('tag', null, 'All', 'tag'), sideItem('tag', '', 'Untagged', 'tag'),
    ...app.tags.map(t => sideItem('tag', t, t, 'tag')));
  markFilters();
  updateCounts();
}

function markFilters() {
  const f = store.filter;
  for (const [kind, current] of [['state', f.state], ['category', f.category], ['tag', f.tag]]) {
    for (const [value, { item }] of countNodes[kind]) item.setAttribute('aria-selected', String(value === current));
  }
}

function chooseFilter(kind, value) {
  store.setFilter({ [kind]: value });
  markFilters();
  saveUiState();
  $('app').classList.remove('menu-open');
  app.list.root.scrollTop = 0;
  app.list.selectionChanged();
}

let countsTimer = 0;
let countsAt = 0;
function scheduleCounts() {
  if (countsTimer) return;
  const wait = Math.max(0, 700 - (performance.now() - countsAt));
  countsTimer = setTimeout(() => { countsTimer = 0; countsAt = performance.now(); updateCounts(); }, wait);
}

function updateCounts() {
  const c = store.counts();
  for (const [id, { count }] of countNodes.state) setText(count, fmt.count(c.groups[id]));
  for (const [name, { count }] of countNodes.category) setText(count, fmt.count(name === null ? c.total : name === '' ? c.noCategory : c.categories.get(name) ?? 0));
  for (const [name, { count }] of countNodes.tag) setText(count, fmt.count(name === null ? c.total : name === '' ? c.noTag : c.tags.get(name) ?? 0));
  const unknown = [...c.categories.keys()].some(name => !countNodes.category.has(name));
  if (unknown) buildOrganizerFilters();
  const t = store.totals();
  setText($('list-summary'), `${fmt.count(store.view.length)} of ${fmt.count(c.total)} · ${fmt.size(t.size)}`);
}

// ---- toolbar and actions -----------------------------------------------------------------------------------------

function updateToolbar(ids) {
  const n = ids.length;
  setText($('selection-count'), n ? `${fmt.count(n)} selected` : '');
  for (const b of $('toolbar').querySelectorAll('.tool')) b.disabled = n === 0;
}

function wireToolbar() {
  $('toolbar').addEventListener('click', e => {
    const button = e.target.closest('.tool');
    if (!button || button.disabled) return;
    runAction(button.dataset.action, button);
  });
}

function runAction(action, anchor) {
  const ids = app.list.selection();
  if (!ids.length) return;
  switch (action) {
    case 'resume': case 'pause': case 'recheck': case 'force-start':
      act(action, ids);
      break;
    case 'top':
      act('queue', ids, { move: 'top' });
      break;
    case 'category':
      categoryMenu(anchor, ids);
      break;
    case 'remove':
      removeSelected(false);
      break;
  }
}

/** Runs an action on torrents and shows its answer at once (the event stream confirms it a moment later). */
async function act(action, ids, extra = {}) {
  try {
    const rows = await api.post(`torrents/${action}`, { ids: ids.map(String), ...extra });
    if (Array.isArray(rows)) store.upsert(rows);
    return rows;
  } catch (e) {
    toast(e.message, 'error', `Could not ${action.replace('-', ' ')}`);
    return null;
  }
}

function categoryMenu(anchor, ids) {
  const items = app.categories.map(c => ({ label: c.name, icon: 'folder', run: () => act('category', ids, { category: c.name }) }));
  popupMenu(anchor, [
    ...items, items.length ? 'sep' : null,
    { label: 'No category', icon: 'x', run: () => act('category', ids, { category: null }) },
    { label: 'New category…', icon: 'plus', run: () => newCategory(ids) },
  ].filter(Boolean));
}

async function newCategory(ids) {
  const name = el('input', { type: 'text', required: true, autofocus: true, placeholder: 'films' });
  const path = el('input', { type: 'text', placeholder: app.settings?.default_save_path ?? 'the default folder' });
  const ok = await openDialog(close => ({
    title: 'New category', form: true, onSubmit: () => close(true),
    body: [el('label.field', el('span', 'Name'), name), el('label.field', el('span', 'Folder'), path, el('small', 'Empty: the default download folder.'))],
    foot: [el('button.btn', { type: 'button', onclick: () => close(false) }, 'Cancel'), el('button.btn.primary', { type: 'submit' }, 'Create')],
  }));
  if (!ok || !name.value.trim()) return;
  try {
    await api.post('categories', { name: name.value.trim(), save_path: path.value.trim() || null });
    await refreshOrganizers();
    if (ids) await act('category', ids, { category: name.value.trim() });
  } catch (e) {
    toast(e.message, 'error', 'Could not create the category');
  }
}
app.newCategory = newCategory;

async function removeSelected(withData) {
  const ids = app.list.selection();
  if (!ids.length) return;
  const first = store.rows.get(ids[0]);
  const deleteData = el('input', { type: 'checkbox', checked: withData, id: 'remove-data' });
  const ok = await confirmDialog({
    title: ids.length === 1 ? 'Remove this torrent?' : `Remove ${ids.length} torrents?`,
    message: ids.length === 1 ? first.name : `${first.name} and ${ids.length - 1} more.`,
    ok: 'Remove', danger: true,
    extra: el('label.check', deleteData, 'Also delete the downloaded files'),
  });
  if (!ok) return;
  try {
    const result = await api.post('torrents/remove', { ids: ids.map(String), delete_data: deleteData.checked });
    store.remove(ids);
    if (ids.includes(app.details.id)) app.details.close();
    toast(`${result.removed} torrent${result.removed === 1 ? '' : 's'} removed${deleteData.checked ? ' with their files' : ''}.`, 'ok');
    for (const p of result.problems ?? []) toast(p, 'error', 'A file could not be deleted');
  } catch (e) {
    toast(e.message, 'error', 'Could not remove');
  }
}

function rowMenu(x, y) {
  const ids = app.list.selection();
  const anchor = { getBoundingClientRect: () => ({ left: x, right: x, top: y, bottom: y }), focus() {} };
  popupMenu(anchor, [
    { label: 'Open details', icon: 'file', run: () => openDetails(ids[0]) },
    'sep',
    { label: 'Resume', icon: 'play', run: () => act('resume', ids) },
    { label: 'Pause', icon: 'pause', run: () => act('pause', ids) },
    { label: 'Force start', icon: 'bolt', run: () => act('force-start', ids) },
    { label: 'Recheck', icon: 'check', run: () => act('recheck', ids) },
    'sep',
    { label: 'Move to top', icon: 'top', run: () => act('queue', ids, { move: 'top' }) },
    { label: 'Move to bottom', icon: 'queue', run: () => act('queue', ids, { move: 'bottom' }) },
    { label: 'Set category…', icon: 'folder', run: () => categoryMenu(anchor, ids) },
    { label: 'Copy magnet link', icon: 'link', run: () => copyMagnets(ids) },
    'sep',
    { label: 'Remove…', icon: 'trash', run: () => removeSelected(false) },
  ]);
}

async function copyMagnets(ids) {
  try {
    const links = await Promise.all(ids.map(id => api.get(`torrents/${id}`).then(d => d.magnet)));
    await navigator.clipboard.writeText(links.join('\n'));
    toast(`Copied ${links.length} magnet link${links.length === 1 ? '' : 's'}.`, 'ok');
  } catch (e) {
    toast(e.message ?? 'the clipboard is not available here', 'error', 'Could not copy');
  }
}

// ---- top bar -----------------------------------------------------------------------------------------------------

function wireTopbar() {
  let searchTimer = 0;
  $('search').addEventListener('input', e => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { store.setFilter({ search: e.target.value }); saveUiState(); app.list.selectionChanged(); }, 90);
  });
  $('search').addEventListener('keydown', e => {
    if (e.key === 'Escape') { e.target.value = ''; store.setFilter({ search: '' }); saveUiState(); $('list').focus(); }
    if (e.key === 'Enter' || e.key === 'ArrowDown') { $('list').focus(); }
  });
  $('add-btn').addEventListener('click', () => openAddDialog(app));
  $('alt-speed').addEventListener('click', toggleAlt);
  $('menu-btn').addEventListener('click', () => {
    const open = $('app').classList.toggle('menu-open');
    $('menu-btn').setAttribute('aria-expanded', String(open));
  });
  $('scrim').hidden = false;
  $('scrim').addEventListener('click', () => $('app').classList.remove('menu-open'));
}

// ---- routing: #/, #/overview, #/settings, #/t/ID/TAB --------------------------------------------------------------

function openDetails(id, tab) {
  location.hash = `#/t/${id}/${tab ?? app.details.tab ?? 'general'}`;
}
app.openDetails = openDetails;

function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  const view = parts[0] || 'torrents';
  $('torrents-view').hidden = !(view === 'torrents' || view === 't');
  $('overview-view').hidden = view !== 'overview';
  $('settings-view').hidden = view !== 'settings';
  $('nav-overview').classList.toggle('active', view === 'overview');
  $('nav-settings').classList.toggle('active', view === 'settings');
  if (view === 't' && parts[1]) app.details.open(Number(parts[1]), parts[2] || 'general');
  else app.details.close(false);
  if (view === 'overview') {
    app.overviewPage ??= new OverviewPage(app, $('overview-view'));
    app.overviewPage.show();
  }
  if (view === 'settings') {
    app.settingsPage ??= new SettingsPage(app, $('settings-view'));
    app.settingsPage.show();
  }
  if (view === 'torrents' || view === 't') requestAnimationFrame(() => { app.list.measure(); app.list.render(); });
  $('app').classList.remove('menu-open');
}

// ---- remembered choices ------------------------------------------------------------------------------------------

function loadUiState() {
  try {
    const saved = JSON.parse(localStorage.getItem('shoal.ui') ?? '{}');
    return { filter: saved.filter ?? {}, sort: saved.sort ?? { key: 'added', desc: true } };
  } catch {
    return { filter: {}, sort: { key: 'added', desc: true } };
  }
}

function saveUiState() {
  const { state, category, tag, search } = store.filter;
  localStorage.setItem('shoal.ui', JSON.stringify({ filter: { state, category, tag, search }, sort: store.sort }));
}

boot();
