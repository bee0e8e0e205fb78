import type { DeclineReasonName, PaymentCredential, SaleDecision } from '@sceneway/device-drivers';
import { GatewayError, isGatewayError } from '../gateway-error.ts';
import type { Ledger } from '../ledger/ledger-api.ts';
import type { SafeLogger } from '../logger.ts';
import type { CanteenStore } from './canteen-store.ts';
import { type Declined, decline } from './decline-text.ts';
import type { FullBufferGuard } from './full-buffer.ts';
import type { SaleCheckContext } from './sale-checks.ts';

/** What decide-sale.ts and decide-void.ts share; built once by createCanteenRules. */
export interface RulesContext extends SaleCheckContext {
  ledger: Ledger;
  store: CanteenStore;
  fullBuffer: FullBufferGuard;
  clock: { now(): number };
  isBankReachable(): boolean;
  localDay(epochMs: number): string;
  /** The card last presented on the reader bound to this till, taken once (reader-bindings.ts). */
  takeBoundCredential(tillId: string): PaymentCredential | undefined;
  logger: SafeLogger;
}

/**
 * Thrown inside withinCommit to refuse a sale whose rule only the committing transaction can judge
 * exactly (a concurrent sale of the same card, a token used a moment ago). The ledger rolls back
 * that append's savepoint and rejects it with this error (possibly wrapped: we follow `cause`).
 */
export class SaleVeto extends GatewayError {
  constructor(readonly decision: Declined) {
    super('CANTEEN_SALE_VETO', `sale refused inside the commit: ${decision.reason}`);
  }
}

export function vetoOf(error: unknown): SaleVeto | null {
  let e: unknown = error;
  for (let depth = 0; e instanceof Error && depth < 8; depth++) {
    if (e instanceof SaleVeto) return e;
    e = e.cause;
  }
  return null;
}

export function veto(reason: DeclineReasonName): never {
  throw new SaleVeto(decline(reason));
}

/**
 * The answer already given for this idempotency key, if any. An approval is whatever the ledger holds
 * (its idempotency key is the authority); a decline lives only in the decision cache, so a
 * retransmitted declined sale is answered the same. An offline upload ignores cached declines: the
 * terminal approved it on its own, so the box's earlier "no" never reached the diner.
 *
 * A stored record is answered from only once it is durable: it may be a commit whose fsync is still
 * running (or failed), and an approval a power loss erases is a free meal the bank never sees
 * (DESIGN invariant 1; docs/decisions.md D17). A failed fsync rejects here with LEDGER_SYNC_FAILED.
 */
export async function priorDecision(
  ctx: RulesContext,
  key: string,
  opts: { ignoreDeclines: boolean; approved: SaleDecision; amountFen?: number },
): Promise<SaleDecision | null> {
  const stored = ctx.ledger.findByIdempotencyKey(key);
  if (stored) {
    await ctx.ledger.durable();
    // Same receipt number, different amount: not a retransmission but a terminal whose receipt counter
    // went back (reset, replaced). Charging it would be wrong and answering "approved" would hide a sale.
    if (opts.amountFen !== undefined && stored.amountFen !== opts.amountFen) {
      ctx.logger.warn(
        { key, storedFen: stored.amountFen, askedFen: opts.amountFen },
        'canteen: receipt number reused',
      );
      return decline('DUPLICATE_RECEIPT');
    }
    return ctx.store.cachedDecision(key) ?? opts.approved;
  }
  if (opts.ignoreDeclines) return null;
  return ctx.store.cachedDecision(key) ?? null;
}

/**
 * After a failed fsync (LEDGER_SYNC_FAILED) a request gets no answer at all: its record may be
 * committed, so "declined, nothing charged" could be false, and "approved" is not known to be on disk.
 * The ledger has told the agent to exit; the terminal retransmits to the restarted box, whose boot
 * check decides what is on disk (docs/decisions.md D17). Every other failure is the caller's to handle.
 */
export function unansweredAfterSyncFailure(
  ctx: RulesContext,
  error: unknown,
  log: Record<string, unknown>,
): Promise<never> | null {
  if (!isGatewayError(error, 'LEDGER_SYNC_FAILED')) return null;
  ctx.logger.error({ ...log, code: error.code }, 'canteen: ledger sync failed; request left unanswered');
  return new Promise<never>(() => {});
}

/** Caches a decline for retransmissions; a failing cache write must not turn a decline into an error. */
export function remember(ctx: RulesContext, key: string, decision: Declined): Declined {
  try {
    ctx.store.cacheDecision(key, decision, ctx.clock.now());
  } catch (error) {
    ctx.logger.warn({ err: error, key }, 'canteen: could not cache a decline');
  }
  return decision;
}

export function isPositiveFen(amountFen: number): boolean {
  return Number.isSafeInteger(amountFen) && amountFen > 0;
}
