import { canonicalBytes, sm2Sign } from '@sceneway/cloud-sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { issueQrToken, type QrClaims, verifyQrToken } from './qr-token.ts';
import { AUDIENCE, BANK, NOON, OTHER_KEY } from './test-support.ts';

const claims: QrClaims = {
  v: 2,
  aud: `site:${AUDIENCE.siteId}`,
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
    expect(verifyQrToken(token, BANK.publicKeyHex, NOON, AUDIENCE)).toEqual({ ok: true, claims });
  });

  it('refuses another key, a changed claim and a non-canonical encoding', () => {
    expect(
      verifyQrToken(issueQrToken(claims, OTHER_KEY.privateKeyHex), BANK.publicKeyHex, NOON, AUDIENCE),
    ).toMatchObject({
      ok: false,
      reason: 'QR_BAD_SIGNATURE',
    });
    const [prefix, , sig] = issueQrToken(claims, BANK.privateKeyHex).split('.');
    const richer = canonicalBytes({ ...claims, maxAmountFen: 300_000 }).toString('base64url');
    expect(verifyQrToken(`${prefix}.${richer}.${sig}`, BANK.publicKeyHex, NOON, AUDIENCE)).toMatchObject({
      reason: 'QR_BAD_SIGNATURE',
    });
    // Validly signed by the bank, but not JCS (key order): one token, one byte string.
    const loose = Buffer.from(JSON.stringify(claims)).toString('base64url');
    const body = `SWQ1.${loose}`;
    const token = `${body}.${sm2Sign(Buffer.from(body), BANK.privateKeyHex).toString('base64url')}`;
    expect(verifyQrToken(token, BANK.publicKeyHex, NOON, AUDIENCE)).toMatchObject({
      reason: 'QR_BAD_SIGNATURE',
    });
  });

  it('reports expiry with the claims, judged at the given time', () => {
    const token = issueQrToken(claims, BANK.privateKeyHex);
    expect(verifyQrToken(token, BANK.publicKeyHex, claims.expiresAt * 1000 - 1, AUDIENCE).ok).toBe(true);
    expect(verifyQrToken(token, BANK.publicKeyHex, claims.expiresAt * 1000, AUDIENCE)).toMatchObject({
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
        const verdict = verifyQrToken(token, BANK.publicKeyHex, NOON, AUDIENCE);
        expect(verdict).toMatchObject({ ok: false, reason: 'QR_BAD_SIGNATURE' });
      }),
      { numRuns: 300 },
    );
  });

  it('is accepted only where its audience names: this site, or this box', () => {
    const elsewhere = { siteId: 'campus-south-canteen', boxId: 'box-south-0001' };
    const siteToken = issueQrToken(claims, BANK.privateKeyHex);
    expect(verifyQrToken(siteToken, BANK.publicKeyHex, NOON, elsewhere)).toEqual({
      ok: false,
      reason: 'QR_BAD_SIGNATURE',
      flag: 'qr-wrong-audience',
      detail: `token is for site:${AUDIENCE.siteId}; this is site:campus-south-canteen, box:box-south-0001`,
    });
    const boxToken = issueQrToken({ ...claims, aud: `box:${AUDIENCE.boxId}` }, BANK.privateKeyHex);
    expect(verifyQrToken(boxToken, BANK.publicKeyHex, NOON, AUDIENCE).ok).toBe(true);
    // Another box of the same site: the site token is good there, the box token is not.
    const sibling = { siteId: AUDIENCE.siteId, boxId: 'box-north-0002' };
    expect(verifyQrToken(siteToken, BANK.publicKeyHex, NOON, sibling).ok).toBe(true);
    expect(verifyQrToken(boxToken, BANK.publicKeyHex, NOON, sibling)).toMatchObject({
      flag: 'qr-wrong-audience',
    });
    // A site id is not a box id: "site:x" never matches a box named x.
    const namesake = { siteId: 'other-site', boxId: AUDIENCE.siteId };
    expect(verifyQrToken(siteToken, BANK.publicKeyHex, NOON, namesake)).toMatchObject({
      flag: 'qr-wrong-audience',
    });
  });

  it('refuses a validly signed v1 token (no audience) with a precise reason', () => {
    const v1 = {
      v: 1,
      tokenId: claims.tokenId,
      account: claims.account,
      maxAmountFen: 3_000,
      expiresAt: claims.expiresAt,
    };
    const body = `SWQ1.${canonicalBytes(v1).toString('base64url')}`;
    const token = `${body}.${sm2Sign(Buffer.from(body), BANK.privateKeyHex).toString('base64url')}`;
    expect(verifyQrToken(token, BANK.publicKeyHex, NOON, AUDIENCE)).toMatchObject({
      reason: 'QR_BAD_SIGNATURE',
      flag: 'qr-bad-signature',
      detail: expect.stringContaining('no audience'),
    });
  });

  it('a token with the longest ids still fits the 512-character POS field', () => {
    const longest: QrClaims = {
      v: 2,
      aud: `site:${'s'.repeat(64)}`,
      tokenId: 't'.repeat(64),
      account: 'a'.repeat(64),
      maxAmountFen: Number.MAX_SAFE_INTEGER,
      expiresAt: Number.MAX_SAFE_INTEGER,
    };
    for (let i = 0; i < 20; i++)
      expect(issueQrToken(longest, BANK.privateKeyHex).length).toBeLessThanOrEqual(512);
  });
});
