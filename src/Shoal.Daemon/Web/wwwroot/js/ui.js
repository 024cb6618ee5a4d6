// Small DOM helpers: elements, toasts, dialogs and pop-up menus. Text always goes in as text, never as HTML.
import { icon } from './icons.js';

/** Creates an element: el('div.card#id', {attrs}, children...). Strings become text nodes. */
export function el(spec, attrs, ...children) {
  const m = /^([a-z0-9-]+)?((?:[.#][\w-]+)*)$/i.exec(spec);
  const node = document.createElement(m[1] || 'div');
  for (const part of m[2].match(/[.#][\w-]+/g) ?? []) {
    if (part[0] === '.') node.classList.add(part.slice(1)); else node.id = part.slice(1);
  }
  if (attrs && (typeof attrs !== 'object' || attrs instanceof Node || Array.isArray(attrs))) { children.unshift(attrs); attrs = null; }
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v == null || v === false) continue;
      if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(node.dataset, v);
      else if (k in node && typeof v !== 'string') node[k] = v;
      else node.setAttribute(k, v === true ? '' : v);
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(node, c);
    else node.append(c instanceof Node ? c : String(c));
  }
}

/** Sets an element's text only when it changed (a write is a DOM mutation; most updates change nothing). */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

// ---- toasts ------------------------------------------------------------------------------------------------------

const toastTimes = { info: 5000, ok: 4000, error: 10000 };

/** Shows a message in the corner for a while; errors stay longer. Never blocks. */
export function toast(message, kind = 'info', title) {
  const host = document.getElementById('toasts');
  const close = el('button', { type: 'button', 'aria-label': 'Dismiss' }, icon('x'));
  const node = el(`div.toast.${kind}`, { role: kind === 'error' ? 'alert' : 'status' },
    el('div.msg', title ? el('strong', title) : null, message), close);
  const remove = () => node.remove();
  close.addEventListener('click', remove);
  host.append(node);
  while (host.childElementCount > 5) host.firstElementChild.remove();
  setTimeout(remove, toastTimes[kind] ?? 5000);
  return node;
}

// ---- dialogs -----------------------------------------------------------------------------------------------------

/**
 * Opens a modal dialog. build(close) returns {title, body, foot} nodes; resolves with what close() was given
 * (undefined when dismissed with Escape or the backdrop).
 */
export function openDialog(build, className) {
  return new Promise(resolve => {
    const dialog = el('dialog', className ? { class: className } : null);
    let result;
    const close = value => { result = value; dialog.close(); };
    const parts = build(close);
    const head = el('div.dialog-head', el('h2', parts.title),
      el('button.icon-btn', { type: 'button', 'aria-label': 'Close', onclick: () => close() }, icon('x')));
    const inner = parts.form
      ? el('form', { method: 'dialog', novalidate: true, onsubmit: e => { e.preventDefault(); parts.onSubmit?.(); } }, head, el('div.dialog-body', parts.body), parts.foot ? el('div.dialog-foot', parts.foot) : null)
      : el('div.dialog-inner', head, el('div.dialog-body', parts.body), parts.foot ? el('div.dialog-foot', parts.foot) : null);
    dialog.append(inner);
    dialog.addEventListener('click', e => { if (e.target === dialog) close(); });
    dialog.addEventListener('close', () => { dialog.remove(); parts.onClose?.(); resolve(result); });
    document.body.append(dialog);
    dialog.showModal();
    (dialog.querySelector('[autofocus]') ?? dialog.querySelector('.dialog-foot .primary, .dialog-foot .danger'))?.focus();
  });
}

/** Asks a yes/no question; resolves true/false. Options: {title, message, ok, danger, extra (node)}. */
export function confirmDialog({ title, message, ok = 'OK', danger = false, extra }) {
  return openDialog(close => ({
    title,
    body: [el('p', { style: null }, message), extra],
    foot: [
      el('button.btn', { type: 'button', onclick: () => close(false) }, 'Cancel'),
      el(`button.btn.${danger ? 'danger' : 'primary'}`, { type: 'button', onclick: () => close(true) }, ok),
    ],
  })).then(v => v === true);
}

// ---- menus -------------------------------------------------------------------------------------------------------

let openMenu = null;

/** Shows a pop-up menu under anchor; items: [{label, icon, run}] or 'sep'. Closes on choice, Escape or outside click. */
export function popupMenu(anchor, items) {
  closeMenu();
  const menu = el('div.menu', { role: 'menu' });
  for (const item of items) {
    if (item === 'sep') { menu.append(el('hr')); continue; }
    menu.append(el('button', {
      type: 'button', role: 'menuitem',
      onclick: () => { closeMenu(); item.run(); },
    }, item.icon ? icon(item.icon) : null, item.label));
  }
  document.body.append(menu);
  const r = anchor.getBoundingClientRect();
  const w = menu.offsetWidth, h = menu.offsetHeight;
  menu.style.left = `${Math.max(8, Math.min(r.left, innerWidth - w - 8))}px`;
  menu.style.top = `${r.bottom + h + 8 > innerHeight ? Math.max(8, r.top - h - 4) : r.bottom + 4}px`;
  const onDown = e => { if (!menu.contains(e.target)) closeMenu(); };
  const onKey = e => {
    if (e.key === 'Escape') { e.stopPropagation(); closeMenu(); anchor.focus(); }
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const buttons = [...menu.querySelectorAll('button')];
      const i = buttons.indexOf(document.activeElement);
      buttons[(i + (e.key === 'ArrowDown' ? 1 : -1) + buttons.length) % buttons.length]?.focus();
    }
  };
  setTimeout(() => document.addEventListener('pointerdown', onDown), 0);
  document.addEventListener('keydown', onKey, true);
  openMenu = { menu, dispose: () => { document.removeEventListener('pointerdown', onDown); document.removeEventListener('keydown', onKey, true); menu.remove(); } };
  menu.querySelector('button')?.focus();
}

export function closeMenu() {
  openMenu?.dispose();
  openMenu = null;
}

/** Light, dark or (auto) the system's choice; remembered in this browser. */
export function applyTheme(theme) {
  if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
  localStorage.setItem('shoal.theme', theme);
}
