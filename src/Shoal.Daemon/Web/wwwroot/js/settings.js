// Every daemon setting, in groups. Only the keys changed are sent; the daemon names a bad value and the toast says it.
import * as api from './api.js';
import * as fmt from './format.js';
import { el, toast, confirmDialog, applyTheme } from './ui.js';
import { icon } from './icons.js';

const days = [['Mon', 2], ['Tue', 4], ['Wed', 8], ['Thu', 16], ['Fri', 32], ['Sat', 64], ['Sun', 1]];

// kind: rate (bytes/s shown in KiB/s), int, number, bool, text, time (minutes after midnight), days, hosts, choice
const groups = [
  { title: 'Speed', icon: 'bolt', fields: [
    ['download_limit', 'Download limit', 'rate', '0 is unlimited'],
    ['upload_limit', 'Upload limit', 'rate', '0 is unlimited'],
  ] },
  { title: 'Alternative speed and schedule', icon: 'turtle', fields: [
    ['alt_speed_enabled', 'Alternative limits on now', 'bool'],
    ['alt_download_limit', 'Alternative download limit', 'rate', '0 is unlimited'],
    ['alt_upload_limit', 'Alternative upload limit', 'rate', '0 is unlimited'],
    ['alt_schedule_enabled', 'Switch them on by schedule', 'bool'],
    ['alt_schedule_begin', 'From', 'time'],
    ['alt_schedule_end', 'Until', 'time', 'earlier than the start: over midnight'],
    ['alt_schedule_days', 'On', 'days'],
  ] },
  { title: 'Connections', icon: 'network', fields: [
    ['max_connections', 'Peer connections in all', 'int'],
    ['max_connections_per_torrent', 'Peer connections per torrent', 'int'],
    ['upload_slots_per_torrent', 'Upload slots per torrent', 'int'],
    ['encryption', 'Encryption', 'choice', null, [['prefer', 'Prefer encrypted, accept plain'], ['require', 'Require encryption'], ['disable', 'Plain connections only']]],
  ] },
  { title: 'Queue', icon: 'queue', fields: [
    ['queueing_enabled', 'Queue torrents', 'bool', 'only so many run at once; the rest wait their turn'],
    ['max_active_downloads', 'Active downloads at most', 'int', '-1: no limit'],
    ['max_active_seeds', 'Active seeds at most', 'int', '-1: no limit'],
  ] },
  { title: 'Seeding goals', icon: 'seed', fields: [
    ['ratio_limit', 'Stop at ratio', 'number', '-1: never'],
    ['seeding_time_limit_minutes', 'Stop after seeding for', 'int', 'minutes; -1: never'],
    ['idle_limit_minutes', 'Stop after idle for', 'int', 'minutes without an upload; -1: never'],
    ['seeding_goal_action', 'Then', 'choice', null, [['pause', 'Pause the torrent'], ['remove', 'Remove the torrent (keep its files)']]],
  ] },
  { title: 'Folders', icon: 'folder', fields: [
    ['default_save_path', 'Default download folder', 'text'],
    ['incomplete_path_enabled', 'Keep incomplete downloads elsewhere', 'bool'],
    ['incomplete_path', 'Folder for incomplete downloads', 'text'],
  ] },
  { title: 'Discovery', icon: 'globe', fields: [
    ['dht', 'DHT (trackerless peers)', 'bool'],
    ['lsd', 'Local peer discovery', 'bool'],
    ['pex', 'Peer exchange', 'bool'],
    ['port_mapping', 'Forward the peer port on the router', 'bool', 'UPnP and NAT-PMP'],
    ['ssrf_mitigation', 'Protect local services from torrents', 'bool', 'SSRF mitigation: web seeds on this machine or the LAN without query strings, loopback trackers only at /announce, no redirects inward'],
  ] },
  { title: 'Interface', icon: 'lock', fields: [
    ['allowed_hosts', 'Host names this page may be reached by', 'hosts', 'besides IP addresses and localhost; one per line (a guard against DNS rebinding)'],
  ] },
];

export class SettingsPage {
  constructor(app, root) {
    this.app = app;
    this.root = root;
    this.inputs = new Map();
    this.original = null;
    this.dirty = el('span.dirty');
    this.saveButton = el('button.btn.primary', { type: 'submit' }, 'Save changes');
    this.form = el('form.settings', { onsubmit: e => { e.preventDefault(); this.save(); }, oninput: () => this.markDirty(), onchange: () => this.markDirty() });
    for (const g of groups) {
      const toggles = [], fields = [];
      for (const [key, label, kind, hint, choices] of g.fields) {
        const input = this.makeInput(key, kind, choices);
        input.dataset.setting = key; // which daemon setting this control edits (the tests check every one has one)
        this.inputs.set(key, { input, kind });
        if (kind === 'bool') toggles.push(el('label.setting-toggle', el('span', label, hint ? el('small', hint) : null), input));
        else fields.push(el(`label.field${kind === 'days' ? '.wide' : ''}`, el('span', label), input, hint ? el('small', hint) : null));
      }
      this.form.append(el('section.settings-group', el('h2', icon(g.icon), g.title), toggles.length ? el('div', toggles) : null, fields.length ? el('div.settings-row', fields) : null));
    }
    this.categoriesNode = el('div.chips');
    this.tagsNode = el('div.chips');
    this.form.append(
      el('section.settings-group', el('h2', icon('tag'), 'Categories and tags'),
        el('div.field', el('span', 'Categories'), this.categoriesNode,
          el('div', el('button.btn', { type: 'button', onclick: () => app.newCategory(null) }, icon('plus'), 'New category'))),
        el('div.field', el('span', 'Tags'), this.tagsNode)),
      this.appearance(),
      this.passwordGroup(),
      el('div.settings-actions', this.dirty, el('button.btn', { type: 'button', onclick: () => this.fill(this.original) }, 'Undo changes'), this.saveButton));
    root.append(el('h1.page-title', 'Settings', el('span.spacer'), el('span.muted', { style: null }, '')), this.form);
  }

  makeInput(key, kind, choices) {
    switch (kind) {
      case 'bool': return el('input.switch', { type: 'checkbox', name: key });
      case 'rate': {
        const input = el('input', { type: 'number', min: '0', step: '1', name: key, inputmode: 'numeric' });
        const wrap = el('div.unit-input', input, el('span', 'KiB/s'));
        wrap.input = input;
        return wrap;
      }
      case 'int': return el('input', { type: 'number', step: '1', name: key, inputmode: 'numeric' });
      case 'number': return el('input', { type: 'number', step: '0.01', name: key, inputmode: 'decimal' });
      case 'time': return el('input', { type: 'time', name: key });
      case 'choice': return el('select', { name: key }, choices.map(([v, label]) => el('option', { value: v }, label)));
      case 'days': {
        const wrap = el('div.days', { role: 'group' });
        wrap.boxes = days.map(([label, bit]) => {
          const box = el('input', { type: 'checkbox', value: String(bit) });
          wrap.append(el('label', box, label));
          return box;
        });
        return wrap;
      }
      case 'hosts': return el('textarea', { rows: '2', name: key, placeholder: 'seedbox.home.arpa' });
      default: return el('input', { type: 'text', name: key, spellcheck: 'false' });
    }
  }

  appearance() {
    const theme = el('select', { 'aria-label': 'Theme' },
      [['auto', 'Follow the system'], ['light', 'Light'], ['dark', 'Dark']].map(([v, l]) => el('option', { value: v }, l)));
    theme.value = localStorage.getItem('shoal.theme') ?? 'auto';
    theme.addEventListener('change', e => { e.stopPropagation(); applyTheme(theme.value); });
    theme.addEventListener('input', e => e.stopPropagation());
    return el('section.settings-group', el('h2', icon('moon'), 'Appearance'),
      el('div.settings-row', el('label.field', el('span', 'Theme (this browser)'), theme)));
  }

  passwordGroup() {
    const current = el('input', { type: 'password', autocomplete: 'current-password', 'aria-label': 'Current password' });
    const next = el('input', { type: 'password', autocomplete: 'new-password', 'aria-label': 'New password' });
    for (const i of [current, next]) { i.addEventListener('input', e => e.stopPropagation()); i.addEventListener('change', e => e.stopPropagation()); }
    const change = async () => {
      if (next.value && next.value.length < 8) { toast('A password has at least 8 characters.', 'error'); return; }
      if (!next.value && !(await confirmDialog({ title: 'Remove the password?', message: 'Anyone who can reach this daemon will control it.', ok: 'Remove it', danger: true }))) return;
      try {
        await api.post('auth/password', { current: current.value, new: next.value });
        current.value = next.value = '';
        toast('Password changed. Every session has ended: log in again.', 'ok');
        setTimeout(() => location.reload(), 1200);
      } catch (e) {
        toast(e.message, 'error', 'Could not change the password');
      }
    };
    const logout = async () => {
      try { await api.logout(); } catch { /* gone already */ }
      location.reload();
    };
    return el('section.settings-group', el('h2', icon('key'), 'Password'),
      el('p.note', 'At least 8 characters. Empty removes the password (allowed only while the daemon listens on loopback).'),
      el('div.settings-row',
        el('label.field', el('span', 'Current password'), current),
        el('label.field', el('span', 'New password'), next)),
      el('div', { style: null },
        el('button.btn', { type: 'button', onclick: change }, 'Change password'), ' ',
        this.app.session?.password_required ? el('button.btn', { type: 'button', onclick: logout }, icon('logout'), 'Log out') : null));
  }

  async show() {
    try {
      this.original = await api.get('settings');
      this.app.settings = this.original;
      this.fill(this.original);
      this.renderOrganizers();
    } catch (e) {
      toast(e.message, 'error', 'Could not load the settings');
    }
  }

  /** Another client changed settings: take them unless the user is editing. */
  async externalChange() {
    if (this.root.hidden) return;
    const fresh = await api.get('settings').catch(() => null);
    if (!fresh) return;
    this.app.settings = fresh;
    if (this.changes().length === 0) { this.original = fresh; this.fill(fresh); }
  }

  renderOrganizers() {
    this.categoriesNode.replaceChildren(...(this.app.categories.length ? this.app.categories.map(c => el('span.chip', { title: c.save_path || 'the default folder' }, c.name,
      el('button', { type: 'button', 'aria-label': `Delete the category ${c.name}`, onclick: () => this.deleteOrganizer('categories', c.name) }, icon('x')))) : [el('span.muted', 'None yet.')]));
    this.tagsNode.replaceChildren(...(this.app.tags.length ? this.app.tags.map(t => el('span.chip', t,
      el('button', { type: 'button', 'aria-label': `Delete the tag ${t}`, onclick: () => this.deleteOrganizer('tags', t) }, icon('x')))) : [el('span.muted', 'None yet: add them from the add dialog.')]));
  }

  async deleteOrganizer(kind, name) {
    try {
      await api.del(`${kind}/${encodeURIComponent(name)}`);
      await this.app.refreshOrganizers();
      this.renderOrganizers();
    } catch (e) {
      toast(e.message, 'error', 'Could not delete');
    }
  }

  fill(s) {
    if (!s) return;
    for (const [key, { input, kind }] of this.inputs) {
      const v = s[key];
      switch (kind) {
        case 'bool': input.checked = !!v; break;
        case 'rate': input.input.value = fmt.toKiB(v); break;
        case 'time': input.value = `${String(Math.floor(v / 60)).padStart(2, '0')}:${String(v % 60).padStart(2, '0')}`; break;
        case 'days': for (const b of input.boxes) b.checked = (v & Number(b.value)) !== 0; break;
        case 'hosts': input.value = (v ?? []).join('\n'); break;
        default: input.value = v ?? '';
      }
    }
    this.markDirty();
  }

  read(key) {
    const { input, kind } = this.inputs.get(key);
    switch (kind) {
      case 'bool': return input.checked;
      case 'rate': return fmt.fromKiB(input.input.value);
      case 'int': return input.value === '' ? NaN : Math.trunc(Number(input.value));
      case 'number': return input.value === '' ? NaN : Number(input.value);
      case 'time': { const [h, m] = input.value.split(':').map(Number); return h * 60 + m; }
      case 'days': return input.boxes.reduce((mask, b) => mask | (b.checked ? Number(b.value) : 0), 0);
      case 'hosts': return input.value.split(/[\n,]/).map(s => s.trim()).filter(Boolean);
      default: return input.value.trim();
    }
  }

  changes() {
    if (!this.original) return [];
    const out = [];
    for (const key of this.inputs.keys()) {
      const value = this.read(key);
      const before = this.original[key];
      const same = Array.isArray(value) ? JSON.stringify(value) === JSON.stringify(before ?? []) : value === before || (this.inputs.get(key).kind === 'rate' && fmt.toKiB(before) === fmt.toKiB(value));
      if (!same) out.push([key, value]);
    }
    return out;
  }

  markDirty() {
    const n = this.changes().length;
    this.dirty.textContent = n ? `${n} unsaved change${n === 1 ? '' : 's'}` : '';
    this.saveButton.disabled = n === 0;
  }

  async save() {
    const changes = this.changes();
    if (!changes.length) return;
    for (const [key, value] of changes) {
      if (typeof value === 'number' && Number.isNaN(value)) { toast(`${key} needs a number.`, 'error', 'Not saved'); return; }
    }
    try {
      this.original = await api.patch('settings', Object.fromEntries(changes));
      this.app.settings = this.original;
      this.fill(this.original);
      toast('Settings saved.', 'ok');
    } catch (e) {
      toast(e.message, 'error', 'Settings not saved');
    }
  }
}
