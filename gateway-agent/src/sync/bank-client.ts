import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

export interface BankResponse {
  status: number;
  body: Buffer;
}

export interface BankClient {
  /** `onSent` runs once the whole body is handed to the OS (the request's 'finish'). */
  post(
    path: string,
    body: Buffer,
    headers: Record<string, string>,
    onSent?: () => void,
  ): Promise<BankResponse>;
  get(path: string, headers: Record<string, string>): Promise<BankResponse>;
  close(): void;
}

export interface BankClientOptions {
  baseUrl: string;
  /** Mutual TLS (004 §5.3.1 f): the box's client certificate and the CA that signed the bank's. */
  tls?: { certPath: string; keyPath: string; caPath?: string | undefined } | undefined;
  timeoutMs?: number;
}

/**
 * HTTP(S) transport to the bank ingest, keep-alive, with a hard per-request timeout. It returns any
 * status as data: what a status means (retry, stop, alert) is the uploader's decision, not the client's.
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
  const timeoutMs = options.timeoutMs ?? 30_000;
  const send = (
    method: 'GET' | 'POST',
    path: string,
    body: Buffer | null,
    headers: Record<string, string>,
    onSent?: () => void,
  ) =>
    new Promise<BankResponse>((resolve, reject) => {
      const url = new URL(path, base);
      const request = (isHttps ? https : http).request(
        url,
        {
          method,
          agent,
          headers: body
            ? { 'content-type': 'application/json', 'content-length': String(body.length), ...headers }
            : headers,
          timeout: timeoutMs,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
          res.on('error', reject);
        },
      );
      request.on('timeout', () =>
        request.destroy(new Error(`no answer from the bank within ${timeoutMs} ms`)),
      );
      request.on('error', reject);
      if (onSent) request.once('finish', onSent);
      request.end(body ?? undefined);
    });
  return {
    post: (path, body, headers, onSent) => send('POST', path, body, headers, onSent),
    get: (path, headers) => send('GET', path, null, headers),
    close() {
      agent.destroy();
    },
  };
}
