import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ChainRecord, chainHash, GENESIS_HASH } from '../chain/record-chain.ts';
import { generateSm2KeyPair } from '../crypto/sm2.ts';
import { newPiiSalt, type PersonalDataEntry, piiDigestOf } from './batch-pii.ts';
import {
  buildBatch,
  checkBatchInternals,
  openPersonalData,
  parseBatchEnvelope,
  verifyBatchSignature,
} from './batch-v1.ts';

const box = generateSm2KeyPair();
const bank = generateSm2KeyPair();

const draft = fc.record({
  kind: fc.constantFrom('sale', 'void', 'offline-sale', 'attendance', 'plate-sighting', 'alert'),
  terminalId: fc.option(fc.string({ minLength: 1, maxLength: 12 }), { nil: null }),
  amountFen: fc.option(fc.integer({ min: -1_000_000_000, max: 1_000_000_000 }), { nil: null }),
  payload: fc.dictionary(
    fc.string({ maxLength: 8 }),
    fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null)),
    {
      maxKeys: 4,
    },
  ),
  pii: fc.option(
    fc.dictionary(
      fc.string({ minLength: 1, maxLength: 10 }).filter((k) => k !== 'salt' && k !== '__proto__'),
      fc.string({ maxLength: 24 }),
      { minKeys: 1, maxKeys: 3 },
    ),
    { nil: undefined },
  ),
});

describe('batch v1 properties', () => {
  it('any chain of records survives build → parse → verify → check → open unchanged', () => {
    fc.assert(
      fc.property(
        fc.array(draft, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        (drafts, firstSeq) => {
          const records: Array<ChainRecord & { hash: string }> = [];
          const personalData = new Map<number, PersonalDataEntry>();
          let prev = GENESIS_HASH;
          drafts.forEach((d, i) => {
            const seq = firstSeq + i;
            const salt = newPiiSalt();
            if (d.pii) personalData.set(seq, { salt, pii: d.pii });
            const r: ChainRecord = {
              boxId: 'box-prop',
              seq,
              kind: d.kind,
              terminalId: d.terminalId,
              amountFen: d.amountFen,
              payload: d.payload,
              piiDigest: d.pii ? piiDigestOf(salt, d.pii) : null,
              recordedAt: new Date(1_770_000_000_000 + i * 1000).toISOString(),
              clockOffsetMs: -3,
              prevHash: prev,
            };
            prev = chainHash(r);
            records.push({ ...r, hash: prev });
          });
          const built = buildBatch(
            {
              boxId: 'box-prop',
              batchSeq: firstSeq,
              prevChainHead: GENESIS_HASH,
              records,
              personalData,
              createdAt: '2026-03-02T00:00:00.000Z',
            },
            { boxPrivateKeyHex: box.privateKeyHex, bankPublicKeyHex: bank.publicKeyHex },
          );
          const parsed = parseBatchEnvelope(built.body);
          expect(verifyBatchSignature(parsed, box.publicKeyHex)).toBe(true);
          checkBatchInternals(parsed);
          expect(parsed.body.records.map(({ pii: _p, ...r }) => r)).toEqual(records);
          const opened = openPersonalData(parsed, bank.privateKeyHex);
          expect(opened).toEqual(new Map([...personalData].map(([seq, e]) => [seq, e.pii])));
        },
      ),
      { numRuns: 25 },
    );
  });
});
