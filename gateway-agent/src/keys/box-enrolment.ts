import { buildEnrolmentRequest, type EnrolmentRequest } from '@sceneway/cloud-sync';
import type { BoxConfig } from '../config/schema.ts';
import type { BoxSecrets } from './box-keys.ts';

/**
 * The box's self-signed enrolment request (box id, site id, public key; proof of possession by its
 * SM2 signature, 004 §5.1.4 c). `sceneway keys enrolment-request` prints it; the bank imports it.
 */
export function boxEnrolmentRequest(
  config: Pick<BoxConfig, 'box' | 'site' | 'bank'>,
  secrets: BoxSecrets,
): EnrolmentRequest {
  return buildEnrolmentRequest(
    {
      boxId: config.box.id,
      siteId: config.site.id,
      publicKeyHex: secrets.publicKeyHex,
      createdAt: new Date().toISOString(),
    },
    secrets.privateKeyHex,
    { userId: config.bank.userId },
  );
}
