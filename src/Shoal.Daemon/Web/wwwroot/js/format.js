// Numbers, sizes, rates, durations and dates as people read them. Pure functions.
const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function size(bytes) {
  if (bytes == null || bytes < 0) return '–';
  if (bytes < 1024) return `${bytes} B`;
  let i = 0, v = bytes;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[i]}`;
}

export function rate(bytesPerSecond) {
  if (!bytesPerSecond) return '0 B/s';
  return `${size(bytesPerSecond)}/s`;
}

/** A rate for a list cell: empty when nothing moves, so the eye finds the busy rows. */
export function cellRate(bytesPerSecond) {
  return bytesPerSecond ? rate(bytesPerSecond) : '–';
}

export function percent(fraction) {
  if (fraction >= 1) return '100%';
  const p = fraction * 100;
  return `${p < 10 && p > 0 ? p.toFixed(1) : Math.floor(p)}%`;
}

export function duration(seconds) {
  if (seconds == null || seconds < 0 || !isFinite(seconds)) return '∞';
  seconds = Math.round(seconds);
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m ${seconds % 60 ? `${seconds % 60}s` : ''}`.trim();
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  const d = Math.floor(h / 24);
  if (d < 365) return `${d}d ${h % 24}h`;
  return `${Math.floor(d / 365)}y ${d % 365}d`;
}

export function eta(seconds) {
  return seconds == null ? '–' : duration(seconds);
}

export function ratio(r) {
  if (r == null || !isFinite(r)) return '∞';
  return r.toFixed(r >= 100 ? 0 : 2);
}

const dateFormat = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

const shortDate = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' });

/** A date for a list cell: the time today, the day this year, else the day and year. */
export function date(ms) {
  if (!ms) return '–';
  const d = new Date(ms), now = new Date();
  if (d.toDateString() === now.toDateString()) return timeFormat.format(ms);
  if (d.getFullYear() === now.getFullYear()) return shortDate.format(ms);
  return dateFormat.format(ms);
}

export function dateTime(value) {
  if (!value) return '–';
  const ms = typeof value === 'number' ? value : Date.parse(value);
  return isNaN(ms) ? '–' : dateTimeFormat.format(ms);
}

export function clock(ms) {
  return timeFormat.format(ms);
}

/** "in 5m" / "3m ago" relative to now. */
export function relative(value) {
  if (!value) return '–';
  const ms = Date.parse(value);
  if (isNaN(ms)) return '–';
  const delta = (ms - Date.now()) / 1000;
  return delta >= 0 ? `in ${duration(delta)}` : `${duration(-delta)} ago`;
}

/** '1 seed', '3 seeds'. */
export function plural(n, word) {
  return `${count(n)} ${word}${n === 1 ? '' : 's'}`;
}

export function count(n) {
  return n.toLocaleString();
}

/** Bytes per second from a number and a unit (KiB/s). */
export function fromKiB(value) {
  const n = Number(value);
  return isFinite(n) && n > 0 ? Math.round(n * 1024) : 0;
}

export function toKiB(bytes) {
  return bytes ? +(bytes / 1024).toFixed(1) : 0;
}

export const stateLabels = {
  fetching_metadata: 'Metadata',
  checking: 'Checking',
  downloading: 'Downloading',
  seeding: 'Seeding',
  paused: 'Paused',
  queued_download: 'Queued',
  queued_seed: 'Queued',
  error: 'Error',
};
