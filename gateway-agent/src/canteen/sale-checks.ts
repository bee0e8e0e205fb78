import { type Masked, maskedConstant, maskLabelled } from '@sceneway/core';
import type { DeclineReasonName, PaymentCredential } from '@sceneway/device-drivers';
import type { PersonalData } from '../ledger/ledger-api.ts';
import type { CanteenLimits } from './canteen-limits.ts';
import type { HolderDigests } from './holder-digest.ts';
import { type QrAudience, type QrClaims, verifyQrToken } from './qr-token.ts';

/** Who pays, as far as the box can tell, and how to name them in a log line. */
export interface Holder {
  method: 'card' | 'qr';
  /** Holder digest (HMAC-SM3 under the box's holder key, D27); null for a QR token whose signature failed (no trustworthy account). */
  digest: string | null;
  qr?: QrClaims;
  pii?: PersonalData;
  /** Masked, for logs only (DESIGN invariant 5): typed so a raw UID cannot be put here. */
  masked: Masked;
}

/**
 * One rule a sale breaks: a live sale is declined for the first; an offline upload is recorded with all
 * of them as payload flags the bank sees (stable names, docs/decisions.md D29) and their reasons as the
 * decision's findings, which the till is told.
 */
export interface Finding {
  reason: DeclineReasonName;
  flag: OfflineFlag;
  detail: string;
}

export interface SaleCheckContext {
  limits: CanteenLimits;
  bankPublicKeyHex: string;
  /** This box's site and box ids: the only audiences a QR token may name here. */
  audience: QrAudience;
  bankUserId?: string;
  /** The box's holder digests: keyed with its holder key (D27). */
  holderDigests: HolderDigests;
  isBlacklisted(holderDigest: string): boolean;
  isQrUsed(tokenId: string): boolean;
  dayTotalFen(day: string, holderDigest: string): number;
}

/** Every flag an offline sale record may carry (payload.flags); the bank's reconciliation reads them. */
export const OFFLINE_FLAGS = [
  'OFFLINE_UNKNOWN_ACCOUNT', // card UID unreadable (not 4-10 bytes of hex)
  'OFFLINE_QR_BAD_SIGNATURE', // QR token not signed by the pinned bank key
  'OFFLINE_QR_WRONG_AUDIENCE', // QR token signed, but for another site or box
  'OFFLINE_QR_EXPIRED',
  'OFFLINE_BLACKLISTED',
  'OFFLINE_QR_REUSED',
  'OFFLINE_OVER_LIMIT', // over the per-sale limit
  'OFFLINE_OVER_QR_MAX', // over the QR token's own ceiling
  'OFFLINE_FLOOR_LIMIT', // over the offline floor limit (an upload was made while cut off)
  'OFFLINE_DAILY_LIMIT',
  'OFFLINE_AFTER_DECLINE', // the box had declined this receipt live (payload.declinedOnline names why)
] as const;
export type OfflineFlag = (typeof OFFLINE_FLAGS)[number];

const CARD_UID = /^(?:[0-9A-F]{2}){4,10}$/;

function identify(ctx: SaleCheckContext, credential: PaymentCredential, atMs: number) {
  if (credential.kind === 'card') {
    const uid = credential.uidHex.toUpperCase();
    if (!CARD_UID.test(uid)) {
      const holder: Holder = { method: 'card', digest: null, masked: maskedConstant('card:unreadable') };
      const finding: Finding = {
        reason: 'UNKNOWN_ACCOUNT',
        flag: 'OFFLINE_UNKNOWN_ACCOUNT',
        detail: 'card UID is not 4-10 bytes of hex',
      };
      return { holder, finding };
    }
    const holder: Holder = {
      method: 'card',
      digest: ctx.holderDigests.card(uid),
      pii: { cardNumber: uid },
      masked: maskLabelled('card', uid),
    };
    return { holder, finding: null };
  }
  const userId = ctx.bankUserId === undefined ? {} : { userId: ctx.bankUserId };
  const verdict = verifyQrToken(credential.token, ctx.bankPublicKeyHex, atMs, ctx.audience, userId);
  if (!verdict.ok && verdict.reason === 'QR_BAD_SIGNATURE') {
    const holder: Holder = { method: 'qr', digest: null, masked: maskedConstant('qr:invalid') };
    const flag: OfflineFlag =
      verdict.flag === 'qr-wrong-audience' ? 'OFFLINE_QR_WRONG_AUDIENCE' : 'OFFLINE_QR_BAD_SIGNATURE';
    return { holder, finding: { reason: verdict.reason, flag, detail: verdict.detail } };
  }
  const claims = verdict.claims;
  const holder: Holder = {
    method: 'qr',
    digest: ctx.holderDigests.account(claims.account),
    qr: claims,
    masked: maskLabelled('qr', claims.tokenId),
  };
  const finding: Finding | null = verdict.ok
    ? null
    : { reason: 'QR_EXPIRED', flag: 'OFFLINE_QR_EXPIRED', detail: verdict.detail };
  return { holder, finding };
}

/**
 * Every offline-authorization rule, in the order a live sale is declined: a credential the box cannot
 * trust, the bank's blacklist, a replayed QR token, the per-sale limit, the token's own ceiling, the
 * offline floor limit while the bank is unreachable, and the card's day total. 004 §5.4 d asks for
 * risk rules a transaction is compared against; §5.3.1 d and §9.2.5 b for blacklisted accounts to be
 * refused in real time. The day total here is a pre-check: the authoritative one runs again inside
 * the ledger commit (decide-sale.ts), where concurrent sales of one card cannot both slip under it.
 */
export function checkSale(
  ctx: SaleCheckContext,
  sale: {
    amountFen: number;
    credential: PaymentCredential;
    atMs: number;
    day: string;
    bankReachable: boolean;
  },
): { holder: Holder; findings: Finding[] } {
  const { holder, finding } = identify(ctx, sale.credential, sale.atMs);
  const findings: Finding[] = finding ? [finding] : [];
  const { limits } = ctx;
  const amount = sale.amountFen;
  if (holder.digest && ctx.isBlacklisted(holder.digest)) {
    findings.push({
      reason: 'BLACKLISTED',
      flag: 'OFFLINE_BLACKLISTED',
      detail: 'holder is on the bank blacklist',
    });
  }
  if (holder.qr && ctx.isQrUsed(holder.qr.tokenId)) {
    findings.push({ reason: 'QR_REUSED', flag: 'OFFLINE_QR_REUSED', detail: 'token already used' });
  }
  if (amount > limits.perTransactionLimitFen) {
    findings.push({
      reason: 'INSUFFICIENT_LIMIT',
      flag: 'OFFLINE_OVER_LIMIT',
      detail: `${amount} fen over the per-sale limit of ${limits.perTransactionLimitFen}`,
    });
  }
  if (holder.qr && amount > holder.qr.maxAmountFen) {
    findings.push({
      reason: 'INSUFFICIENT_LIMIT',
      flag: 'OFFLINE_OVER_QR_MAX',
      detail: `${amount} fen over the token's ${holder.qr.maxAmountFen}`,
    });
  }
  if (!sale.bankReachable && amount > limits.offlineFloorLimitFen) {
    findings.push({
      reason: 'FLOOR_LIMIT',
      flag: 'OFFLINE_FLOOR_LIMIT',
      detail: `${amount} fen over the offline floor limit of ${limits.offlineFloorLimitFen}`,
    });
  }
  if (holder.digest) {
    const total = ctx.dayTotalFen(sale.day, holder.digest);
    if (total + amount > limits.perDayLimitFen) {
      findings.push({
        reason: 'DAILY_LIMIT',
        flag: 'OFFLINE_DAILY_LIMIT',
        detail: `${total} + ${amount} fen over the daily limit of ${limits.perDayLimitFen} (${sale.day})`,
      });
    }
  }
  return { holder, findings };
}
