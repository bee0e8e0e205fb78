import {
  type BlacklistUpdate,
  generateSm2KeyPair,
  holderKeyForBox,
  keyedHolderDigests,
  type SignedBlacklistUpdate,
  type Sm2KeyPair,
  signBlacklistUpdate,
} from '@sceneway/cloud-sync';
import type { SaleRequest, VoidRequest } from '@sceneway/device-drivers';
import { manualClock } from '../clock.ts';
import type { SqliteLedger } from '../ledger/ledger.ts';
import { acknowledgeThrough, openTempLedger, tempLedgerFile } from '../ledger/temp-ledger.ts';
import { type Logger, silentLogger } from '../logger.ts';
import type { CanteenLimits } from './canteen-limits.ts';
import { type CanteenRules, createCanteenRules } from './canteen-rules.ts';
import type { HolderDigests } from './holder-digest.ts';
import { issueQrToken, type QrClaims } from './qr-token.ts';

/**
 * TESTS ONLY: a canteen on the production ledger in a temp file (removed when the test ends), with a
 * bank key pair, a movable clock and knobs.
 */
export const BANK: Sm2KeyPair = generateSm2KeyPair();
export const OTHER_KEY: Sm2KeyPair = generateSm2KeyPair();

/** The box under test and its holder digests, keyed as the bank derives them for it (D27). */
export const BOX_ID = 'box-test';
export const HOLDER_KEY: Buffer = holderKeyForBox(BANK.privateKeyHex, BOX_ID);
export const DIGESTS: HolderDigests = keyedHolderDigests(HOLDER_KEY);

/** An update as the bank's feed signs it for BOX_ID (or another box / bank key). */
export function signedForBox(
  update: Omit<BlacklistUpdate, 'boxId' | 'digests'>,
  opts: { boxId?: string; key?: Sm2KeyPair } = {},
): SignedBlacklistUpdate {
  return signBlacklistUpdate(
    { ...update, boxId: opts.boxId ?? BOX_ID, digests: 'hmac-sm3' },
    (opts.key ?? BANK).privateKeyHex,
  );
}

/** The site and box the test canteen is (the audience its QR tokens name by default). */
export const AUDIENCE = { siteId: 'campus-north-canteen', boxId: BOX_ID };

/** 2026-03-02 12:00 in Asia/Shanghai (04:00 UTC). */
export const NOON = Date.UTC(2026, 2, 2, 4, 0, 0);

export const LIMITS: CanteenLimits = {
  perTransactionLimitFen: 5_000,
  perDayLimitFen: 10_000,
  offlineFloorLimitFen: 1_000,
  maxUnsyncedRecords: 1_000,
  minFreeDiskMb: 100,
  timezone: 'Asia/Shanghai',
};

export interface Canteen {
  rules: CanteenRules;
  ledger: SqliteLedger;
  path: string;
  clock: ReturnType<typeof manualClock>;
  knobs: { bankReachable: boolean; freeMb: number };
  alerts: Map<string, string>;
  reopen(): Promise<Canteen>;
}

export function openCanteen(
  opts: {
    path?: string;
    limits?: Partial<CanteenLimits>;
    clock?: ReturnType<typeof manualClock>;
    audience?: { siteId: string; boxId: string };
    holderDigests?: HolderDigests;
    maxRequestAgeSeconds?: number;
    logger?: Logger;
  } = {},
): Canteen {
  const path = opts.path ?? tempLedgerFile('canteen-');
  const clock = opts.clock ?? manualClock(NOON);
  const ledger = openTempLedger({ path });
  const knobs = { bankReachable: true, freeMb: 10_000 };
  const alerts = new Map<string, string>();
  const rules = createCanteenRules({
    ledger,
    limits: { ...LIMITS, ...opts.limits },
    bankPublicKeyHex: BANK.publicKeyHex,
    audience: opts.audience ?? AUDIENCE,
    boxId: BOX_ID,
    holderDigests: opts.holderDigests ?? DIGESTS,
    clock,
    isBankReachable: () => knobs.bankReachable,
    freeDiskMb: () => knobs.freeMb,
    alerts: { raise: (code, message) => alerts.set(code, message), clear: (code) => alerts.delete(code) },
    ...(opts.maxRequestAgeSeconds === undefined ? {} : { maxRequestAgeSeconds: opts.maxRequestAgeSeconds }),
    logger: opts.logger ?? silentLogger,
  });
  return {
    rules,
    ledger,
    path,
    clock,
    knobs,
    alerts,
    async reopen() {
      await ledger.close();
      return openCanteen({ ...opts, path, clock });
    },
  };
}

let receipt = 1000;
export function cardSale(uidHex: string, amountFen: number, extra: Partial<SaleRequest> = {}): SaleRequest {
  return {
    receiptNo: receipt++,
    amountFen,
    credential: { kind: 'card', uidHex },
    terminalTime: Math.floor(NOON / 1000),
    offline: false,
    ...extra,
  };
}

export function qrSale(token: string, amountFen: number, extra: Partial<SaleRequest> = {}): SaleRequest {
  return cardSale('00000000', amountFen, { credential: { kind: 'qr', token }, ...extra });
}

export function voidOf(sale: SaleRequest, extra: Partial<VoidRequest> = {}): VoidRequest {
  return {
    receiptNo: receipt++,
    originalReceiptNo: sale.receiptNo,
    amountFen: sale.amountFen,
    terminalTime: sale.terminalTime,
    offline: false,
    ...extra,
  };
}

let tokenCounter = 0;
export function qrToken(extra: Partial<QrClaims> = {}, key: Sm2KeyPair = BANK): string {
  const claims: QrClaims = {
    v: 2,
    aud: `site:${AUDIENCE.siteId}`,
    tokenId: `tok_${String(++tokenCounter).padStart(16, '0')}`,
    account: 'acct-0001',
    maxAmountFen: 3_000,
    expiresAt: Math.floor(NOON / 1000) + 120,
    ...extra,
  };
  return issueQrToken(claims, key.privateKeyHex);
}

export const recordsOf = (ledger: SqliteLedger) =>
  ledger.db
    .prepare<[], { kind: string; amount_fen: number; payload: string; terminal_id: string }>(
      'SELECT kind, amount_fen, payload, terminal_id FROM records ORDER BY seq',
    )
    .all()
    .map((r) => ({
      kind: r.kind,
      amountFen: r.amount_fen,
      payload: JSON.parse(r.payload) as Record<string, unknown>,
    }));

/** Plays the bank acknowledging the oldest `count` unsynced records (the full-buffer tests). */
export function acknowledgeOldest(ledger: SqliteLedger, count: number): void {
  acknowledgeThrough(ledger, ledger.stats().lastSyncedSeq + count);
}
