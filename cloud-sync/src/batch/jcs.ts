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

export function canonicalBytes(value: unknown): Buffer {
  const text = canonicalize(value);
  if (text === undefined) throw new SyncError('BATCH_MALFORMED', 'value is not canonicalizable JSON');
  return Buffer.from(text, 'utf8');
}
