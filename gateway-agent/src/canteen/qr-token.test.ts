import { canonicalBytes, sm2Sign } from '@sceneway/cloud-sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { issueQrToken, type QrClaims, verifyQrToken } from './qr-token.ts';
import { BANK, NOON, OTHER_KEY } from './test-support.ts';

const claims: QrClaims = {
  v: 1,
  tokenId: 'Zt3bq9V1xYk2mN8pQr4sTu',
  account: 'campus-2024-00017',
  maxAmountFen: 3_000,
  expiresAt: Math.floor(NOON / 1000) + 60,
};

describe('canteen QR tokens', () => {
  it('round-trips, fits a POS frame and is printable ASCII', () => {
    const token = issueQrToken(claims, BANK.privateKeyHex);
    expect(token).toMatch(/^SWQ1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(token.length).toBeLessThanOrEqual(512);
    expect(verifyQrToken(token, BANK.publicKeyHex, NOON)).toEqual({ ok: true, claims });
  });

  it('refuses another key, a changed claim and a non-canonical encoding', () => {
    expect(
      verifyQrToken(issueQrToken(claims, OTHER_KEY.privateKeyHex), BANK.publicKeyHex, NOON),
    ).toMatchObject({
      ok: false,
      reason: 'QR_BAD_SIGNATURE',
    });
    const [prefix, , sig] = issueQrToken(claims, BANK.privateKeyHex).split('.');
    const richer = canonicalBytes({ ...claims, maxAmountFen: 300_000 }).toString('base64url');
    expect(verifyQrToken(`${prefix}.${richer}.${sig}`, BANK.publicKeyHex, NOON)).toMatchObject({
      reason: 'QR_BAD_SIGNATURE',
    });
    // Validly signed by the bank, but not JCS (key order): one token, one byte string.
    const loose = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const body = `SWQ1.${loose}`;
    const token = `${body}.${sm2Sign(Buffer.from(body), BANK.privateKeyHex).toString('base64url')}`;
    expect(verifyQrToken(token, BANK.publicKeyHex, NOON)).toMatchObject({ reason: 'QR_BAD_SIGNATURE' });
  });

  it('reports expiry with the claims, judged at the given time', () => {
    const token = issueQrToken(claims, BANK.privateKeyHex);
    expect(verifyQrToken(token, BANK.publicKeyHex, claims.expiresAt * 1000 - 1).ok).toBe(true);
    expect(verifyQrToken(token, BANK.publicKeyHex, claims.expiresAt * 1000)).toMatchObject({
      ok: false,
      reason: 'QR_EXPIRED',
      claims: { tokenId: claims.tokenId },
    });
  });

  it('answers any junk string with QR_BAD_SIGNATURE and never throws', () => {
    const good = issueQrToken(claims, BANK.privateKeyHex);
    const mutated = fc
      .tuple(fc.nat({ max: good.length - 1 }), fc.string({ minLength: 1, maxLength: 1 }))
      .map(([i, ch]) => good.slice(0, i) + ch + good.slice(i + 1))
      .filter((t) => t !== good);
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 600 }), mutated), (token) => {
        const verdict = verifyQrToken(token, BANK.publicKeyHex, NOON);
        expect(verdict).toMatchObject({ ok: false, reason: 'QR_BAD_SIGNATURE' });
      }),
      { numRuns: 300 },
    );
  });
});
