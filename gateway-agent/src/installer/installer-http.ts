import type { IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';

/** Headers every installer answer carries: no framing, no sniffing, no referrer leaving the box. */
export const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
} as const;

export function sendJson(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...SECURITY_HEADERS,
    ...headers,
  });
  res.end(JSON.stringify(body));
}

export class HttpRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Reads a JSON body of at most `maxBytes`, refusing by the declared length before reading anything and
 * by the bytes that actually arrive (a chunked body declares none), so a large body costs the sender.
 */
export async function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw new HttpRefusal(413, 'INSTALLER_BODY', `body over ${maxBytes} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      req.destroy();
      throw new HttpRefusal(413, 'INSTALLER_BODY', `body over ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpRefusal(400, 'INSTALLER_BODY', 'the body is not JSON');
  }
}

export function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * A Host the box answers the UI on: an IP literal, localhost, or the configured admin host. A page on a
 * stranger's domain that rebinds its DNS name to the box (DNS rebinding) arrives with that name as Host
 * and is refused before any login is tried.
 */
export function hostAllowed(req: IncomingMessage, configuredHost: string): boolean {
  const host = req.headers.host;
  if (host === undefined) return false;
  const name = host
    .replace(/:\d+$/, '')
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase();
  return isIP(name) !== 0 || name === 'localhost' || name === configuredHost.toLowerCase();
}

/**
 * The Origin of a state-changing request must be this very server (browsers send Origin on every POST):
 * a form or fetch from another site is refused even when the browser would attach a cookie.
 */
export function sameOrigin(req: IncomingMessage, scheme: 'http' | 'https'): boolean {
  const origin = req.headers.origin;
  return (
    origin !== undefined && req.headers.host !== undefined && origin === `${scheme}://${req.headers.host}`
  );
}
