import { describe, expect, it } from 'vitest';
import { generateSm2KeyPair } from '../crypto/sm2.ts';
import { sm3Hex } from '../crypto/sm3.ts';
import { SyncError } from '../sync-error.ts';
import {
  REQUEST_HEADERS,
  requestBoxId,
  requestHeaders,
  signRequest,
  verifyRequest,
  verifyRequestHeaders,
} from './request-auth.ts';

const box = generateSm2KeyPair();
const digest = sm3Hex('batch 7');
const now = new Date('2026-03-02T03:30:00.000Z');

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'no error';
  } catch (e) {
    if (e instanceof SyncError) return e.code;
    throw e;
  }
};

describe('request signing (004 §5.3.1 h)', () => {
  it('signs the four fields and verifies them', () => {
    const fields = { boxId: 'box-0001', digest, nonce: '01'.repeat(16), timestamp: now.toISOString() };
    const sig = signRequest(fields, box.privateKeyHex);
    expect(verifyRequest(fields, sig, box.publicKeyHex)).toBe(true);
    expect(verifyRequest({ ...fields, nonce: '02'.repeat(16) }, sig, box.publicKeyHex)).toBe(false);
    expect(verifyRequest({ ...fields, digest: sm3Hex('batch 8') }, sig, box.publicKeyHex)).toBe(false);
    expect(verifyRequest(fields, 'not hex', box.publicKeyHex)).toBe(false);
  });

  it('round-trips through HTTP headers, with fresh nonces', () => {
    const h = requestHeaders({ boxId: 'box-0001', digest, now }, box.privateKeyHex);
    expect(Object.keys(h).sort()).toEqual(Object.values(REQUEST_HEADERS).sort());
    expect(
      requestHeaders({ boxId: 'box-0001', digest, now }, box.privateKeyHex)[REQUEST_HEADERS.nonce],
    ).not.toBe(h[REQUEST_HEADERS.nonce]);
    expect(requestBoxId(h)).toBe('box-0001');
    const fields = verifyRequestHeaders(h, digest, box.publicKeyHex, {
      now: new Date(now.getTime() + 60_000),
    });
    expect(fields.nonce).toBe(h[REQUEST_HEADERS.nonce]);
  });

  it('refuses stale, re-targeted, foreign and incomplete requests', () => {
    const h = requestHeaders({ boxId: 'box-0001', digest, now }, box.privateKeyHex);
    expect(
      codeOf(() =>
        verifyRequestHeaders(h, digest, box.publicKeyHex, { now: new Date(now.getTime() + 10 * 60_000) }),
      ),
    ).toBe('SYNC_REQUEST_STALE');
    expect(codeOf(() => verifyRequestHeaders(h, sm3Hex('other'), box.publicKeyHex, { now }))).toBe(
      'SYNC_REQUEST_SIGNATURE',
    );
    expect(codeOf(() => verifyRequestHeaders(h, digest, generateSm2KeyPair().publicKeyHex, { now }))).toBe(
      'SYNC_REQUEST_SIGNATURE',
    );
    const { [REQUEST_HEADERS.signature]: _dropped, ...unsigned } = h;
    expect(codeOf(() => verifyRequestHeaders(unsigned, digest, box.publicKeyHex, { now }))).toBe(
      'SYNC_REQUEST_MALFORMED',
    );
    expect(
      codeOf(() =>
        verifyRequestHeaders({ ...h, [REQUEST_HEADERS.nonce]: 'x' }, digest, box.publicKeyHex, { now }),
      ),
    ).toBe('SYNC_REQUEST_MALFORMED');
  });
});
