// Just enough of a bencode reader to show a .torrent's name and files before adding it (the daemon parses it for
// real). Byte strings stay bytes until a caller asks for text.

export class BencodeError extends Error {}

export function decode(bytes) {
  let pos = 0;
  const fail = why => { throw new BencodeError(`not a .torrent file (${why} at byte ${pos})`); };
  const value = depth => {
    if (depth > 64) fail('nested too deep');
    const c = bytes[pos];
    if (c === 0x69) { // i...e
      const end = bytes.indexOf(0x65, pos);
      if (end < 0) fail('unterminated integer');
      const n = Number(new TextDecoder().decode(bytes.subarray(pos + 1, end)));
      if (!Number.isFinite(n)) fail('bad integer');
      pos = end + 1;
      return n;
    }
    if (c === 0x6c) { // l...e
      pos++;
      const list = [];
      while (bytes[pos] !== 0x65) { if (pos >= bytes.length) fail('unterminated list'); list.push(value(depth + 1)); }
      pos++;
      return list;
    }
    if (c === 0x64) { // d...e
      pos++;
      const dict = new Map();
      while (bytes[pos] !== 0x65) {
        if (pos >= bytes.length) fail('unterminated dictionary');
        const key = text(value(depth + 1));
        dict.set(key, value(depth + 1));
      }
      pos++;
      return dict;
    }
    if (c >= 0x30 && c <= 0x39) {
      const colon = bytes.indexOf(0x3a, pos);
      if (colon < 0) fail('bad string length');
      const length = Number(new TextDecoder().decode(bytes.subarray(pos, colon)));
      if (!Number.isInteger(length) || colon + 1 + length > bytes.length) fail('string past the end');
      pos = colon + 1 + length;
      return bytes.subarray(colon + 1, pos);
    }
    fail('unexpected byte');
  };
  const result = value(0);
  return result;
}

export function text(v) {
  return v instanceof Uint8Array ? new TextDecoder().decode(v) : String(v);
}

/** The name, total size and files ({index, path, length, padding}) of a .torrent (v1 or hybrid). */
export function describeTorrent(bytes) {
  const root = decode(bytes);
  const info = root instanceof Map ? root.get('info') : null;
  if (!(info instanceof Map)) throw new BencodeError('not a .torrent file (no info dictionary)');
  const name = text(info.get('name.utf-8') ?? info.get('name') ?? 'unnamed');
  const list = info.get('files');
  if (Array.isArray(list)) {
    const files = list.map((f, index) => {
      const path = f.get('path.utf-8') ?? f.get('path') ?? [];
      const attr = f.has('attr') ? text(f.get('attr')) : '';
      return { index, path: [name, ...path.map(text)].join('/'), length: f.get('length') ?? 0, padding: attr.includes('p') };
    });
    return { name, size: files.reduce((s, f) => s + (f.padding ? 0 : f.length), 0), files };
  }
  const length = info.get('length') ?? 0;
  return { name, size: length, files: [{ index: 0, path: name, length, padding: false }] };
}
