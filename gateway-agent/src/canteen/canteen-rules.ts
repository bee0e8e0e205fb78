import { isSm2PublicKey } from '@sceneway/cloud-sync';
import type {
  PaymentCredential,
  SaleDecision,
  SaleRequest,
  SaleStatus,
  VoidRequest,
} from '@sceneway/device-drivers';
import { GatewayError } from '../gateway-error.ts';
import type { Ledger } from '../ledger/ledger-api.ts';
import type { Logger } from '../logger.ts';
import { type BlacklistState, openBlacklistStore } from './blacklist.ts';
import { DEFAULT_MAX_REQUEST_AGE_SECONDS } from './canteen-config.ts';
import type { CanteenLimits } from './canteen-limits.ts';
import { openCanteenStore } from './canteen-store.ts';
import { decideSale, saleKey } from './decide-sale.ts';
import { decideVoid, voidKey } from './decide-void.ts';
import { decline } from './decline-text.ts';
import { type CanteenAlerts, createFullBufferGuard } from './full-buffer.ts';
import type { HolderDigests } from './holder-digest.ts';
import { createLocalDay } from './local-day.ts';
import type { QrAudience } from './qr-token.ts';
import type { RulesContext } from './rules-context.ts';
import { type ContentDigest, saleContent, voidContent } from './sale-content.ts';
import { saleStatus } from './sale-status.ts';

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
  /** scenarios.canteen.maxRequestAgeSeconds: older live requests are declined STALE_REQUEST. */
  maxRequestAgeSeconds?: number;
  logger: Logger;
}

export interface CanteenRules {
  decideSale(terminalId: string, sale: SaleRequest): Promise<SaleDecision>;
  decideVoid(terminalId: string, request: VoidRequest): Promise<SaleDecision>;
  /** What became of a receipt (canteen-pos.md SALE_STATUS), once any decision of it in flight is made. */
  saleStatus(terminalId: string, receiptNo: number): Promise<SaleStatus>;
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
    ...(opts.alerts ? { alerts: opts.alerts } : {}),
    maxRequestAgeMs: (opts.maxRequestAgeSeconds ?? DEFAULT_MAX_REQUEST_AGE_SECONDS) * 1000,
    logger: opts.logger,
  };

  // One decision per key at a time. A request with the same content joins the one in flight (a
  // retransmission); one with other content waits for it and is then decided against what it left
  // (DUPLICATE_RECEIPT if it was recorded or declined, D29). A status query waits for either.
  const inFlight = new Map<string, { content: ContentDigest; decision: Promise<SaleDecision> }>();
  let prunedFor = '';
  function once(
    key: string,
    content: ContentDigest,
    decide: () => Promise<SaleDecision>,
  ): Promise<SaleDecision> {
    const running = inFlight.get(key);
    if (running?.content === content) return running.decision;
    if (running) return running.decision.then(() => once(key, content, decide));
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
    inFlight.set(key, { content, decision: p });
    return p;
  }
  async function settled(key: string): Promise<void> {
    for (let running = inFlight.get(key); running; running = inFlight.get(key)) await running.decision;
  }

  return {
    decideSale: (terminalId, sale) => {
      const content = saleContent(opts.holderDigests, sale);
      return once(saleKey(terminalId, sale.receiptNo), content, () =>
        decideSale(ctx, terminalId, sale, content),
      );
    },
    decideVoid: (terminalId, v) => {
      const content = voidContent(opts.holderDigests, v);
      return once(voidKey(terminalId, v.receiptNo), content, () => decideVoid(ctx, terminalId, v, content));
    },
    saleStatus: async (terminalId, receiptNo) => {
      await Promise.all([settled(saleKey(terminalId, receiptNo)), settled(voidKey(terminalId, receiptNo))]);
      return saleStatus(ctx, terminalId, receiptNo);
    },
    applyBlacklist: (signed) => blacklist.apply(signed),
    blacklistVersion: () => blacklist.state().version,
  };
}
