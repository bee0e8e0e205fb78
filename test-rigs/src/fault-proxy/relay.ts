import http from 'node:http';

/**
 * Plain HTTP/1.1 relaying for the fault proxy: read a whole request, send it upstream, read the
 * whole answer. Whole bodies (not streams) because every fault needs the complete exchange: a
 * batch must reach the bank intact before its answer can be dropped, replaced or duplicated.
 */
export interface RelayedRequest {
  method: string;
  /** Path and query as the client sent them. */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface UpstreamAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Headers that describe one connection, not the message (RFC 9110 §7.6.1); never relayed. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

/** Well above the bank's default 8 MiB body limit, so the bank (not the proxy) refuses big bodies. */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

export function readWholeRequest(req: http.IncomingMessage): Promise<RelayedRequest> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) req.destroy(new Error(`request body exceeds ${MAX_BODY_BYTES} bytes`));
      else chunks.push(c);
    });
    req.once('end', () =>
      resolve({
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks),
      }),
    );
    req.once('error', reject);
  });
}

export interface Upstream {
  send(req: RelayedRequest, signal: AbortSignal): Promise<UpstreamAnswer>;
  close(): void;
}

/**
 * An upstream over node:http; `target` is the bank base URL. Plain HTTP only: a proxy inside
 * mutual TLS would need the box's client certificate, so faults go on a plain-HTTP bank listener.
 */
export function httpUpstream(target: URL): Upstream {
  if (target.protocol !== 'http:')
    throw new Error(`fault proxy target must be an http:// URL, got ${target.protocol}`);
  const agent = new http.Agent({ keepAlive: true });
  const prefix = target.pathname.replace(/\/+$/, '');
  return {
    send(req, signal) {
      const headers = endToEnd(req.headers);
      headers.host = target.host;
      if (req.body.length > 0 || req.headers['content-length'] !== undefined)
        headers['content-length'] = String(req.body.length);
      return new Promise((resolve, reject) => {
        const out = http.request(
          {
            protocol: target.protocol,
            hostname: target.hostname,
            port: target.port,
            method: req.method,
            path: prefix + req.url,
            headers,
            agent,
            signal,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.once('end', () =>
              resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }),
            );
            res.once('error', reject);
          },
        );
        out.once('error', reject);
        out.end(req.body);
      });
    },
    close: () => agent.destroy(),
  };
}

/** Writes an answer to the client: the upstream's status and end-to-end headers, `body` in full. */
export function answer(
  res: http.ServerResponse,
  method: string,
  a: { status: number; headers: http.IncomingHttpHeaders; body: Buffer },
): void {
  const headers = endToEnd(a.headers);
  // A HEAD answer or a 204/304 has no body but may announce the length of one; keep theirs.
  if (method !== 'HEAD' && a.status !== 204 && a.status !== 304) headers['content-length'] = a.body.length;
  res.writeHead(a.status, headers);
  res.end(a.body);
}
