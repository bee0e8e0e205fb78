import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateSm2KeyPair } from '../crypto/sm2.ts';
import { sm3Hex } from '../crypto/sm3.ts';
import { SyncError } from '../sync-error.ts';
import { type Ack, buildAck, verifyAck } from './ack-v1.ts';
import { canonicalBytes } from './jcs.ts';

const bank = generateSm2KeyPair();
const ack: Ack = {
  boxId: 'box-0001',
  batchSeq: 7,
  lastSeq: 45,
  digest: sm3Hex('batch 7'),
  status: 'stored',
  ackedAt: '2026-03-02T03:30:01.250Z',
  requestNonce: '0f'.repeat(16),
};
const expectFor = {
  boxId: 'box-0001',
  batchSeq: 7,
  digest: sm3Hex('batch 7'),
  requestNonce: '0f'.repeat(16),
};

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'no error';
  } catch (e) {
    if (e instanceof SyncError) return e.code;
    throw e;
  }
};

describe('ack v1', () => {
  it('verifies a signed ack for this batch', () => {
    const bytes = buildAck(ack, bank.privateKeyHex);
    expect(verifyAck(bytes, bank.publicKeyHex, expectFor)).toEqual(ack);
    expect(
      verifyAck(
        buildAck({ ...ack, status: 'duplicate', requestNonce: null }, bank.privateKeyHex),
        bank.publicKeyHex,
        {
          boxId: 'box-0001',
          batchSeq: 7,
          digest: ack.digest,
        },
      ).status,
    ).toBe('duplicate');
  });

  it('refuses an ack signed by another key or altered after signing', () => {
    expect(
      codeOf(() =>
        verifyAck(buildAck(ack, generateSm2KeyPair().privateKeyHex), bank.publicKeyHex, expectFor),
      ),
    ).toBe('SYNC_ACK_SIGNATURE');
    const env = JSON.parse(buildAck({ ...ack, status: 'duplicate' }, bank.privateKeyHex).toString()) as {
      ack: Ack;
    };
    env.ack.status = 'stored';
    expect(codeOf(() => verifyAck(canonicalBytes(env), bank.publicKeyHex, expectFor))).toBe(
      'SYNC_ACK_SIGNATURE',
    );
  });

  it('refuses a genuine ack of another batch or request (replay)', () => {
    const old = buildAck({ ...ack, batchSeq: 6, digest: sm3Hex('batch 6') }, bank.privateKeyHex);
    expect(codeOf(() => verifyAck(old, bank.publicKeyHex, expectFor))).toBe('SYNC_ACK_MISMATCH');
    const otherNonce = buildAck({ ...ack, requestNonce: 'aa'.repeat(16) }, bank.privateKeyHex);
    expect(codeOf(() => verifyAck(otherNonce, bank.publicKeyHex, expectFor))).toBe('SYNC_ACK_MISMATCH');
    const otherBox = buildAck({ ...ack, boxId: 'box-0002' }, bank.privateKeyHex);
    expect(codeOf(() => verifyAck(otherBox, bank.publicKeyHex, expectFor))).toBe('SYNC_ACK_MISMATCH');
  });

  it('answers junk with SYNC_ACK_MALFORMED only', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.json().map((j) => Buffer.from(j)),
        ),
        (bytes) => {
          expect(codeOf(() => verifyAck(bytes, bank.publicKeyHex, expectFor))).toBe('SYNC_ACK_MALFORMED');
        },
      ),
      { numRuns: 200 },
    );
  });
});
