import { z } from 'zod';
import { parseValueWith } from '../batch/batch-schema.ts';
import { canonicalBytes } from '../batch/jcs.ts';
import { isSm2PublicKey, sm2PublicKeyOf, sm2Sign, sm2Verify } from '../crypto/sm2.ts';
import { sm3Hex } from '../crypto/sm3.ts';
import { SyncError } from '../sync-error.ts';
import { BankRefusal } from './refusal.ts';
import type { BankStore } from './store.ts';

/**
 * A box's key changes only by an explicit rotation signed by the key the bank holds (issue #11: a
 * re-enrolment with the admin token alone silently replaced a box's key, so whoever held the token
 * could take over a box's uploads). The new key signs too (proof of possession, as at enrolment,
 * 004 §5.1.4 c). Every rotation is audited as a stored alert and a log line.
 *
 *   { format: "sceneway.keyrotation.v1", rotation: {boxId, newPublicKeyHex, createdAt},
 *     oldKeySignature, newKeySignature }   both SM2 over JCS(rotation)
 */
export const KEY_ROTATION_FORMAT = 'sceneway.keyrotation.v1';

const rotationSchema = z.strictObject({
  boxId: z.string().min(1).max(128),
  newPublicKeyHex: z.string().refine(isSm2PublicKey, 'expected an uncompressed SM2 public key 04‖x‖y'),
  createdAt: z.iso.datetime({ offset: false }),
});
const rotationRequestSchema = z.strictObject({
  format: z.literal(KEY_ROTATION_FORMAT),
  rotation: rotationSchema,
  oldKeySignature: z.string().regex(/^(?:[0-9a-f]{2}){8,72}$/),
  newKeySignature: z.string().regex(/^(?:[0-9a-f]{2}){8,72}$/),
});
export type KeyRotationRequest = z.infer<typeof rotationRequestSchema>;

/** Box side (and tests): the rotation request from the old and the new private key. */
export function buildKeyRotation(input: {
  boxId: string;
  oldPrivateKeyHex: string;
  newPrivateKeyHex: string;
  createdAt: string;
}): KeyRotationRequest {
  const rotation = {
    boxId: input.boxId,
    newPublicKeyHex: sm2PublicKeyOf(input.newPrivateKeyHex),
    createdAt: input.createdAt,
  };
  const bytes = canonicalBytes(rotation);
  return {
    format: KEY_ROTATION_FORMAT,
    rotation,
    oldKeySignature: sm2Sign(bytes, input.oldPrivateKeyHex).toString('hex'),
    newKeySignature: sm2Sign(bytes, input.newPrivateKeyHex).toString('hex'),
  };
}

const fingerprint = (publicKeyHex: string) => sm3Hex(Buffer.from(publicKeyHex, 'hex')).slice(0, 16);

/** POST /v1/rotate-key (admin token checked by the caller): verifies both signatures, then swaps the key. */
export async function rotateBoxKey(
  store: BankStore,
  request: unknown,
  at: Date,
  log: (msg: string, fields: Record<string, unknown>) => void,
): Promise<{ boxId: string }> {
  let req: KeyRotationRequest;
  try {
    req = parseValueWith(request, rotationRequestSchema, 'SYNC_REQUEST_MALFORMED', 'key rotation');
  } catch (e) {
    throw new BankRefusal(400, 'BANK_KEY_ROTATION_INVALID', e instanceof SyncError ? e.message : String(e));
  }
  const box = await store.getBox(req.rotation.boxId);
  if (!box) {
    throw new BankRefusal(
      403,
      'BANK_BOX_NOT_ENROLLED',
      `box ${req.rotation.boxId} is not enrolled at this bank`,
    );
  }
  const bytes = canonicalBytes(req.rotation);
  const byOld = sm2Verify(bytes, Buffer.from(req.oldKeySignature, 'hex'), box.publicKeyHex);
  const byNew = sm2Verify(bytes, Buffer.from(req.newKeySignature, 'hex'), req.rotation.newPublicKeyHex);
  if (!byOld || !byNew) {
    throw new BankRefusal(
      401,
      'BANK_KEY_ROTATION_INVALID',
      `the key rotation must be signed by the box's enrolled key and by the new key (${byOld ? 'new' : 'enrolled'} key signature does not verify)`,
    );
  }
  await store.enrolBox({
    boxId: box.boxId,
    siteId: box.siteId,
    publicKeyHex: req.rotation.newPublicKeyHex,
    enrolledAt: at.toISOString(),
  });
  const detail = `key ${fingerprint(box.publicKeyHex)} replaced by ${fingerprint(req.rotation.newPublicKeyHex)}`;
  await store.addAlert({ at: at.toISOString(), kind: 'BANK_BOX_KEY_ROTATED', boxId: box.boxId, detail });
  log('box key rotated', { boxId: box.boxId, detail });
  return { boxId: box.boxId };
}
