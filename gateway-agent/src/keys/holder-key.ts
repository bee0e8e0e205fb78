import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openEnrolmentAnswer, SyncError } from '@sceneway/cloud-sync';
import { GatewayError } from '../gateway-error.ts';

/**
 * The box's holder-digest key (docs/decisions.md D27; docs/protocols/canteen-blacklist.md §Holder
 * key): issued by the bank in its signed enrolment answer, SM2-sealed to the box's enrolled key. The
 * box keeps the answer exactly as it came, in its key directory (0600): at rest the holder key stays
 * sealed under the box private key, itself sealed under the passphrase (box-key.json), so the key file
 * format does not change and a copied disk image gives the key away no more than it gives the box key.
 */
export const ENROLMENT_ANSWER_FILE = 'enrolment-answer.json';

export interface HolderKeyOwner {
  dir: string;
  boxId: string;
  privateKeyHex: string;
  bankPublicKeyHex: string;
  bankUserId?: string;
}

function open(answer: unknown, owner: HolderKeyOwner): Buffer {
  try {
    return openEnrolmentAnswer(
      answer,
      { boxId: owner.boxId, privateKeyHex: owner.privateKeyHex, bankPublicKeyHex: owner.bankPublicKeyHex },
      owner.bankUserId === undefined ? {} : { userId: owner.bankUserId },
    ).holderKey;
  } catch (cause) {
    if (!(cause instanceof SyncError)) throw cause;
    throw new GatewayError(
      'KEYS_ENROLMENT_ANSWER',
      `enrolment answer refused: ${cause.message}`,
      cause.hint,
      {
        cause,
      },
    );
  }
}

/** `sceneway keys enrolment-answer`: verifies the bank's answer and keeps it; returns the key's digest id. */
export function importEnrolmentAnswer(owner: HolderKeyOwner, answer: unknown): { file: string } {
  open(answer, owner);
  const file = join(owner.dir, ENROLMENT_ANSWER_FILE);
  writeFileSync(file, `${JSON.stringify(answer, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { file };
}

/**
 * The holder key, or null when this box has no enrolment answer yet (a box enrolled before D27: the
 * canteen then keeps its unkeyed digests and raises CANTEEN_HOLDER_KEY_MISSING). An answer that is
 * there but does not verify stops the start: it is never silently ignored.
 */
export function loadHolderKey(owner: HolderKeyOwner): Buffer | null {
  const file = join(owner.dir, ENROLMENT_ANSWER_FILE);
  if (!existsSync(file)) return null;
  let answer: unknown;
  try {
    answer = JSON.parse(readFileSync(file, 'utf8'));
  } catch (cause) {
    throw new GatewayError(
      'KEYS_ENROLMENT_ANSWER',
      `${file} is not JSON`,
      'import the bank answer again with `sceneway keys enrolment-answer`',
      { cause },
    );
  }
  return open(answer, owner);
}
