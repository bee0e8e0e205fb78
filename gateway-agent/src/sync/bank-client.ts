import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { SyncError } from '@sceneway/cloud-sync';

export interface BankResponse {
  status: number;
  body: Buffer;
}

/** Per-request bounds on what the bank may send back; the client's defaults when absent. */
export interface AnswerLimits {
  /** Most bytes of answer body read; beyond it the socket is closed (SYNC_ANSWER_TOO_LARGE). */
  maxAnswerBytes?: number;
  /** Whole request, connect to last byte; past it the socket is closed (SYNC_BANK_DEADLINE). */
  deadlineMs?: number;
}

export interface BankClient {
  /** `onSent` runs once the whole body is handed to the OS (the request's 'finish'). */
  post(
    path: string,
    body: Buffer,
    headers: Record<string, string>,
    onSent?: () => void,
  ): Promise<BankResponse>;
  get(path: string, headers: Record<string, string>, limits?: AnswerLimits): Promise<BankResponse>;
  close(): void;
}

export interface BankClientOptions {
  baseUrl: string;
  /** Mutual TLS (004 §5.3.1 f): the box's client certificate and the CA that signed the bank's. */
  tls?: { certPath: string; keyPath: string; caPath?: string | undefined } | undefined;
  /** Total deadline of one request (default 30 s). */
  timeoutMs?: number;
  /** Most answer bytes of one request (default DEFAULT_MAX_ANSWER_BYTES). */
  maxAnswerBytes?: number;
}

/**
 * An ack, a refusal, a reconciliation answer are each under 2 KiB; 4 MiB leaves room for any signed
 * document of ours and still bounds the box's memory. The blacklist feed, the one large answer, asks
 * for its own cap (blacklist-poller.ts).
 */
export const DEFAULT_MAX_ANSWER_BYTES = 4 * 1024 * 1024;
const DEFAULT_DEADLINE_MS = 30_000;

/**
 * HTTP(S) transport to the bank ingest, keep-alive. It returns any status as data: what a status means
 * (retry, stop, alert) is the uploader's decision, not the client's. What it does not take from the bank
 * (DESIGN invariant 8, the bank is a peer over a network): an answer larger than the cap, refused by its
 * declared length before a byte is read, or cut off the moment the bytes read pass it, never buffered
 * whole (a 600 MiB answer took the agent to 1.3 GB RSS); and an answer slower than the total deadline.
 * Node's `timeout` option is an idle timer, re-armed by every byte: a reply dripped at 1 byte/s passed
 * a 3 s "timeout" forever. Either refusal destroys the socket, so a half-read answer never meets the
 * next request on a kept-alive connection.
 */
export function createBankClient(options: BankClientOptions): BankClient {
  const base = new URL(options.baseUrl);
  const isHttps = base.protocol === 'https:';
  const agent = isHttps
    ? new https.Agent({
        keepAlive: true,
        ...(options.tls
          ? {
              cert: readFileSync(options.tls.certPath),
              key: readFileSync(options.tls.keyPath),
              ...(options.tls.caPath ? { ca: readFileSync(options.tls.caPath) } : {}),
            }
          : {}),
      })
    : new http.Agent({ keepAlive: true });
  const defaults = {
    maxAnswerBytes: options.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES,
    deadlineMs: options.timeoutMs ?? DEFAULT_DEADLINE_MS,
  };
  const send = (
    method: 'GET' | 'POST',
    path: string,
    body: Buffer | null,
    headers: Record<string, string>,
    onSent?: () => void,
    limits: AnswerLimits = {},
  ) =>
    new Promise<BankResponse>((resolve, reject) => {
      const maxAnswerBytes = limits.maxAnswerBytes ?? defaults.maxAnswerBytes;
      const deadlineMs = limits.deadlineMs ?? defaults.deadlineMs;
      const url = new URL(path, base);
      let settled = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        outcome();
      };
      const refuse = (error: SyncError) => {
        settle(() => reject(error));
        request.destroy(error);
      };
      const request = (isHttps ? https : http).request(
        url,
        {
          method,
          agent,
          headers: body
            ? { 'content-type': 'application/json', 'content-length': String(body.length), ...headers }
            : headers,
        },
        (res) => {
          const tooLarge = (what: string) =>
            new SyncError(
              'SYNC_ANSWER_TOO_LARGE',
              `the bank's answer to ${method} ${url.pathname} ${what}, over the ${maxAnswerBytes}-byte cap`,
              'The connection was closed without reading the rest. Check bank.url points at the bank ingest.',
            );
          const declared = Number(res.headers['content-length']);
          if (Number.isFinite(declared) && declared > maxAnswerBytes) {
            refuse(tooLarge(`declares ${declared} bytes`));
            return;
          }
          const chunks: Buffer[] = [];
          let received = 0;
          res.on('data', (chunk: Buffer) => {
            received += chunk.length;
            if (received > maxAnswerBytes) {
              chunks.length = 0;
              refuse(tooLarge(`passed ${received} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          res.on('end', () =>
            settle(() => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) })),
          );
          res.on('error', (error) => settle(() => reject(error)));
        },
      );
      const deadline = setTimeout(
        () =>
          refuse(
            new SyncError(
              'SYNC_BANK_DEADLINE',
              `no complete answer from the bank to ${method} ${url.pathname} within ${deadlineMs} ms`,
              'The request is retried with backoff; check the link to the bank if this repeats.',
            ),
          ),
        deadlineMs,
      );
      request.on('error', (error) => settle(() => reject(error)));
      if (onSent) request.once('finish', onSent);
      request.end(body ?? undefined);
    });
  return {
    post: (path, body, headers, onSent) => send('POST', path, body, headers, onSent),
    get: (path, headers, limits) => send('GET', path, null, headers, undefined, limits),
    close() {
      agent.destroy();
    },
  };
}
