import { describe, expect, it } from 'vitest';
import { generateSm2KeyPair } from '../crypto/sm2.ts';
import { SyncError } from '../sync-error.ts';
import { buildEnrolmentRequest, verifyEnrolmentRequest } from './enrolment.ts';

const box = generateSm2KeyPair();
const enrolment = {
  boxId: 'box-0001',
  siteId: 'campus-north-canteen',
  publicKeyHex: box.publicKeyHex,
  createdAt: '2026-03-01T09:00:00.000Z',
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

describe('enrolment (proof of possession, 004 §5.1.4 c)', () => {
  it('verifies a self-signed enrolment after a JSON round trip', () => {
    const req = buildEnrolmentRequest(enrolment, box.privateKeyHex);
    expect(verifyEnrolmentRequest(JSON.parse(JSON.stringify(req)))).toEqual(enrolment);
  });

  it('refuses a swapped key, a tampered field and junk', () => {
    const other = generateSm2KeyPair();
    expect(
      codeOf(() =>
        buildEnrolmentRequest({ ...enrolment, publicKeyHex: other.publicKeyHex }, box.privateKeyHex),
      ),
    ).toBe('SYNC_ENROL_KEY');
    const req = buildEnrolmentRequest(enrolment, box.privateKeyHex);
    expect(
      codeOf(() =>
        verifyEnrolmentRequest({ ...req, enrolment: { ...req.enrolment, publicKeyHex: other.publicKeyHex } }),
      ),
    ).toBe('SYNC_ENROL_SIGNATURE');
    expect(
      codeOf(() => verifyEnrolmentRequest({ ...req, enrolment: { ...req.enrolment, siteId: 'elsewhere' } })),
    ).toBe('SYNC_ENROL_SIGNATURE');
    expect(codeOf(() => verifyEnrolmentRequest({ format: 'x' }))).toBe('SYNC_ENROL_MALFORMED');
    expect(codeOf(() => verifyEnrolmentRequest(null))).toBe('SYNC_ENROL_MALFORMED');
  });
});
