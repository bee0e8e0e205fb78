import { describe, expect, it } from 'vitest';
import { holderKeyForBox } from '../blacklist/holder-digest.ts';
import { generateSm2KeyPair } from '../crypto/sm2.ts';
import { SyncError } from '../sync-error.ts';
import { buildEnrolmentAnswer, openEnrolmentAnswer } from './enrolment-answer.ts';

const bank = generateSm2KeyPair();
const box = generateSm2KeyPair();
const enrolment = { boxId: 'box-0001', siteId: 'campus-north', publicKeyHex: box.publicKeyHex };
const me = { boxId: 'box-0001', privateKeyHex: box.privateKeyHex, bankPublicKeyHex: bank.publicKeyHex };
const at = new Date('2026-12-01T08:00:00.000Z');

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'no error';
  } catch (e) {
    if (e instanceof SyncError) return e.code;
    throw e;
  }
};

describe('enrolment answer: the holder key, for the enrolled box only (D27)', () => {
  it('delivers the bank-derived holder key to the box, never in clear', () => {
    const answer = buildEnrolmentAnswer(enrolment, bank.privateKeyHex, at);
    const key = holderKeyForBox(bank.privateKeyHex, 'box-0001');
    expect(JSON.stringify(answer)).not.toContain(key.toString('hex'));
    const opened = openEnrolmentAnswer(JSON.parse(JSON.stringify(answer)), me);
    expect(opened.holderKey).toEqual(key);
  });

  it('refuses an answer from another bank, for another box, for another key, or altered', () => {
    const answer = buildEnrolmentAnswer(enrolment, bank.privateKeyHex, at);
    const stranger = generateSm2KeyPair();
    expect(
      codeOf(() => openEnrolmentAnswer(buildEnrolmentAnswer(enrolment, stranger.privateKeyHex, at), me)),
    ).toBe('SYNC_ENROL_ANSWER_SIGNATURE');
    expect(codeOf(() => openEnrolmentAnswer(answer, { ...me, boxId: 'box-0002' }))).toBe('SYNC_ENROL_ANSWER');
    const other = generateSm2KeyPair();
    // Said plainly (the envelope would not open either): an answer to an older enrolment of this box.
    expect(() => openEnrolmentAnswer(answer, { ...me, privateKeyHex: other.privateKeyHex })).toThrow(
      /another box key/,
    );
    expect(codeOf(() => openEnrolmentAnswer(answer, { ...me, privateKeyHex: other.privateKeyHex }))).toBe(
      'SYNC_ENROL_ANSWER',
    );
    const altered = { ...answer, answer: { ...answer.answer, siteId: 'elsewhere' } };
    expect(codeOf(() => openEnrolmentAnswer(altered, me))).toBe('SYNC_ENROL_ANSWER_SIGNATURE');
    expect(codeOf(() => openEnrolmentAnswer({ format: 'x' }, me))).toBe('SYNC_ENROL_ANSWER');
  });
});
