import { z } from 'zod';
import { isSm2PublicKey, type Sm2Options, sm2PublicKeyOf, sm2Sign, sm2Verify } from '../crypto/sm2.ts';
import { SyncError } from '../sync-error.ts';
import { hexBytes, parseValueWith } from './batch-schema.ts';
import { canonicalBytes } from './jcs.ts';

/**
 * Box enrolment (004 §5.1.4 c): the box generates its key pair itself and sends only the public key,
 * signed with the matching private key, so the bank knows the sender holds it. The installer
 * confirms the public key's fingerprint out of band (sm3 of the key, shown in the installer UI);
 * the self-signature alone proves possession, not identity.
 */
export const ENROLMENT_FORMAT = 'sceneway.enrol.v1';

export const enrolmentSchema = z.strictObject({
  boxId: z.string().min(1).max(128),
  siteId: z.string().min(1).max(128),
  publicKeyHex: z.string().refine(isSm2PublicKey, 'expected an uncompressed SM2 public key 04‖x‖y'),
  createdAt: z.iso.datetime({ offset: false }),
});

export const enrolmentRequestSchema = z.strictObject({
  format: z.literal(ENROLMENT_FORMAT),
  enrolment: enrolmentSchema,
  signature: hexBytes,
});

export type Enrolment = z.infer<typeof enrolmentSchema>;
export type EnrolmentRequest = z.infer<typeof enrolmentRequestSchema>;

export function buildEnrolmentRequest(
  enrolment: Enrolment,
  boxPrivateKeyHex: string,
  opts: Sm2Options = {},
): EnrolmentRequest {
  const checked = parseValueWith(enrolment, enrolmentSchema, 'SYNC_ENROL_MALFORMED', 'enrolment');
  if (sm2PublicKeyOf(boxPrivateKeyHex) !== checked.publicKeyHex.toLowerCase()) {
    throw new SyncError(
      'SYNC_ENROL_KEY',
      'the enrolment public key does not belong to the signing private key',
    );
  }
  const signature = sm2Sign(canonicalBytes(checked), boxPrivateKeyHex, opts).toString('hex');
  return { format: ENROLMENT_FORMAT, enrolment: checked, signature };
}

/** Bank side: returns the enrolment if self-signed by its own key; throws SYNC_ENROL_MALFORMED | SYNC_ENROL_SIGNATURE. */
export function verifyEnrolmentRequest(obj: unknown, opts: Sm2Options = {}): Enrolment {
  const req = parseValueWith(obj, enrolmentRequestSchema, 'SYNC_ENROL_MALFORMED', 'enrolment request');
  const ok = sm2Verify(
    canonicalBytes(req.enrolment),
    Buffer.from(req.signature, 'hex'),
    req.enrolment.publicKeyHex,
    opts,
  );
  if (!ok)
    throw new SyncError(
      'SYNC_ENROL_SIGNATURE',
      'enrolment is not signed by the key it enrols (proof of possession failed)',
    );
  return req.enrolment;
}
