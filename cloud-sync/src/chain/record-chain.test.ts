import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalBytesReference } from '../batch/jcs.ts';
import { sm3Hex } from '../crypto/sm3.ts';
import { type ChainRecord, chainFieldsOf, chainHash, chainText, GENESIS_HASH } from './record-chain.ts';

const text = fc.string({ unit: 'binary', maxLength: 24 });
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.maxSafeInteger(),
    text,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(text, tie('value'), { maxKeys: 4 }),
  ),
})).value;

const record: fc.Arbitrary<ChainRecord> = fc.record({
  boxId: text,
  seq: fc.nat(),
  kind: text,
  terminalId: fc.option(text),
  amountFen: fc.option(fc.maxSafeInteger()),
  payload: fc.dictionary(text, json, { maxKeys: 5 }) as fc.Arbitrary<ChainRecord['payload']>,
  piiDigest: fc.option(fc.stringMatching(/^[0-9a-f]{64}$/)),
  recordedAt: text,
  clockOffsetMs: fc.integer(),
  prevHash: text,
});

describe('chain hash', () => {
  it('hashes the same JCS bytes as the generic encoder, for any record', () => {
    fc.assert(
      fc.property(record, (r) => {
        const reference = canonicalBytesReference(chainFieldsOf(r)).toString('utf8');
        expect(chainText(r)).toBe(reference);
        expect(chainHash(r)).toBe(sm3Hex(Buffer.from(reference, 'utf8')));
      }),
      { numRuns: 2000 },
    );
  });

  it('covers only the chained fields: extra members of the object are not hashed', () => {
    const r: ChainRecord = {
      boxId: 'box-1',
      seq: 1,
      kind: 'sale',
      terminalId: 'pos-01',
      amountFen: 1250,
      payload: { window: 3, menuItem: 'noodles' },
      piiDigest: null,
      recordedAt: '2026-03-02T03:15:00.000Z',
      clockOffsetMs: 0,
      prevHash: GENESIS_HASH,
    };
    expect(chainHash({ ...r, hash: 'x', pii: null } as ChainRecord)).toBe(chainHash(r));
    expect(chainText(r)).toBe(
      `{"amountFen":1250,"boxId":"box-1","clockOffsetMs":0,"kind":"sale","payload":{"menuItem":"noodles","window":3},"piiDigest":null,"prevHash":"${GENESIS_HASH}","recordedAt":"2026-03-02T03:15:00.000Z","seq":1,"terminalId":"pos-01"}`,
    );
  });

  it('falls back to the generic encoder for a field of an unexpected type, with the same result', () => {
    const odd = {
      boxId: 'b',
      seq: 2,
      kind: 'k',
      terminalId: undefined,
      amountFen: null,
      payload: {},
      piiDigest: null,
      recordedAt: 't',
      clockOffsetMs: 0,
      prevHash: 'p',
    } as unknown as ChainRecord;
    // A missing terminalId is left out, as JCS leaves out undefined members.
    expect(chainText(odd)).toBe(canonicalBytesReference(chainFieldsOf(odd)).toString('utf8'));
    expect(chainText(odd)).not.toContain('terminalId');
  });
});
