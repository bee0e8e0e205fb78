import { newPiiSalt, type PersonalDataEntry, piiDigestOf } from '@sceneway/cloud-sync/batch/batch-pii';
import { canonicalBytes } from '@sceneway/cloud-sync/batch/jcs';
import { sm4CbcDecrypt, sm4CbcEncrypt } from '@sceneway/cloud-sync/crypto/sm4';
import { GatewayError } from '../gateway-error.ts';
import type { PersonalData } from './ledger-api.ts';

/**
 * Personal data at rest in the ledger (DESIGN invariant 5; 004 §5.1.4 a): SM4-CBC under the box's
 * data key, with the salt that the chain's piiDigest was computed with sealed inside, so the uploader
 * can re-seal the same entry for the bank and the bank can recompute the digest.
 */
export interface SealedPii {
  digest: string;
  iv: Buffer;
  sealed: Buffer;
}

export function fieldsOf(pii: PersonalData): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(pii)) {
    if (typeof value === 'string' && value.length > 0) fields[name] = value;
  }
  return fields;
}

export function sealPiiAtRest(dataKey: Buffer, pii: PersonalData | undefined): SealedPii | null {
  if (!pii) return null;
  const fields = fieldsOf(pii);
  if (Object.keys(fields).length === 0) return null;
  const salt = newPiiSalt();
  const { iv, ciphertext } = sm4CbcEncrypt(dataKey, canonicalBytes({ salt, fields }));
  return { digest: piiDigestOf(salt, fields), iv: Buffer.from(iv), sealed: Buffer.from(ciphertext) };
}

export function openPiiAtRest(dataKey: Buffer, iv: Buffer, sealed: Buffer, seq: number): PersonalDataEntry {
  try {
    const parsed = JSON.parse(sm4CbcDecrypt(dataKey, iv, sealed).toString('utf8')) as PersonalDataEntry & {
      fields: Record<string, string>;
    };
    return { salt: parsed.salt, pii: parsed.fields };
  } catch (cause) {
    throw new GatewayError(
      'LEDGER_PII_UNREADABLE',
      `the personal data of record ${seq} cannot be decrypted with this box's data key`,
      'The ledger file belongs to another box key. Restore the matching keys directory.',
      { cause },
    );
  }
}
