import type { DriverContext, SaleDecision } from '../driver-api.ts';
import { DriverError } from '../driver-error.ts';
import {
  type AnyTerminalRequest,
  DeclineReason,
  type DeclineReasonName,
  MAX_DISPLAY_TEXT_BYTES,
  type OfflineRecord,
  type PosMessage,
  type PosMessageOf,
  type RecordResult,
} from './messages.ts';

/**
 * Turns one decoded terminal request into the reply message, asking the agent where money is involved.
 * No I/O of its own: the driver caches the returned promise by frame seq and writes the reply.
 */

/** What the box serves for the requests that need no decision (doc §7.10, §7.11). */
export interface CanteenCatalog {
  priceList(): { version: number; items: Array<{ code: number; name: string; priceFen: number }> };
  /** Asked through the agent on every poll, so a new bank list reaches the terminals within a round. */
  blacklistVersion(terminalId: string): Promise<number> | number;
}

/** Items per PRICE_LIST frame: 40 × at most 50 bytes stays well inside the 4096-byte body limit. */
export const PRICE_ITEMS_PER_PAGE = 40;

const APPROVED_TEXT = '支付成功';
const SYSTEM_ERROR_TEXT = '系统忙 请重试';

/** Cuts UTF-8 at a character boundary: a long screen text must not turn an approval into an encode error. */
export function fitDisplayText(text: string, maxBytes = MAX_DISPLAY_TEXT_BYTES): string {
  if (Buffer.byteLength(text, 'utf8') <= maxBytes) return text;
  let out = '';
  let used = 0;
  for (const ch of text) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (used + size > maxBytes) break;
    out += ch;
    used += size;
  }
  return out;
}

function isU32(n: number | undefined): n is number {
  return n !== undefined && Number.isSafeInteger(n) && n >= 0 && n <= 0xffffffff;
}

/** The agent's decision on the wire. The reason name maps 1:1 to a code in messages.ts (doc §6.3). */
function toWire(decision: SaleDecision): {
  decision: PosMessageOf<'sale-result'>['decision'];
  displayText: string;
  balanceFen?: number;
} {
  if (decision.outcome === 'approved') {
    return {
      decision: { outcome: 'approved' },
      displayText: fitDisplayText(decision.displayText ?? APPROVED_TEXT),
      ...(isU32(decision.balanceFen) ? { balanceFen: decision.balanceFen } : {}),
    };
  }
  const reason = decision.reason in DeclineReason ? decision.reason : 'SYSTEM_ERROR';
  return { decision: { outcome: 'declined', reason }, displayText: fitDisplayText(decision.displayText) };
}

const SYSTEM_ERROR: SaleDecision = {
  outcome: 'declined',
  reason: 'SYSTEM_ERROR',
  displayText: SYSTEM_ERROR_TEXT,
};

export interface RequestHandlerDeps {
  ctx: Pick<DriverContext, 'submit' | 'logger'>;
  catalog: CanteenCatalog;
  /**
   * v2: checks an uploaded record's RECORD_MAC under the till's keys; null when it verifies, else why
   * not. Absent for a v1 till (its records carry no MAC).
   */
  checkRecordMac?(record: OfflineRecord): string | null;
  /** A forged offline record: raised as a critical TerminalAlert by the driver. */
  onForgedRecord?(record: OfflineRecord, detail: string): void;
}

const wireReason = (reason: DeclineReasonName): DeclineReasonName =>
  reason in DeclineReason ? reason : 'SYSTEM_ERROR';

/**
 * An offline decision → RECORD_RESULT (contract: RECORD_RESULT meaning). For an upload 'approved' means
 * recorded: without findings RESULT 0, with findings RESULT 1 naming the first; 'declined' means not
 * recorded, RESULT 2 with its reason.
 */
export function recordResultOf(receiptNo: number, decision: SaleDecision): RecordResult {
  if (decision.outcome === 'declined')
    return { receiptNo, result: 'refused', reason: wireReason(decision.reason) };
  const finding = decision.findings?.[0];
  return finding === undefined
    ? { receiptNo, result: 'recorded' }
    : { receiptNo, result: 'flagged', reason: wireReason(finding) };
}

/**
 * An agent failure (a rejected promise) becomes a SYSTEM_ERROR decline: the diner gets an answer and the
 * sale is not approved (invariant 6; Q/RZYH TG 0003-2024 §5.1.1.1.4: keep the data, end cleanly).
 */
async function decide(
  deps: RequestHandlerDeps,
  terminalId: string,
  what: string,
  ask: () => Promise<SaleDecision>,
): Promise<SaleDecision> {
  try {
    return await ask();
  } catch (cause) {
    deps.ctx.logger.error(
      { terminalId, what, err: cause instanceof Error ? cause.message : String(cause) },
      'agent failed to decide; declining with SYSTEM_ERROR',
    );
    return SYSTEM_ERROR;
  }
}

export async function answerRequest(
  deps: RequestHandlerDeps,
  terminalId: string,
  request: AnyTerminalRequest,
): Promise<PosMessage> {
  switch (request.type) {
    case 'sale-request': {
      const decision = await decide(deps, terminalId, `sale ${request.receiptNo}`, () =>
        deps.ctx.submit({
          type: 'SaleRequested',
          terminalId,
          sale: {
            receiptNo: request.receiptNo,
            amountFen: request.amountFen,
            ...(request.credential ? { credential: request.credential } : {}),
            terminalTime: request.terminalTime,
            offline: false,
          },
        }),
      );
      return { type: 'sale-result', receiptNo: request.receiptNo, ...toWire(decision) };
    }
    case 'void-request': {
      const decision = await decide(deps, terminalId, `void ${request.receiptNo}`, () =>
        deps.ctx.submit({
          type: 'VoidRequested',
          terminalId,
          request: {
            receiptNo: request.receiptNo,
            originalReceiptNo: request.originalReceiptNo,
            amountFen: request.amountFen,
            terminalTime: request.terminalTime,
            offline: false,
          },
        }),
      );
      const { decision: wire, displayText } = toWire(decision);
      return { type: 'void-result', receiptNo: request.receiptNo, decision: wire, displayText };
    }
    case 'offline-upload': {
      // One by one, in the terminal's order: a void must find the sale it voids already recorded.
      const results: PosMessageOf<'upload-result'>['results'] = [];
      for (const record of request.records) {
        // v2: a record whose MAC does not verify was not made by this till: nothing is submitted, and
        // the till is told the box will never record it.
        const forged = deps.checkRecordMac?.(record) ?? null;
        if (forged !== null) {
          deps.onForgedRecord?.(record, forged);
          results.push({ receiptNo: record.receiptNo, result: 'refused', reason: 'RECORD_MAC_INVALID' });
          continue;
        }
        const decision = await decide(deps, terminalId, `offline ${record.kind} ${record.receiptNo}`, () =>
          record.kind === 'sale'
            ? deps.ctx.submit({
                type: 'SaleRequested',
                terminalId,
                sale: {
                  receiptNo: record.receiptNo,
                  amountFen: record.amountFen,
                  credential: record.credential,
                  terminalTime: record.terminalTime,
                  offline: true,
                },
              })
            : deps.ctx.submit({
                type: 'VoidRequested',
                terminalId,
                request: {
                  receiptNo: record.receiptNo,
                  originalReceiptNo: record.originalReceiptNo ?? 0,
                  amountFen: record.amountFen,
                  terminalTime: record.terminalTime,
                  offline: true,
                },
              }),
        );
        results.push(recordResultOf(record.receiptNo, decision));
      }
      return { type: 'upload-result', results };
    }
    case 'sale-status-query': {
      // Never guessed: an agent that cannot answer is a NAK BUSY (the till asks again), not "unknown",
      // which would tell the till nothing was charged.
      let status: Awaited<
        ReturnType<typeof deps.ctx.submit<{ type: 'SaleStatusAsked'; terminalId: string; receiptNo: number }>>
      >;
      try {
        status = await deps.ctx.submit({ type: 'SaleStatusAsked', terminalId, receiptNo: request.receiptNo });
      } catch (cause) {
        throw new DriverError(
          'POS_BUSY',
          `the agent could not say what became of receipt ${request.receiptNo}`,
          {
            cause,
          },
        );
      }
      return {
        type: 'sale-status',
        receiptNo: request.receiptNo,
        status: status.state === 'declined' ? { ...status, reason: wireReason(status.reason) } : status,
      };
    }
    case 'session-open':
    case 'session-confirm':
      // The session handshake belongs to the request server (session-auth.ts): it never asks the agent.
      throw new DriverError('POS_INTERNAL', `${request.type} reached the request handler`);
    case 'price-list-request': {
      const list = deps.catalog.priceList();
      const pageCount = Math.max(1, Math.ceil(list.items.length / PRICE_ITEMS_PER_PAGE));
      if (pageCount > 0xff)
        throw new DriverError('POS_FIELD_INVALID', 'price list needs more than 255 pages');
      if (request.page >= pageCount) {
        throw new DriverError(
          'POS_FIELD_INVALID',
          `PAGE ${request.page} asked, the price list has ${pageCount}`,
        );
      }
      const start = request.page * PRICE_ITEMS_PER_PAGE;
      return {
        type: 'price-list',
        version: list.version,
        page: request.page,
        pageCount,
        items: list.items.slice(start, start + PRICE_ITEMS_PER_PAGE),
      };
    }
    case 'blacklist-version-query':
      return { type: 'blacklist-version', version: await deps.catalog.blacklistVersion(terminalId) };
  }
}
