import {
  newPiiSalt,
  personalDataPlaintext,
  piiDigestOf,
  Sm4ItemError,
  sm4CbcDecryptMany,
  sm4CbcEncryptMany,
} from '@sceneway/cloud-sync';
import { GatewayError } from '../gateway-error.ts';
import type { PersonalData } from './ledger-api.ts';

/**
 * Personal data at rest in the ledger (DESIGN invariant 5; 004 §5.1.4 a): SM4-CBC under the box's
 * data key. The sealed plaintext is exactly what a batch seals for the bank, JCS({ salt, ...fields })
 * with the salt the chain's piiDigest was computed with, so the uploader re-seals the bytes as they
 * are, without parsing. A commit group or a batch is sealed or opened in one SM4 pass (sm4-many.ts).
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

/** Seals each record's personal data (null where there is none) in one SM4 pass. */
export function sealPiiAtRestMany(
  dataKey: Buffer,
  piis: ReadonlyArray<PersonalData | undefined>,
): Array<SealedPii | null> {
  const digests: string[] = [];
  const plaintexts: Buffer[] = [];
  const present = piis.map((pii) => {
    const fields = pii ? fieldsOf(pii) : {};
    if (Object.keys(fields).length === 0) return false;
    const salt = newPiiSalt();
    digests.push(piiDigestOf(salt, fields));
    plaintexts.push(personalDataPlaintext({ salt, pii: fields }));
    return true;
  });
  const sealed = sm4CbcEncryptMany(dataKey, plaintexts);
  let next = 0;
  return present.map((has) => {
    if (!has) return null;
    const i = next++;
    const { iv, ciphertext } = sealed[i] as { iv: Buffer; ciphertext: Buffer };
    return { digest: digests[i] as string, iv, sealed: ciphertext };
  });
}

/** Ledgers written before 2026-11-29 sealed JCS({ fields, salt }); such a plaintext starts so. */
const NESTED_FORMAT_PREFIX = Buffer.from('{"fields":');

/** Opens sealed personal data to the plaintext bytes a batch seals (batch-pii personalDataPlaintext). */
export function openPiiAtRestMany(
  dataKey: Buffer,
  rows: ReadonlyArray<{ seq: number; iv: Buffer; sealed: Buffer }>,
): Buffer[] {
  let plaintexts: Buffer[];
  try {
    plaintexts = sm4CbcDecryptMany(
      dataKey,
      rows.map((r) => ({ iv: r.iv, ciphertext: r.sealed })),
    );
  } catch (cause) {
    const seq = cause instanceof Sm4ItemError ? rows[cause.itemIndex]?.seq : undefined;
    throw unreadable(seq, cause);
  }
  return plaintexts.map((plain, i) => {
    // A wrong key passes the padding check with probability ~1/256; a JSON object's braces make that
    // ~1/2^24 without parsing every record.
    if (plain[0] !== 0x7b || plain[plain.length - 1] !== 0x7d) throw unreadable(rows[i]?.seq, undefined);
    if (!plain.subarray(0, NESTED_FORMAT_PREFIX.length).equals(NESTED_FORMAT_PREFIX)) return plain;
    try {
      const { salt, fields } = JSON.parse(plain.toString('utf8')) as {
        salt: string;
        fields: Record<string, string>;
      };
      return personalDataPlaintext({ salt, pii: fields });
    } catch (cause) {
      throw unreadable(rows[i]?.seq, cause);
    }
  });
}

function unreadable(seq: number | undefined, cause: unknown): GatewayError {
  return new GatewayError(
    'LEDGER_PII_UNREADABLE',
    `the personal data of record ${seq ?? '?'} cannot be decrypted with this box's data key`,
    'The ledger file belongs to another box key. Restore the matching keys directory.',
    { cause },
  );
}
