import { DriverError } from '../driver-error.ts';
import type { HttpExchange, HttpTransport, HttpTransportFactory } from '../transport.ts';

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * HTTP peers for drivers (ONVIF cameras speak SOAP over HTTP). Every exchange is bounded in time and in
 * response size before the body is read into memory, and redirects are refused: a device on the site
 * network is a peer we do not trust (DESIGN invariant 8), so it may not point the box at another host
 * or feed it an endless body.
 */
export function createHttpTransportFactory(): HttpTransportFactory {
  return {
    async open(endpoint, signal) {
      let base: URL;
      try {
        base = new URL(endpoint.baseUrl);
      } catch {
        throw new DriverError('HTTP_ENDPOINT_INVALID', `not a URL: ${endpoint.baseUrl}`);
      }
      if (base.protocol !== 'http:' && base.protocol !== 'https:') {
        throw new DriverError('HTTP_ENDPOINT_INVALID', `expected http(s), got ${base.protocol}`);
      }
      const timeoutMs = endpoint.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const maxBytes = endpoint.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
      const closer = new AbortController();
      signal?.addEventListener('abort', () => closer.abort(), { once: true });
      const transport: HttpTransport = {
        get isOpen() {
          return !closer.signal.aborted;
        },
        async request(method, path, options = {}) {
          if (closer.signal.aborted)
            throw new DriverError('HTTP_CLOSED', `${base.origin} transport is closed`);
          const url = new URL(path, base);
          if (url.origin !== base.origin) {
            throw new DriverError('HTTP_PATH_INVALID', `${path} leaves ${base.origin}`);
          }
          const deadlineMs = options.timeoutMs ?? timeoutMs;
          const signals = [closer.signal, AbortSignal.timeout(deadlineMs)];
          if (options.signal) signals.push(options.signal);
          let response: Response;
          try {
            response = await fetch(url, {
              method,
              redirect: 'manual',
              signal: AbortSignal.any(signals),
              ...(options.headers ? { headers: options.headers } : {}),
              ...requestBody(options.body),
            });
          } catch (cause) {
            const timedOut = (cause as Error).name === 'TimeoutError';
            throw new DriverError(
              timedOut ? 'HTTP_TIMEOUT' : 'HTTP_UNREACHABLE',
              timedOut
                ? `${method} ${url.pathname} got no answer within ${deadlineMs} ms`
                : `${method} ${url.pathname} failed: ${(cause as Error).message}`,
              { cause },
            );
          }
          return readBounded(response, maxBytes, `${method} ${url.pathname}`);
        },
        async close() {
          closer.abort();
        },
      };
      return transport;
    },
  };
}

/** A streamed body goes as a ReadableStream, which fetch sends half-duplex (the request before the answer). */
function requestBody(body: Buffer | string | AsyncIterable<Uint8Array> | undefined): RequestInit {
  if (body === undefined) return {};
  if (typeof body === 'string' || Buffer.isBuffer(body)) return { body };
  return { body: ReadableStream.from(body), duplex: 'half' } as RequestInit;
}

async function readBounded(response: Response, maxBytes: number, what: string): Promise<HttpExchange> {
  const declared = Number(response.headers.get('content-length') ?? '0');
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new DriverError(
      'HTTP_RESPONSE_TOO_LARGE',
      `${what}: ${declared} bytes declared, limit ${maxBytes}`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = response.body?.getReader();
  while (reader) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new DriverError('HTTP_RESPONSE_TOO_LARGE', `${what}: body over the limit of ${maxBytes} bytes`);
    }
    chunks.push(Buffer.from(value));
  }
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  return { status: response.status, headers, body: Buffer.concat(chunks) };
}
