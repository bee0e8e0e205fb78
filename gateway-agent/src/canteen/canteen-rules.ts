import { isSm2PublicKey } from '@sceneway/cloud-sync';
import type { PaymentCredential, SaleDecision, SaleRequest, VoidRequest } from '@sceneway/device-drivers';
import { GatewayError } from '../gateway-error.ts';
import type { Ledger } from '../ledger/ledger-api.ts';
import type { Logger } from '../logger.ts';
import { type BlacklistState, openBlacklistStore } from './blacklist.ts';
import type { CanteenLimits } from './canteen-limits.ts';
import { openCanteenStore } from './canteen-store.ts';
import { decideSale } from './decide-sale.ts';
import { decideVoid } from './decide-void.ts';
import { decline } from './decline-text.ts';
import { type CanteenAlerts, createFullBufferGuard } from './full-buffer.ts';
import type { HolderDigests } from './holder-digest.ts';
import { createLocalDay } from './local-day.ts';
import type { QrAudience } from './qr-token.ts';
import type { RulesContext } from './rules-context.ts';

export type { BlacklistState } from './blacklist.ts';
export type { CanteenAlerts } from './full-buffer.ts';

export interface CanteenRulesOptions {
  ledger: Ledger;
  limits: CanteenLimits;
  /** The pinned bank key (config bank.publicKeyHex): verifies QR tokens and blacklists. */
  bankPublicKeyHex: string;
  /** SM2 distinguishing id of the bank key (config bank.userId); the GM/T default when absent. */
  bankUserId?: string;
  /** config site.id and box.id: a QR token naming neither is declined here (qr-token.ts). */
  audience: QrAudience;
  /** This box: blacklist updates must be signed for it (their digests are under its key). */
  boxId: string;
  /** The box's holder digests (D27): keyed by its holder key, or the unkeyed ones until it has one. */
  holderDigests: HolderDigests;
  clock: { now(): number };
  /** Whether the uplink to the bank currently works (sync worker's view); drives the floor limit. */
  isBankReachable(): boolean;
  /** Free MiB on the ledger's file system; called once per sale, so it should be a cheap statfs. */
  freeDiskMb(): number;
  alerts?: CanteenAlerts;
  /** The card waiting on the reader bound to a till (reader-bindings.ts); none when absent. */
  takeBoundCredential?: (tillId: string) => PaymentCredential | undefined;
  logger: Logger;
}

export interface CanteenRules {
  decideSale(terminalId: string, sale: SaleRequest): Promise<SaleDecision>;
  decideVoid(terminalId: string, request: VoidRequest): Promise<SaleDecision>;
  /** Verifies (SM2, pinned bank key) and applies a signed full list or delta; throws CANTEEN_BLACKLIST_*. */
  applyBlacklist(signedUpdate: unknown): BlacklistState;
  blacklistVersion(): number;
}

/**
 * The canteen's offline authorization: what DriverContext.decideSale/decideVoid call. Decisions are
 * made on the box alone (the bank may be unreachable for hours) and reach the terminal's screen as a
 * specific reason. A decision resolves only after an approved sale is durable in the ledger, and the
 * same (terminal, receipt) always gets the same answer: concurrent retransmissions share one
 * decision in flight, later ones read it back (ledger idempotency key, decision cache).
 */
export function createCanteenRules(opts: CanteenRulesOptions): CanteenRules {
  if (!isSm2PublicKey(opts.bankPublicKeyHex)) {
    throw new GatewayError(
      'CANTEEN_BANK_KEY',
      'bank.publicKeyHex is not an SM2 public key (04‖x‖y, 130 hex digits)',
      'copy the bank public key from the enrolment papers into the box config',
    );
  }
  const { db } = opts.ledger;
  const store = openCanteenStore(db);
  const blacklist = openBlacklistStore({
    db,
    bankPublicKeyHex: opts.bankPublicKeyHex,
    ...(opts.bankUserId === undefined ? {} : { bankUserId: opts.bankUserId }),
    boxId: opts.boxId,
    holderDigests: opts.holderDigests,
    clock: opts.clock,
    logger: opts.logger,
  });
  const localDay = createLocalDay(opts.limits.timezone);
  const ctx: RulesContext = {
    limits: opts.limits,
    bankPublicKeyHex: opts.bankPublicKeyHex,
    ...(opts.bankUserId === undefined ? {} : { bankUserId: opts.bankUserId }),
    audience: opts.audience,
    holderDigests: opts.holderDigests,
    isBlacklisted: blacklist.has,
    isQrUsed: store.isQrUsed,
    dayTotalFen: store.dayTotalFen,
    ledger: opts.ledger,
    store,
    fullBuffer: createFullBufferGuard({
      stats: () => opts.ledger.stats(),
      maxUnsyncedRecords: opts.limits.maxUnsyncedRecords,
      minFreeDiskMb: opts.limits.minFreeDiskMb,
      freeDiskMb: opts.freeDiskMb,
      ...(opts.alerts ? { alerts: opts.alerts } : {}),
      logger: opts.logger,
    }),
    clock: opts.clock,
    isBankReachable: opts.isBankReachable,
    localDay,
    takeBoundCredential: opts.takeBoundCredential ?? (() => undefined),
    logger: opts.logger,
  };

  const inFlight = new Map<string, Promise<SaleDecision>>();
  let prunedFor = '';
  function once(key: string, decide: () => Promise<SaleDecision>): Promise<SaleDecision> {
    const running = inFlight.get(key);
    if (running) return running;
    const today = localDay(opts.clock.now());
    if (today !== prunedFor) {
      prunedFor = today;
      try {
        store.prune({ beforeDay: localDay(opts.clock.now() - 86_400_000), nowMs: opts.clock.now() });
      } catch (error) {
        opts.logger.warn({ err: error }, 'canteen: pruning old rule state failed; retried tomorrow');
      }
    }
    const p = decide()
      .catch((error: unknown) => {
        // A decision must always reach the terminal; a bug here must not leave the diner waiting.
        opts.logger.error({ err: error, key }, 'canteen: unexpected error while deciding');
        return decline('SYSTEM_ERROR') as SaleDecision;
      })
      .finally(() => inFlight.delete(key));
    inFlight.set(key, p);
    return p;
  }

  return {
    decideSale: (terminalId, sale) =>
      once(`sale:${terminalId}:${sale.receiptNo}`, () => decideSale(ctx, terminalId, sale)),
    decideVoid: (terminalId, v) =>
      once(`void:${terminalId}:${v.receiptNo}`, () => decideVoid(ctx, terminalId, v)),
    applyBlacklist: (signed) => blacklist.apply(signed),
    blacklistVersion: () => blacklist.state().version,
  };
}
