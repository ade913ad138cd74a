// Where a JSON Pointer (RFC 6901) points in JSON *text*: the character range of the value.
//
// The core reports problems as pointers into the parsed document; to highlight the place in the
// editor the page needs offsets into the text the person typed, which no parsed value keeps. This
// is presentation only (the core never needs text positions), so it lives here, beside the page:
// a small scanner over the text, no dependencies. Offsets are UTF-16 indices, as textarea
// selections use.

/** The `[start, end)` range of the value at `pointer` in `text`, plus `exact: false` when the
 * pointer goes past what exists (a missing required property): then the range is the deepest
 * value that does exist. `null` when the text is not JSON. */
export function locate(text, pointer) {
  const tokens = parsePointer(pointer);
  if (tokens === null) return null;
  const s = new Scanner(text);
  try {
    let start = s.skipWs(text.charCodeAt(0) === 0xfeff ? 1 : 0);
    let end = s.skipValue(start);
    if (s.skipWs(end) !== text.length) s.fail();
    for (const token of tokens) {
      const child = s.child(start, token);
      if (child === null) return { start, end, exact: false };
      [start, end] = child;
    }
    return { start, end, exact: true };
  } catch (e) {
    if (e instanceof SyntaxError) return null;
    throw e;
  }
}

/** The reference tokens of an RFC 6901 pointer (`~1` is `/`, `~0` is `~`), or `null`. */
export function parsePointer(pointer) {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return null;
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** The UTF-16 offset of serde_json's "line L column C" (C counts bytes of UTF-8, from 1), or
 * `null` when the message names no position. Used to point at invalid JSON. */
export function syntaxErrorOffset(text, message) {
  const m = /line (\d+) column (\d+)/.exec(message);
  if (!m) return null;
  const line = Number(m[1]);
  const column = Number(m[2]);
  let offset = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf('\n', offset);
    if (nl < 0) return text.length;
    offset = nl + 1;
  }
  const lineEnd = text.indexOf('\n', offset) < 0 ? text.length : text.indexOf('\n', offset);
  let bytes = 0;
  let i = offset;
  while (i < lineEnd && bytes < column - 1) {
    const cp = text.codePointAt(i);
    bytes += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    i += cp >= 0x10000 ? 2 : 1;
  }
  return Math.max(offset, Math.min(i, text.length));
}

class Scanner {
  constructor(text) {
    this.text = text;
  }

  fail() {
    throw new SyntaxError('not JSON');
  }

  skipWs(i) {
    const t = this.text;
    while (i < t.length) {
      const c = t.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      i++;
    }
    return i;
  }

  /** End of the value starting at `i`. */
  skipValue(i) {
    const t = this.text;
    const c = t[i];
    if (c === '{') return this.skipContainer(i, true);
    if (c === '[') return this.skipContainer(i, false);
    if (c === '"') return this.skipString(i);
    const m = /^(?:-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)/.exec(t.slice(i, i + 400));
    if (!m || m[0] === '') this.fail();
    return i + m[0].length;
  }

  skipString(i) {
    const t = this.text;
    if (t[i] !== '"') this.fail();
    i++;
    while (i < t.length) {
      const c = t[i];
      if (c === '"') return i + 1;
      i += c === '\\' ? 2 : 1;
    }
    return this.fail();
  }

  skipContainer(i, isObject) {
    this.members(i, isObject, () => false);
    return this.lastEnd;
  }

  /** Walks the members of the object or array at `i`, calling `visit(key, start, end)` for each;
   * `key` is the decoded property name or the index. The last match wins, as in serde_json's map
   * (a duplicate key keeps its last value). Sets `this.lastEnd` to the container's end. */
  members(i, isObject, visit) {
    const t = this.text;
    const close = isObject ? '}' : ']';
    let found = null;
    i = this.skipWs(i + 1);
    let index = 0;
    if (t[i] === close) {
      this.lastEnd = i + 1;
      return found;
    }
    for (;;) {
      let key = index;
      if (isObject) {
        const keyEnd = this.skipString(i);
        key = JSON.parse(t.slice(i, keyEnd));
        i = this.skipWs(keyEnd);
        if (t[i] !== ':') this.fail();
        i = this.skipWs(i + 1);
      }
      const end = this.skipValue(i);
      if (visit(key, i, end)) found = [i, end];
      index++;
      i = this.skipWs(end);
      if (t[i] === ',') {
        i = this.skipWs(i + 1);
      } else if (t[i] === close) {
        this.lastEnd = i + 1;
        return found;
      } else {
        this.fail();
      }
    }
  }

  /** The range of member `token` of the container at `start`, or `null`. */
  child(start, token) {
    const c = this.text[start];
    if (c === '{') return this.members(start, true, (key) => key === token);
    if (c === '[') {
      if (!/^(?:0|[1-9]\d*)$/.test(token)) return null;
      const want = Number(token);
      return this.members(start, false, (index) => index === want);
    }
    return null;
  }
}
