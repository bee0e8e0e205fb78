import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sm3Hex } from '../crypto/sm3.ts';
import { SyncError } from '../sync-error.ts';
import { checkBatchInternals, openPersonalData, parseBatchEnvelope } from './batch-v1.ts';
import { canonicalBytes } from './jcs.ts';
import { sampleSignedBatch } from './test-support/sample-batch.ts';

/**
 * The bank parses whatever arrives at POST /v1/batches. Whatever the bytes, parsing and the checks
 * after it either succeed or throw a SyncError with a code the bank turns into a specific refusal:
 * never a TypeError or a RangeError (a 503 and a confused box), never a hang.
 */
const { body: valid, bank } = sampleSignedBatch('box-fuzz', 8);

function parseAndCheck(bytes: Uint8Array): void {
  try {
    const parsed = parseBatchEnvelope(bytes);
    checkBatchInternals(parsed);
    openPersonalData(parsed, bank.privateKeyHex);
  } catch (e) {
    if (!(e instanceof SyncError)) throw e;
    expect(e.code).toMatch(/^BATCH_[A-Z_]+$/);
  }
}

/** Replaces the value at a random path of a JSON tree. */
function replaceAt(tree: unknown, path: number[], value: unknown): unknown {
  if (path.length === 0 || tree === null || typeof tree !== 'object') return value;
  const keys = Object.keys(tree);
  if (keys.length === 0) return value;
  const key = keys[(path[0] as number) % keys.length] as string;
  const copy = (Array.isArray(tree) ? [...tree] : { ...tree }) as Record<string, unknown>;
  copy[key] = replaceAt((tree as Record<string, unknown>)[key], path.slice(1), value);
  return copy;
}

describe('batch envelope parser under garbage', () => {
  it('byte-level damage (flips, cuts, insertions) ends in a SyncError or a valid parse', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            at: fc.nat(),
            byte: fc.integer({ min: 0, max: 255 }),
            kind: fc.constantFrom('flip', 'cut', 'insert'),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        (edits) => {
          let bytes = Buffer.from(valid);
          for (const { at, byte, kind } of edits) {
            const i = at % bytes.length;
            if (kind === 'flip') bytes[i] = byte;
            else if (kind === 'cut') bytes = bytes.subarray(0, i);
            else bytes = Buffer.concat([bytes.subarray(0, i), Buffer.from([byte]), bytes.subarray(i)]);
            if (bytes.length === 0) bytes = Buffer.from('{');
          }
          parseAndCheck(bytes);
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('value-level damage (any JSON value at any path) ends in a SyncError or a valid parse', () => {
    const tree: unknown = JSON.parse(valid.toString());
    fc.assert(
      fc.property(
        fc.array(fc.nat(), { maxLength: 7 }),
        fc.jsonValue({ maxDepth: 3 }),
        fc.boolean(),
        (path, value, fixDigest) => {
          const damaged = replaceAt(tree, path, value) as { batch?: unknown; digest?: unknown };
          // With the digest recomputed the damage reaches the checks behind the digest (schema, chain,
          // totals, personal data) instead of stopping at BATCH_DIGEST.
          if (fixDigest && damaged && typeof damaged === 'object' && 'batch' in damaged) {
            try {
              damaged.digest = sm3Hex(canonicalBytes(damaged.batch));
            } catch {
              // not canonicalisable: left as it is
            }
          }
          parseAndCheck(Buffer.from(JSON.stringify(damaged)));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('damage the schema accepts (right types, wrong values) is refused by the chain, totals or seal checks', () => {
    const hex = (bytes: number) =>
      fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b).toString('hex'));
    const fieldValue = fc.oneof(
      fc.record({ field: fc.constant('amountFen'), value: fc.integer({ min: -1_000_000, max: 1_000_000 }) }),
      fc.record({
        field: fc.constantFrom('kind', 'terminalId'),
        value: fc.string({ minLength: 1, maxLength: 8 }),
      }),
      fc.record({ field: fc.constantFrom('hash', 'prevHash', 'piiDigest'), value: hex(32) }),
      fc.record({ field: fc.constant('pii'), value: fc.record({ ciphertext: hex(32), iv: hex(16) }) }),
      fc.record({ field: fc.constant('seq'), value: fc.nat({ max: 20 }) }),
    );
    const codes = new Set<string>();
    fc.assert(
      fc.property(fc.nat(), fieldValue, (at, { field, value }) => {
        const tree = JSON.parse(valid.toString()) as {
          batch: { records: Array<Record<string, unknown>> };
          digest: string;
        };
        const record = tree.batch.records[at % tree.batch.records.length] as Record<string, unknown>;
        const before = JSON.stringify(record[field]);
        record[field] = value;
        tree.digest = sm3Hex(canonicalBytes(tree.batch));
        try {
          const parsed = parseBatchEnvelope(Buffer.from(JSON.stringify(tree)));
          checkBatchInternals(parsed);
          openPersonalData(parsed, bank.privateKeyHex);
        } catch (e) {
          if (!(e instanceof SyncError)) throw e;
          codes.add(e.code);
          return;
        }
        // Accepted only when the "damage" wrote the value that was there.
        expect(JSON.stringify(value)).toBe(before);
      }),
      { numRuns: 800 },
    );
    expect([...codes]).toEqual(expect.arrayContaining(['BATCH_CHAIN', 'BATCH_PII_DIGEST', 'BATCH_SEQ_GAP']));
  });

  it('names the digest when a value is altered but the signature and digest are left as they were', () => {
    const tree = JSON.parse(valid.toString()) as { batch: { records: Array<{ amountFen: number }> } };
    const first = tree.batch.records[0];
    if (first) first.amountFen += 1;
    expect(() => parseBatchEnvelope(Buffer.from(JSON.stringify(tree)))).toThrowError(
      expect.objectContaining({ code: 'BATCH_DIGEST' }),
    );
  });
});
