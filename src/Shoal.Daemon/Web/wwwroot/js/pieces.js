// The piece map: one small square per piece, or, when there are more pieces than squares fit, each square a run of
// pieces shaded by the share of them verified. Drawn on a canvas (one element whatever the piece count).

/** Decodes the daemon's answer ({piece_count, have: base64 bitfield, downloading: [indices]}) and draws it. */
export function drawPieceMap(canvas, map) {
  const n = map.piece_count;
  const bits = Uint8Array.from(atob(map.have ?? ''), c => c.charCodeAt(0));
  const has = i => (bits[i >> 3] & (0x80 >> (i & 7))) !== 0;
  const downloading = new Set(map.downloading ?? []);
  let have = 0;
  for (let i = 0; i < n; i++) if (has(i)) have++;

  const style = getComputedStyle(canvas);
  const colors = {
    have: style.getPropertyValue('--accent').trim() || '#0f766e',
    partial: style.getPropertyValue('--warn').trim() || '#b7791f',
    missing: style.getPropertyValue('--surface-3').trim() || '#eee',
  };
  const width = Math.max(100, canvas.clientWidth || canvas.parentElement.clientWidth);
  const maxCells = 12000;
  const groups = Math.min(n, maxCells);
  const per = n / Math.max(1, groups);
  let cell = Math.floor(Math.sqrt((width * 320) / Math.max(1, groups)));
  cell = Math.max(4, Math.min(14, cell));
  const cols = Math.max(1, Math.floor(width / cell));
  const rows = Math.ceil(groups / cols);
  const dpr = devicePixelRatio || 1;
  canvas.width = Math.round(cols * cell * dpr);
  canvas.height = Math.round(rows * cell * dpr);
  canvas.style.height = `${rows * cell}px`;
  canvas.style.width = `${cols * cell}px`;
  const g = canvas.getContext('2d');
  g.scale(dpr, dpr);
  const gap = cell >= 6 ? 1 : 0;
  let inFlight = 0;
  for (let k = 0; k < groups; k++) {
    const from = Math.floor(k * per), to = Math.max(from + 1, Math.floor((k + 1) * per));
    let h = 0, d = 0;
    for (let i = from; i < to; i++) { if (has(i)) h++; else if (downloading.has(i)) d++; }
    inFlight += d;
    const x = (k % cols) * cell, y = Math.floor(k / cols) * cell;
    g.fillStyle = colors.missing;
    g.fillRect(x, y, cell - gap, cell - gap);
    const span = to - from;
    if (h === span) {
      g.fillStyle = colors.have;
      g.fillRect(x, y, cell - gap, cell - gap);
    } else if (h > 0 || d > 0) {
      g.globalAlpha = 1;
      g.fillStyle = d > 0 && h === 0 ? colors.partial : colors.have;
      g.globalAlpha = d > 0 && h === 0 ? 1 : 0.25 + 0.75 * (h / span);
      g.fillRect(x, y, cell - gap, cell - gap);
      g.globalAlpha = 1;
    }
  }
  return { have, downloading: inFlight };
}
