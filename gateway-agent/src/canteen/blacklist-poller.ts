import { sm3Hex } from '@sceneway/cloud-sync';
import type { Clock } from '../clock.ts';
import { isGatewayError } from '../gateway-error.ts';
import type { AlertSink } from '../ledger/ledger.ts';
import type { Logger } from '../logger.ts';
import { refusalOf } from '../sync/bank-answer.ts';
import type { BankClient } from '../sync/bank-client.ts';
import { signedBoxHeaders } from '../sync/box-request.ts';
import type { BlacklistState } from './blacklist.ts';

export interface BlacklistPollerOptions {
  client: BankClient;
  boxId: string;
  boxPrivateKeyHex: string;
  userId?: string | undefined;
  intervalMs: number;
  /** Delay of the first round; default min(1 s, intervalMs). Tests that drive rounds with pollOnce set it past their end. */
  firstRoundMs?: number;
  clock: Clock;
  logger: Logger;
  alerts?: AlertSink;
  currentVersion(): number;
  /** Verifies against the pinned bank key and applies (canteen rules' applyBlacklist). */
  apply(signed: unknown): BlacklistState;
}

/**
 * The feed is the one large answer from the bank: a full list of N digests is about 67·N bytes of
 * JSON, so 64 MiB carries about a million blacklisted holders, twenty times a 50,000-student campus's
 * card count, and bounds what a hostile or broken "bank" can make the box buffer (issue #11). It is
 * read within two minutes, not the 30 s of an ack, for a slow site uplink.
 */
export const BLACKLIST_FEED_LIMITS = { maxAnswerBytes: 64 * 1024 * 1024, deadlineMs: 120_000 };

export type PollOutcome = 'current' | 'updated' | 'unreachable' | 'refused';

/**
 * Fetches blacklist updates from the bank (GET /v1/blacklist?since=<version>, signed like a batch
 * request) and applies them in order. Each update is verified against the pinned bank key by the
 * store before use; one that fails stops this round with the alert CANTEEN_BLACKLIST_UPDATE and the
 * current list stays in force. An unreachable bank is normal offline life: logged, tried next round.
 */
export function startBlacklistPoller(options: BlacklistPollerOptions) {
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;

  const pollOnce = async (): Promise<PollOutcome> => {
    const target = `/v1/blacklist?since=${options.currentVersion()}`;
    const headers = signedBoxHeaders(options, sm3Hex(target), new Date(options.clock.now()));
    let answer: { status: number; body: Buffer };
    try {
      answer = await options.client.get(target, headers, BLACKLIST_FEED_LIMITS);
    } catch (err) {
      if ((err as { code?: unknown }).code === 'SYNC_ANSWER_TOO_LARGE') {
        options.alerts?.raise({
          code: 'CANTEEN_BLACKLIST_UPDATE',
          message: `the bank's blacklist feed was refused: ${(err as Error).message}`,
          hint: 'The current blacklist stays in force. Check bank.url; the bank must send a smaller list.',
        });
        return 'refused';
      }
      options.logger.warn({ err: (err as Error).message }, 'blacklist: bank unreachable; will try again');
      return 'unreachable';
    }
    if (answer.status !== 200) {
      const code = refusalOf(answer.body)?.code ?? `HTTP ${answer.status}`;
      options.logger.warn({ code }, 'blacklist: the bank did not serve the feed; will try again');
      return 'unreachable';
    }
    let updates: unknown[];
    try {
      const feed = JSON.parse(answer.body.toString('utf8')) as { updates?: unknown };
      if (!Array.isArray(feed.updates)) throw new Error('no updates array');
      updates = feed.updates;
    } catch (err) {
      options.alerts?.raise({
        code: 'CANTEEN_BLACKLIST_UPDATE',
        message: `the bank's blacklist feed is not readable (${(err as Error).message})`,
        hint: 'The current blacklist stays in force. Check the bank address and the path to it.',
      });
      return 'refused';
    }
    for (const update of updates) {
      try {
        options.apply(update);
      } catch (err) {
        const code = isGatewayError(err) ? err.code : 'CANTEEN_BLACKLIST_MALFORMED';
        options.alerts?.raise({
          code: 'CANTEEN_BLACKLIST_UPDATE',
          message: `a blacklist update from the bank was refused (${code}): ${(err as Error).message}`,
          hint: 'The current blacklist stays in force. Check bank.publicKeyHex; the bank must publish a newer full list.',
        });
        return 'refused';
      }
    }
    options.alerts?.clear('CANTEEN_BLACKLIST_UPDATE');
    return updates.length > 0 ? 'updated' : 'current';
  };

  const schedule = (delayMs: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      void pollOnce().finally(() => schedule(options.intervalMs));
    }, delayMs);
    timer.unref();
  };
  // The first round soon after start: a box that was off for a while catches up at once.
  schedule(options.firstRoundMs ?? Math.min(1_000, options.intervalMs));

  return {
    pollOnce,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
