import { z } from 'zod';
import { HOLDER_KEY_BYTES, holderKeyForBox } from '../blacklist/holder-digest.ts';
import {
  isSm2PublicKey,
  type Sm2Options,
  sm2Decrypt,
  sm2Encrypt,
  sm2PublicKeyOf,
  sm2Sign,
  sm2Verify,
} from '../crypto/sm2.ts';
import { SyncError } from '../sync-error.ts';
import { hexBytes, parseValueWith } from './batch-schema.ts';
import type { Enrolment } from './enrolment.ts';
import { canonicalBytes } from './jcs.ts';

/**
 * The bank's answer to an enrolment (docs/protocols/canteen-blacklist.md §Holder key; docs/decisions.md
 * D27): it names the box and the key the bank enrolled, and carries the box's 32-byte holder-digest key
 * SM2-encrypted to that very key, so only the enrolled box can open it, and signed by the bank, so the
 * box takes a key from nobody but its pinned bank (004 §5.1.4 a, c).
 *
 *   { format: "sceneway.enrol-answer.v1",
 *     answer: { boxId, siteId, publicKeyHex, issuedAt, holderKeyEnvelope: hex DER SM2Cipher },
 *     signature: hex DER SM2(bank key, JCS(answer)) }
 *
 * The box keeps the answer as it came (keys/holder-key.ts): at rest the holder key stays sealed
 * under the box's private key, which is sealed under the passphrase.
 */
export const ENROLMENT_ANSWER_FORMAT = 'sceneway.enrol-answer.v1';

export const enrolmentAnswerBodySchema = z.strictObject({
  boxId: z.string().min(1).max(128),
  siteId: z.string().min(1).max(128),
  publicKeyHex: z.string().refine(isSm2PublicKey, 'expected an uncompressed SM2 public key 04‖x‖y'),
  issuedAt: z.iso.datetime({ offset: false }),
  holderKeyEnvelope: hexBytes,
});

export const enrolmentAnswerSchema = z.strictObject({
  format: z.literal(ENROLMENT_ANSWER_FORMAT),
  answer: enrolmentAnswerBodySchema,
  signature: hexBytes,
});

export type EnrolmentAnswer = z.infer<typeof enrolmentAnswerSchema>;

/** Bank side: the signed answer for an enrolment it has verified and stored. */
export function buildEnrolmentAnswer(
  enrolment: Pick<Enrolment, 'boxId' | 'siteId' | 'publicKeyHex'>,
  bankPrivateKeyHex: string,
  at: Date,
  opts: Sm2Options = {},
): EnrolmentAnswer {
  const holderKey = holderKeyForBox(bankPrivateKeyHex, enrolment.boxId);
  const answer = {
    boxId: enrolment.boxId,
    siteId: enrolment.siteId,
    publicKeyHex: enrolment.publicKeyHex.toLowerCase(),
    issuedAt: at.toISOString(),
    holderKeyEnvelope: sm2Encrypt(holderKey, enrolment.publicKeyHex).toString('hex'),
  };
  const signature = sm2Sign(canonicalBytes(answer), bankPrivateKeyHex, opts).toString('hex');
  return { format: ENROLMENT_ANSWER_FORMAT, answer, signature };
}

/**
 * Box side: the holder key, once the answer verifies with the pinned bank key, names this box and
 * this box's public key, and its envelope opens with this box's private key. Throws SyncError
 * SYNC_ENROL_ANSWER (malformed, or for another box or key) | SYNC_ENROL_ANSWER_SIGNATURE.
 */
export function openEnrolmentAnswer(
  obj: unknown,
  box: { boxId: string; privateKeyHex: string; bankPublicKeyHex: string },
  opts: Sm2Options = {},
): { holderKey: Buffer; answer: EnrolmentAnswer } {
  const parsed = parseValueWith(obj, enrolmentAnswerSchema, 'SYNC_ENROL_ANSWER', 'enrolment answer');
  const { answer } = parsed;
  if (!sm2Verify(canonicalBytes(answer), Buffer.from(parsed.signature, 'hex'), box.bankPublicKeyHex, opts))
    throw new SyncError(
      'SYNC_ENROL_ANSWER_SIGNATURE',
      'the enrolment answer is not signed by the pinned bank key',
      'check bank.publicKeyHex in the box config; ask the bank for the answer to this box enrolment',
    );
  if (answer.boxId !== box.boxId)
    throw new SyncError(
      'SYNC_ENROL_ANSWER',
      `the enrolment answer is for box ${answer.boxId}, not ${box.boxId}`,
    );
  if (answer.publicKeyHex !== sm2PublicKeyOf(box.privateKeyHex))
    throw new SyncError(
      'SYNC_ENROL_ANSWER',
      'the enrolment answer names another box key (an answer to an older enrolment?)',
      'send `sceneway keys enrolment-request` of this key to the bank and import its new answer',
    );
  let holderKey: Buffer;
  try {
    holderKey = sm2Decrypt(Buffer.from(answer.holderKeyEnvelope, 'hex'), box.privateKeyHex);
  } catch (cause) {
    throw new SyncError(
      'SYNC_ENROL_ANSWER',
      'the holder key envelope does not open with this box key',
      undefined,
      {
        cause,
      },
    );
  }
  if (holderKey.length !== HOLDER_KEY_BYTES)
    throw new SyncError(
      'SYNC_ENROL_ANSWER',
      `the holder key has ${holderKey.length} bytes, not ${HOLDER_KEY_BYTES}`,
    );
  return { holderKey, answer: parsed };
}
