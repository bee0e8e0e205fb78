import { describe, expect, it } from 'vitest';
import { generateSm2KeyPair } from '../crypto/sm2.ts';
import { signRefusal, verifyRefusal } from './refusal-v1.ts';

const bank = generateSm2KeyPair();
const refusal = {
  status: 403,
  code: 'BANK_BOX_NOT_ENROLLED',
  message: 'box box-a is not enrolled at this bank',
  bankHeadSeq: null,
  boxId: 'box-a',
  requestNonce: 'ab'.repeat(16),
  refusedAt: '2026-12-01T08:00:00.000Z',
};
const expectation = { boxId: 'box-a', requestNonce: 'ab'.repeat(16), status: 403 };

describe('sceneway.refusal.v1', () => {
  it('verifies with the bank key, for the request it names', () => {
    const signed = JSON.parse(JSON.stringify(signRefusal(refusal, bank.privateKeyHex)));
    expect(verifyRefusal(signed, bank.publicKeyHex, expectation)).toEqual(refusal);
  });

  it('refuses another key, an altered code, another nonce or status, and junk', () => {
    const signed = signRefusal(refusal, bank.privateKeyHex);
    const other = generateSm2KeyPair();
    const cases: unknown[] = [
      signRefusal(refusal, other.privateKeyHex),
      { ...signed, refusal: { ...signed.refusal, code: 'BANK_CHAIN_BROKEN' } },
      undefined,
      'junk',
    ];
    for (const c of cases) expect(() => verifyRefusal(c, bank.publicKeyHex, expectation)).toThrow(/refusal/);
    expect(() =>
      verifyRefusal(signed, bank.publicKeyHex, { ...expectation, requestNonce: 'cd'.repeat(16) }),
    ).toThrow(/another request/);
    expect(() => verifyRefusal(signed, bank.publicKeyHex, { ...expectation, status: 409 })).toThrow(
      /another request/,
    );
  });
});
