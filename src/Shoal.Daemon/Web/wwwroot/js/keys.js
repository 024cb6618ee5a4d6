// Keyboard shortcuts. Letters act only when no field has the focus and no dialog is open; '?' lists them.
import { el, openDialog } from './ui.js';

export const shortcuts = [
  ['/', 'Filter by name'],
  ['A', 'Add torrents'],
  ['R', 'Resume the selected torrents'],
  ['P', 'Pause the selected torrents'],
  ['Delete', 'Remove the selected torrents (Shift: with their files)'],
  ['Enter', 'Details of the focused torrent'],
  ['↑ ↓ / J K', 'Move in the list (Shift extends the selection)'],
  ['Space', 'Select or unselect the focused torrent'],
  ['Ctrl A', 'Select every shown torrent'],
  ['1 – 5', 'Details tabs: general, files, peers, trackers, pieces'],
  ['T', 'Alternative speed limits on or off'],
  ['O', 'Overview'],
  [',', 'Settings'],
  ['Esc', 'Close, go back, clear the selection'],
  ['?', 'This list'],
];

export function installShortcuts(app, { openAdd, removeSelected, toggleAlt, focusSearch }) {
  document.addEventListener('keydown', e => {
    if (e.defaultPrevented || e.altKey) return;
    const target = e.target;
    const typing = target instanceof HTMLElement && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (typing || document.querySelector('dialog[open]') || document.querySelector('.menu')) return;
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() !== 'a') return;
    const selection = app.list?.selection() ?? [];
    const onList = !document.getElementById('torrents-view').hidden;
    switch (e.key) {
      case '/': focusSearch(); break;
      case 'a': case 'n':
        if (e.ctrlKey || e.metaKey) {
          if (!onList) return;
          app.list.selectAll(true);
          break;
        }
        openAdd();
        break;
      case 'r': if (selection.length) app.act('resume', selection); else return; break;
      case 'p': if (selection.length) app.act('pause', selection); else return; break;
      case 'Delete': if (selection.length) removeSelected(e.shiftKey); else return; break;
      case 't': toggleAlt(); break;
      case 'o': location.hash = location.hash === '#/overview' ? '#/' : '#/overview'; break;
      case ',': location.hash = '#/settings'; break;
      case '?': showHelp(); break;
      case 'i': if (app.list.focusId != null) app.openDetails(app.list.focusId); else return; break;
      case '1': case '2': case '3': case '4': case '5':
        if (app.details.id == null) return;
        app.details.showTab(['general', 'files', 'peers', 'trackers', 'pieces'][Number(e.key) - 1]);
        break;
      case 'Escape':
        if (document.getElementById('app').classList.contains('menu-open')) document.getElementById('app').classList.remove('menu-open');
        else if (app.details.id != null) app.details.close();
        else if (!onList) location.hash = '#/';
        else app.list.clearSelection();
        break;
      default:
        return;
    }
    e.preventDefault();
  });
}

function showHelp() {
  openDialog(() => ({
    title: 'Keyboard shortcuts',
    body: el('div.shortcuts', shortcuts.flatMap(([k, what]) => [el('kbd', k), el('span', what)])),
  }));
}
