import canonicalizeModule from 'canonicalize';
import { SyncError } from '../sync-error.ts';

/**
 * RFC 8785 (JCS) bytes of a JSON value: the one encoding every signed or hashed object in the
 * sync protocol uses (records, batches, acks, request fields). Same choice as the record chain
 * (chain/record-chain.ts): implementable from the RFC in any bank language, and unambiguous for our
 * values, which are strings, booleans, null and safe integers only (no floats, so no number
 * formatting differences between implementations).
 */
// canonicalize is CommonJS (`module.exports = serialize`) but its d.ts declares `export default`,
// which TypeScript under NodeNext types as the module object: the runtime value is the function.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

/** Property names that JS engines enumerate first, in numeric order, whatever the insertion order. */
const ARRAY_INDEX_KEY = /^(?:0|[1-9][0-9]{0,9})$/;

/**
 * Returns `value` with every object's members in JCS order (UTF-16 code units), so the native
 * JSON.stringify writes JCS: RFC 8785 defines its string and number forms as ECMAScript's
 * JSON.stringify, and our numbers are safe integers only. A subtree already in that order is returned
 * as is, not copied: what JSON.parse made of canonical bytes (every batch at the bank) and records
 * built in key order cost no allocation. Returns SLOW_PATH for a subtree that this fast path cannot
 * order (integer-like keys, which engines always enumerate first; non-plain values).
 */
function sortedForJcs(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) return SLOW_PATH;
    return value;
  }
  if (depth > 64) return SLOW_PATH;
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const item = sortedForJcs(value[i], depth + 1);
      if (item === SLOW_PATH) return SLOW_PATH;
      if (item !== value[i]) {
        out ??= value.slice();
        out[i] = item;
      }
    }
    return out ?? value;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null)
    return SLOW_PATH;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  let unchanged = true;
  const sortedMembers: unknown[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (ARRAY_INDEX_KEY.test(key)) return SLOW_PATH;
    if (i > 0 && (keys[i - 1] as string) > key) unchanged = false;
    const member = record[key];
    if (member === undefined || typeof member === 'function' || typeof member === 'symbol') {
      unchanged = false;
      sortedMembers[i] = undefined;
      continue;
    }
    const sorted = sortedForJcs(member, depth + 1);
    if (sorted === SLOW_PATH) return SLOW_PATH;
    if (sorted !== member) unchanged = false;
    sortedMembers[i] = sorted;
  }
  if (unchanged) return value;
  const order = keys.map((_, i) => i).sort((a, b) => ((keys[a] as string) < (keys[b] as string) ? -1 : 1));
  // No prototype: on a plain object, assigning the key "__proto__" (which JSON.parse does create as
  // an own member) would set the prototype instead of adding a member. Found by the property test.
  const out: Record<string, unknown> = Object.create(null);
  for (const i of order) if (sortedMembers[i] !== undefined) out[keys[i] as string] = sortedMembers[i];
  return out;
}
const SLOW_PATH = Symbol('jcs-slow-path');

/**
 * JCS bytes. The fast path (sorted copy + native JSON.stringify) is about 5x faster than the
 * `canonicalize` library on batch-sized values, which made it the top cost of building and checking a
 * batch (measured: docs/decisions.md D-JCS); anything it cannot order exactly falls back to the library,
 * and a property test checks both agree byte for byte.
 */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalText(value), 'utf8');
}

/** JCS as a string: for callers that embed it in a larger JCS text or hash it directly. */
export function canonicalText(value: unknown): string {
  const sorted = sortedForJcs(value);
  const text = sorted === SLOW_PATH ? canonicalize(value) : JSON.stringify(sorted);
  if (text === undefined) throw new SyncError('BATCH_MALFORMED', 'value is not canonicalizable JSON');
  refuseLoneSurrogates(text);
  return text;
}

/** The reference implementation (the `canonicalize` library), for tests that compare the two. */
export function canonicalBytesReference(value: unknown): Buffer {
  const text = canonicalize(value);
  if (text === undefined) throw new SyncError('BATCH_MALFORMED', 'value is not canonicalizable JSON');
  refuseLoneSurrogates(text);
  return Buffer.from(text, 'utf8');
}

/**
 * A `\uD800`-`\uDFFF` escape that JSON.stringify wrote, i.e. preceded by an even number of
 * backslashes (an odd one would make it the text "\\ud800", an escaped backslash and letters).
 */
const LONE_SURROGATE_ESCAPE = /(?:^|[^\\])(?:\\\\)*\\ud[89a-f][0-9a-f]{2}/i;

/**
 * RFC 8785 §3.2.2.2: a string with a lone surrogate has no JCS form ("MUST ... cause an error"),
 * and I-JSON (RFC 7493 §2.1) forbids it: a bank written in another language cannot verify a hash
 * over it, so a record carrying one would stall that box's sync forever. Since ES2019 JSON.stringify
 * writes a lone surrogate (and only a lone surrogate) as a `\udXXX` escape, so the check is one scan
 * of the text, and a plain `includes` skips even that for every text without such an escape.
 */
function refuseLoneSurrogates(text: string): void {
  if (!text.includes('\\ud') && !text.includes('\\uD')) return;
  const match = LONE_SURROGATE_ESCAPE.exec(text);
  if (match) {
    const at = match.index + match[0].length - 6;
    throw new SyncError(
      'BATCH_LONE_SURROGATE',
      `a string holds a lone UTF-16 surrogate (${text.slice(at, at + 6)}), which has no JCS form (RFC 8785 §3.2.2.2)`,
      'Refuse the input where it entered (the terminal, the config): strings must be well-formed Unicode.',
    );
  }
}
