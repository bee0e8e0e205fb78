/**
 * One `Range` request header against a representation of `size` bytes (RFC 9110 §14.1.2, §14.2),
 * pure. The image server supports a single byte range:
 * - no header, another unit, a syntactically invalid range (`bytes=5-2`, `bytes=x`), or several ranges:
 *   `ignore` — §14.2 lets a server ignore Range ("MAY ignore"; an unknown unit "MUST" be ignored), so
 *   the answer is the whole image (200); we never build multipart answers, so a many-ranges request
 *   cannot make us read the image many times over (the CVE-2011-3192 pattern);
 * - a range that starts at or past the end, or a zero-length suffix: `unsatisfiable` (416, §15.5.17,
 *   with `Content-Range: bytes *\/size`);
 * - otherwise the inclusive range, its last position clamped to size - 1 (§14.1.2) (206, §15.3.7).
 */
export type RangeAnswer =
  | { kind: 'ignore' }
  | { kind: 'unsatisfiable' }
  | { kind: 'range'; start: number; end: number };

/** Digits only, at most 15 of them: anything longer is past any image we serve (and past 2^53). */
const POSITION = /^\d{1,15}$/;
const LONG_POSITION = /^\d{16,}$/;

export function parseRangeHeader(header: string | undefined, size: number): RangeAnswer {
  if (header === undefined) return { kind: 'ignore' };
  const match = /^\s*bytes\s*=\s*(.*)$/i.exec(header);
  if (!match) return { kind: 'ignore' };
  const spec = (match[1] ?? '').trim();
  if (spec.includes(',')) return { kind: 'ignore' };
  const dash = spec.indexOf('-');
  if (dash < 0) return { kind: 'ignore' };
  const first = spec.slice(0, dash).trim();
  const last = spec.slice(dash + 1).trim();
  if (first === '') {
    // suffix-range: the last N bytes.
    if (!POSITION.test(last)) return LONG_POSITION.test(last) ? whole(size) : { kind: 'ignore' };
    const n = Number(last);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', start: Math.max(0, size - n), end: size - 1 };
  }
  if (LONG_POSITION.test(first)) return { kind: 'unsatisfiable' };
  if (!POSITION.test(first)) return { kind: 'ignore' };
  const start = Number(first);
  let end: number;
  if (last === '' || LONG_POSITION.test(last)) end = Number.MAX_SAFE_INTEGER;
  else if (POSITION.test(last)) end = Number(last);
  else return { kind: 'ignore' };
  if (end < start) return { kind: 'ignore' }; // "invalid if last-pos < first-pos" (§14.1.1)
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'range', start, end: Math.min(end, size - 1) };
}

function whole(size: number): RangeAnswer {
  return size === 0 ? { kind: 'unsatisfiable' } : { kind: 'range', start: 0, end: size - 1 };
}
