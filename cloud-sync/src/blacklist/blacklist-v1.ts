import { z } from 'zod';
import { hexBytes } from '../batch/batch-schema.ts';
import { canonicalBytes } from '../batch/jcs.ts';
import { type Sm2Options, sm2Sign } from '../crypto/sm2.ts';

/**
 * The canteen blacklist update, as the bank signs it for one box and the box verifies it
 * (docs/protocols/canteen-blacklist.md; 004 §5.3.1 d, §5.4 b, §7.4 b). Shared by the box's store
 * (gateway-agent canteen/blacklist.ts) and the bank's feed (bank/blacklist-feed.ts).
 *
 *   { format: "sceneway.canteen-blacklist.v2", update, signature: hex DER SM2(JCS({format, update})) }
 *
 * v2 (docs/decisions.md D27): entries are HMAC-SM3 digests under the box's own holder key, so an
 * update is made for one box and names it (`boxId`): a list signed for box A, replayed to box B,
 * would match none of B's cards, i.e. silently un-block them; B refuses it instead.
 */
export const BLACKLIST_FORMAT = 'sceneway.canteen-blacklist.v2';

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected an HMAC-SM3 digest: 64 lowercase hex digits');
const version = z.number().int().min(0).refine(Number.isSafeInteger, 'expected a safe integer');

export const blacklistUpdateSchema = z
  .strictObject({
    kind: z.enum(['full', 'delta']),
    version: version.min(1),
    /** The box this update is for: its entries are digests under that box's holder key. */
    boxId: z.string().min(1).max(128),
    /** How the entries were made (holder-digest.ts); only keyed digests travel. */
    digests: z.literal('hmac-sm3'),
    /** Delta only: the version it applies on top of. */
    baseVersion: version.optional(),
    issuedAt: z.iso.datetime({ offset: false }),
    add: z.array(hex64).max(2_000_000),
    remove: z.array(hex64).max(2_000_000),
  })
  .refine((u) => (u.kind === 'delta') === (u.baseVersion !== undefined), {
    message: 'a delta names its baseVersion and a full list does not',
  })
  .refine((u) => u.kind === 'delta' || u.remove.length === 0, { message: 'a full list removes nothing' })
  .refine((u) => u.baseVersion === undefined || u.version > u.baseVersion, {
    message: 'a delta must move the version forward',
  });
export type BlacklistUpdate = z.infer<typeof blacklistUpdateSchema>;

export const blacklistEnvelopeSchema = z.strictObject({
  format: z.literal(BLACKLIST_FORMAT),
  update: blacklistUpdateSchema,
  signature: hexBytes,
});
export type SignedBlacklistUpdate = z.infer<typeof blacklistEnvelopeSchema>;

/** Bank side (and tests): signs an update for the boxes. */
export function signBlacklistUpdate(
  update: BlacklistUpdate,
  bankPrivateKeyHex: string,
  opts: Sm2Options = {},
): SignedBlacklistUpdate {
  const checked = blacklistUpdateSchema.parse(update);
  const signature = sm2Sign(
    canonicalBytes({ format: BLACKLIST_FORMAT, update: checked }),
    bankPrivateKeyHex,
    opts,
  );
  return { format: BLACKLIST_FORMAT, update: checked, signature: signature.toString('hex') };
}
