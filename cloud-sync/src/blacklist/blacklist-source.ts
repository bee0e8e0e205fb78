import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { hexBytes } from '../batch/batch-schema.ts';
import { canonicalBytes } from '../batch/jcs.ts';
import { type Sm2Options, sm2Sign, sm2Verify } from '../crypto/sm2.ts';
import { sm4CbcDecrypt, sm4CbcEncrypt } from '../crypto/sm4.ts';
import { SyncError } from '../sync-error.ts';
import { type BlacklistUpdate, type SignedBlacklistUpdate, signBlacklistUpdate } from './blacklist-v1.ts';
import { holderKeyForBox, keyedHolderDigest } from './holder-digest.ts';

/**
 * What the bank keeps of a blacklist version (docs/protocols/canteen-blacklist.md §Delivery;
 * docs/decisions.md D27). Each box gets its update with digests under its own holder key, so the bank
 * must keep the holders themselves: sealed, never in clear at rest (004 §5.1.4 a), and signed, so a
 * file dropped into the directory by someone without the bank key is refused.
 *
 *   { format: "sceneway.canteen-blacklist-source.v1",
 *     source: { kind, version, baseVersion?, issuedAt, sealed: { iv, ciphertext } },
 *     signature: hex DER SM2(bank key, JCS({format, source})) }
 *
 * `sealed` = SM4-CBC(K_s, JCS({ add: [holder…], remove: [holder…] })), holder = "card:<UID>" |
 * "account:<account>" (holder-digest.ts), K_s = the first 16 bytes of HMAC-SM3(bank private key,
 * "sceneway.blacklist-source-seal.v1"). At serve time the bank opens it and signs, per box, a
 * sceneway.canteen-blacklist.v2 update with HMAC-SM3(holderKey(box), holder) for each holder.
 */
export const BLACKLIST_SOURCE_FORMAT = 'sceneway.canteen-blacklist-source.v1';

const version = z.number().int().min(0).refine(Number.isSafeInteger, 'expected a safe integer');

const sourceSchema = z
  .strictObject({
    kind: z.enum(['full', 'delta']),
    version: version.min(1),
    baseVersion: version.optional(),
    issuedAt: z.iso.datetime({ offset: false }),
    sealed: z.strictObject({ iv: hexBytes, ciphertext: hexBytes }),
  })
  .refine((u) => (u.kind === 'delta') === (u.baseVersion !== undefined), {
    message: 'a delta names its baseVersion and a full list does not',
  });

export const blacklistSourceSchema = z.strictObject({
  format: z.literal(BLACKLIST_SOURCE_FORMAT),
  source: sourceSchema,
  signature: hexBytes,
});
export type BlacklistSource = z.infer<typeof blacklistSourceSchema>;

const holdersSchema = z.strictObject({
  add: z.array(z.string().regex(/^(card|account):/)).max(2_000_000),
  remove: z.array(z.string().regex(/^(card|account):/)).max(2_000_000),
});
export type BlacklistHolders = z.infer<typeof holdersSchema>;

function sealKey(bankPrivateKeyHex: string): Buffer {
  return createHmac('sm3', Buffer.from(bankPrivateKeyHex, 'hex'))
    .update('sceneway.blacklist-source-seal.v1', 'utf8')
    .digest()
    .subarray(0, 16);
}

/** `sceneway-bank blacklist sign`: seals and signs the holders of one version. */
export function sealBlacklistSource(
  meta: { kind: 'full' | 'delta'; version: number; baseVersion?: number; issuedAt: string },
  holders: BlacklistHolders,
  bankPrivateKeyHex: string,
  opts: Sm2Options = {},
): BlacklistSource {
  const checked = holdersSchema.parse(holders);
  if (meta.kind === 'full' && checked.remove.length > 0)
    throw new SyncError('BANK_BLACKLIST_FILE', 'a full list removes nothing');
  const { iv, ciphertext } = sm4CbcEncrypt(sealKey(bankPrivateKeyHex), canonicalBytes(checked));
  const source = sourceSchema.parse({
    ...meta,
    sealed: { iv: iv.toString('hex'), ciphertext: ciphertext.toString('hex') },
  });
  const signature = sm2Sign(
    canonicalBytes({ format: BLACKLIST_SOURCE_FORMAT, source }),
    bankPrivateKeyHex,
    opts,
  );
  return { format: BLACKLIST_SOURCE_FORMAT, source, signature: signature.toString('hex') };
}

/** Parses a source file's JSON and checks it was signed with this bank key; throws BANK_BLACKLIST_FILE. */
export function readBlacklistSource(json: unknown, bankPublicKeyHex: string, what: string): BlacklistSource {
  const parsed = blacklistSourceSchema.safeParse(json);
  if (!parsed.success)
    throw new SyncError(
      'BANK_BLACKLIST_FILE',
      `${what} is not a blacklist source: ${parsed.error.issues[0]?.message}`,
      'write blacklist versions with `sceneway-bank blacklist sign`',
    );
  const { format, source, signature } = parsed.data;
  if (!sm2Verify(canonicalBytes({ format, source }), Buffer.from(signature, 'hex'), bankPublicKeyHex))
    throw new SyncError('BANK_BLACKLIST_FILE', `${what} is not signed with this bank's key`);
  return parsed.data;
}

/** The holders of a source, opened with the bank key. */
export function openBlacklistSource(source: BlacklistSource, bankPrivateKeyHex: string): BlacklistHolders {
  try {
    const plain = sm4CbcDecrypt(
      sealKey(bankPrivateKeyHex),
      Buffer.from(source.source.sealed.iv, 'hex'),
      Buffer.from(source.source.sealed.ciphertext, 'hex'),
    );
    return holdersSchema.parse(JSON.parse(plain.toString('utf8')));
  } catch (cause) {
    throw new SyncError(
      'BANK_BLACKLIST_FILE',
      `blacklist source v${source.source.version} does not open with this bank key`,
      undefined,
      { cause },
    );
  }
}

/** The signed update of one source version for one box: its holders as that box's digests. */
export function blacklistUpdateForBox(
  source: BlacklistSource,
  holders: BlacklistHolders,
  boxId: string,
  bankPrivateKeyHex: string,
  opts: Sm2Options = {},
): SignedBlacklistUpdate {
  const key = holderKeyForBox(bankPrivateKeyHex, boxId);
  const { kind, version: v, baseVersion, issuedAt } = source.source;
  const update: BlacklistUpdate = {
    kind,
    version: v,
    boxId,
    digests: 'hmac-sm3',
    ...(baseVersion === undefined ? {} : { baseVersion }),
    issuedAt,
    add: holders.add.map((h) => keyedHolderDigest(key, h)),
    remove: holders.remove.map((h) => keyedHolderDigest(key, h)),
  };
  return signBlacklistUpdate(update, bankPrivateKeyHex, opts);
}
