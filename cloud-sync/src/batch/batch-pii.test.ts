import { describe, expect, it } from 'vitest';
import type { SyncError } from '../sync-error.ts';
import { newPiiSalt, personalDataFromPlaintext, personalDataPlaintext } from './batch-pii.ts';

const refusal = (text: string): string => {
  try {
    personalDataFromPlaintext(Buffer.from(text), 'record 9 personal data');
  } catch (err) {
    return `${(err as SyncError).code}: ${(err as Error).message}`;
  }
  return 'accepted';
};

describe('personal data plaintext', () => {
  it('round-trips salt and fields through the sealed bytes', () => {
    const entry = { salt: newPiiSalt(), pii: { phone: '13800000000', cardNumber: '6222000000000007' } };
    const bytes = personalDataPlaintext(entry);
    expect(bytes.toString()).toMatch(/^\{"cardNumber":.*"phone":.*"salt":/); // JCS order
    expect(personalDataFromPlaintext(bytes, 'x')).toEqual(entry);
  });

  it('refuses what is not an object of strings with a salt, naming the record', () => {
    const salt = '0'.repeat(32);
    expect(refusal('not json')).toBe('BATCH_PII_DIGEST: record 9 personal data is not JSON');
    expect(refusal('[1]')).toMatch(/record 9 personal data: expected a JSON object/);
    expect(refusal('{"cardNumber":"1"}')).toMatch(/lacks a 32-hex-digit salt/);
    expect(refusal(`{"salt":"${salt.slice(1)}"}`)).toMatch(/lacks a 32-hex-digit salt/);
    expect(refusal(`{"cardNumber":1,"salt":"${salt}"}`)).toMatch(/field "cardNumber" is not a string/);
    expect(refusal(`{"salt":"${salt}"}`)).toBe('accepted');
  });
});
