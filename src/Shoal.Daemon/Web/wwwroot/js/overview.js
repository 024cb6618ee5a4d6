// The overview: live down/up graph over the last minutes, session totals, free space, DHT nodes, the alternative
// speed limits. The daemon keeps the last ten minutes of rates (GET /api/v1/stats/history), so the graph is full
// from the first second; the page adds a sample each second.
import * as api from './api.js';
import * as fmt from './format.js';
import { el, setText, toast } from './ui.js';
import { icon } from './icons.js';
import { stateGroups } from './store.js';

export class RateHistory {
  constructor(capacity) {
    this.capacity = capacity;
    this.t = new Float64Array(capacity);
    this.down = new Float64Array(capacity);
    this.up = new Float64Array(capacity);
    this.start = 0;
    this.length = 0;
  }

  push(t, down, up) {
    const i = (this.start + this.length) % this.capacity;
    this.t[i] = t; this.down[i] = down; this.up[i] = up;
    if (this.length < this.capacity) this.length++; else this.start = (this.start + 1) % this.capacity;
  }

  /** The daemon's samples ({interval_seconds, end, down: [], up: []}), oldest first. */
  load(h) {
    this.start = 0;
    this.length = 0;
    const n = h.down.length;
    const end = Date.parse(h.end);
    for (let i = 0; i < n; i++) this.push(end - (n - 1 - i) * h.interval_seconds * 1000, h.down[i], h.up[i]);
  }

  /** Milliseconds between the oldest and the newest sample. */
  span() {
    if (this.length < 2) return 0;
    return this.t[(this.start + this.length - 1) % this.capacity] - this.t[this.start];
  }

  *samples(since) {
    for (let k = 0; k < this.length; k++) {
      const i = (this.start + k) % this.capacity;
      if (this.t[i] >= since) yield [this.t[i], this.down[i], this.up[i]];
    }
  }
}

/** Draws down (filled) and up (line) over the last options.seconds on a canvas sized by CSS. */
export function drawGraph(canvas, history, { seconds = 600, compact = false } = {}) {
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (!w || !h) return;
  const dpr = devicePixelRatio || 1;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const style = getComputedStyle(canvas);
  const css = name => style.getPropertyValue(name).trim();
  const now = Date.now();
  const since = now - seconds * 1000;
  const points = [...history.samples(since)];
  let max = 1024;
  for (const [, d, u] of points) max = Math.max(max, d, u);
  max = niceCeiling(max * 1.1);
  const left = compact ? 0 : 64, bottom = compact ? 0 : 20, top = compact ? 2 : 8;
  const pw = w - left, ph = h - bottom - top;
  const x = t => left + ((t - since) / (seconds * 1000)) * pw;
  const y = v => top + ph - (v / max) * ph;

  if (!compact) {
    g.font = `11px ${css('--font') || 'sans-serif'}`;
    g.fillStyle = css('--muted');
    g.strokeStyle = css('--border');
    g.lineWidth = 1;
    g.textBaseline = 'middle';
    for (let k = 0; k <= 4; k++) {
      const v = (max / 4) * k, yy = Math.round(y(v)) + 0.5;
      g.beginPath(); g.moveTo(left, yy); g.lineTo(w, yy); g.stroke();
      g.textAlign = 'right';
      g.fillText(fmt.rate(v), left - 8, yy);
    }
    g.textAlign = 'center';
    g.textBaseline = 'alphabetic';
    const step = seconds > 300 ? 120 : seconds > 120 ? 60 : seconds > 60 ? 30 : 15;
    for (let s = 0; s <= seconds; s += step) {
      const t = now - s * 1000;
      const label = s === 0 ? 'now' : s % 60 === 0 ? `-${s / 60} min` : `-${s}s`;
      g.fillText(label, Math.min(w - 16, Math.max(left + 16, x(t))), h - 4);
    }
  }
  if (points.length < 2) return;
  const line = (index, color, fill) => {
    g.beginPath();
    points.forEach((p, i) => (i ? g.lineTo(x(p[0]), y(p[index])) : g.moveTo(x(p[0]), y(p[index]))));
    g.strokeStyle = color;
    g.lineWidth = compact ? 1.5 : 2;
    g.lineJoin = 'round';
    g.stroke();
    if (fill) {
      g.lineTo(x(points.at(-1)[0]), top + ph);
      g.lineTo(x(points[0][0]), top + ph);
      g.closePath();
      const gradient = g.createLinearGradient(0, top, 0, top + ph);
      gradient.addColorStop(0, withAlpha(color, 0.32));
      gradient.addColorStop(1, withAlpha(color, 0.02));
      g.fillStyle = gradient;
      g.fill();
    }
  };
  line(1, css('--down') || '#0e8f82', true);
  line(2, css('--up') || '#7c5cd6', !compact);
}

function niceCeiling(v) {
  const p = 1024 ** Math.floor(Math.log(v) / Math.log(1024));
  const m = v / p;
  const nice = [1, 2, 4, 5, 8, 10, 16, 20, 32, 40, 50, 64, 80, 100, 128, 200, 256, 400, 512, 800, 1024].find(n => n >= m) ?? 1024;
  return nice * p;
}

function withAlpha(color, alpha) {
  if (color.startsWith('#') && color.length === 7) {
    const n = parseInt(color.slice(1), 16);
    return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
  }
  return color;
}

export class OverviewPage {
  constructor(app, root) {
    this.app = app;
    this.root = root;
    const card = (label, cls = '') => {
      const value = el(`div.value${cls}`), sub = el('div.sub');
      return { node: el('div.card', el('div.label', label), value, sub), value, sub };
    };
    this.cards = {
      down: card('Download', '.down'), up: card('Upload', '.up'),
      downloaded: card('Downloaded'), uploaded: card('Uploaded'),
      torrents: card('Torrents'), peers: card('Peers'),
      dht: card('DHT nodes'), free: card('Free space'),
    };
    this.graph = el('canvas.graph', { role: 'img', 'aria-label': 'Download and upload rates over the last ten minutes' });
    this.altSwitch = el('input.switch', { type: 'checkbox', 'aria-label': 'Alternative speed limits' });
    this.altSwitch.addEventListener('change', async () => {
      try {
        this.app.settings = await api.patch('settings', { alt_speed_enabled: this.altSwitch.checked });
      } catch (e) {
        toast(e.message, 'error', 'Could not switch the speed limits');
      }
    });
    this.altText = el('div.sub');
    this.bars = el('div.state-bars');
    root.append(
      el('h1.page-title', 'Overview'),
      el('div.cards', this.cards.down.node, this.cards.up.node, this.cards.downloaded.node, this.cards.uploaded.node),
      el('div.card.graph-card',
        el('div.graph-head', this.graphTitle = el('h2', 'Transfer rates'),
          el('div.graph-legend', el('span', el('i.dot.down'), 'Download'), el('span', el('i.dot.up'), 'Upload'))),
        this.graph),
      el('div.cards', this.cards.torrents.node, this.cards.peers.node, this.cards.dht.node, this.cards.free.node),
      el('div.two',
        el('div.card.alt-card', icon('turtle'), el('div.grow', el('strong', 'Alternative speed limits'), this.altText), this.altSwitch),
        el('div.card', el('div.label', 'By state'), this.bars)));
    new ResizeObserver(() => this.update()).observe(this.graph);
  }

  show() {
    api.get('settings').then(s => { this.app.settings = s; this.update(); }).catch(() => {});
    this.update();
  }

  update() {
    if (this.root.hidden) return;
    // The last ten minutes, or less while the daemon has not been up that long (a few seconds drawn over ten
    // minutes would be a sliver at the right edge).
    const span = this.app.history.span() / 1000;
    const minutes = Math.min(10, Math.max(1, Math.ceil(span / 60)));
    setText(this.graphTitle, `Transfer rates, last ${minutes === 1 ? 'minute' : `${minutes} minutes`}`);
    drawGraph(this.graph, this.app.history, { seconds: minutes * 60 });
    const s = this.app.stats;
    if (!s) return;
    const c = this.cards;
    setText(c.down.value, fmt.rate(s.down_rate));
    setText(c.down.sub, s.download_limit ? `limit ${fmt.rate(s.download_limit)}` : 'no limit');
    setText(c.up.value, fmt.rate(s.up_rate));
    setText(c.up.sub, s.upload_limit ? `limit ${fmt.rate(s.upload_limit)}` : 'no limit');
    setText(c.downloaded.value, fmt.size(s.downloaded));
    setText(c.downloaded.sub, 'by every torrent, over its life here');
    setText(c.uploaded.value, fmt.size(s.uploaded));
    setText(c.uploaded.sub, `ratio ${fmt.ratio(s.downloaded ? s.uploaded / s.downloaded : 0)}`);
    setText(c.torrents.value, fmt.count(s.torrents));
    setText(c.torrents.sub, `${s.downloading} downloading · ${s.seeding} seeding`);
    setText(c.peers.value, fmt.count(s.peers));
    setText(c.peers.sub, `port ${s.listen_port} · up ${fmt.duration(s.uptime_seconds)}`);
    setText(c.dht.value, fmt.count(s.dht_nodes));
    setText(c.dht.sub, s.dht_nodes ? 'in the routing table' : 'DHT off or starting');
    setText(c.free.value, s.free_space >= 0 ? fmt.size(s.free_space) : 'unknown');
    setText(c.free.sub, 'in the default download folder');
    c.free.node.title = this.app.settings?.default_save_path ?? '';
    if (document.activeElement !== this.altSwitch) this.altSwitch.checked = !!this.app.settings?.alt_speed_enabled;
    const st = this.app.settings;
    setText(this.altText, `${s.alt_speed_active ? 'In force' : 'Off'} · ↓ ${st?.alt_download_limit ? fmt.rate(st.alt_download_limit) : 'unlimited'} · ↑ ${st?.alt_upload_limit ? fmt.rate(st.alt_upload_limit) : 'unlimited'}${st?.alt_schedule_enabled ? ' · on a schedule' : ''}`);
    const counts = this.app.store.counts().groups;
    const total = Math.max(1, s.torrents);
    if (!this.barNodes) {
      this.barNodes = new Map();
      for (const g of stateGroups.filter(g => ['downloading', 'seeding', 'paused', 'queued', 'checking', 'error'].includes(g.id))) {
        const fill = el('i'), n = el('span.pct');
        this.barNodes.set(g.id, { fill, n });
        this.bars.append(el('div.state-bar', el('span', g.label), el('div.bar', fill), n));
      }
    }
    for (const [id, { fill, n }] of this.barNodes) {
      fill.style.transform = `scaleX(${counts[id] / total})`;
      setText(n, fmt.count(counts[id]));
    }
  }
}
