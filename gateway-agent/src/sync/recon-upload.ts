import { sm3Hex } from '@sceneway/cloud-sync';
import { fullJitterDelay, sleep } from '@sceneway/core';
import type { Clock } from '../clock.ts';
import type { AlertSink } from '../ledger/ledger.ts';
import type { Logger } from '../logger.ts';
import { refusalOf } from './bank-answer.ts';
import type { BankClient } from './bank-client.ts';
import { signedBoxHeaders } from './box-request.ts';

export interface ReconUploadOptions {
  client: BankClient;
  boxId: string;
  boxPrivateKeyHex: string;
  userId?: string | undefined;
  clock: Clock;
  logger: Logger;
  alerts?: AlertSink;
  /** Tries per report, with full-jitter backoff between them. */
  attempts?: number;
  backoff?: { initialDelayMs: number; maxDelayMs: number };
}

/**
 * Sends the daily reconciliation report to the bank (POST /v1/recon, signed like a batch request), so
 * the bank's nightly job compares it without an operator copying files. The report stays on disk
 * either way; after the last failed try the alert RECON_UPLOAD_FAILED says where it is.
 */
export function createReconUploader(options: ReconUploadOptions) {
  const attempts = options.attempts ?? 5;
  const backoff = options.backoff ?? { initialDelayMs: 2_000, maxDelayMs: 60_000 };
  const abort = new AbortController();

  const sendOnce = async (report: Buffer): Promise<string | null> => {
    const headers = signedBoxHeaders(options, sm3Hex(report), new Date(options.clock.now()));
    try {
      const answer = await options.client.post('/v1/recon', report, headers);
      if (answer.status === 200) return null;
      const code = refusalOf(answer.body)?.code ?? `HTTP ${answer.status}`;
      return code;
    } catch (err) {
      return `unreachable (${(err as Error).message})`;
    }
  };

  return {
    /** Resolves true once the bank has the report; false after the last try or on stop(). */
    async send(report: Buffer, path: string): Promise<boolean> {
      let last = '';
      for (let attempt = 1; attempt <= attempts && !abort.signal.aborted; attempt++) {
        const failure = await sendOnce(report);
        if (failure === null) {
          options.alerts?.clear('RECON_UPLOAD_FAILED');
          options.logger.info({ path }, 'daily reconciliation report sent to the bank');
          return true;
        }
        last = failure;
        if (attempt < attempts) await sleep(fullJitterDelay(backoff, attempt), abort.signal);
      }
      if (abort.signal.aborted) return false;
      options.logger.warn({ path, reason: last }, 'the bank did not take the daily reconciliation report');
      options.alerts?.raise({
        code: 'RECON_UPLOAD_FAILED',
        message: `the daily reconciliation report ${path} did not reach the bank (${last})`,
        hint: 'The report is kept on disk; copy it to the bank recon directory or check the bank link.',
      });
      return false;
    },
    /** Ends a retry wait; the client belongs to the caller. */
    stop(): void {
      abort.abort();
    },
  };
}
