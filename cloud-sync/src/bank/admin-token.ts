import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type http from 'node:http';
import { BankRefusal } from './refusal.ts';

/**
 * The bank's admin bearer token (POST /v1/enrol, key rotation, /api/status, /metrics). Never on the
 * command line, where every local user reads it in `ps`: from a file only its owner can read (0600,
 * refused with any group or other bit), or from the environment.
 */
export const ADMIN_TOKEN_ENV = 'SCENEWAY_BANK_ADMIN_TOKEN';

export function readAdminTokenFile(path: string): string {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (cause) {
    throw new BankRefusal(
      500,
      'BANK_ADMIN_TOKEN_FILE',
      `cannot read the admin token file ${path}: ${String(cause)}`,
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new BankRefusal(
      500,
      'BANK_ADMIN_TOKEN_FILE',
      `the admin token file ${path} is readable by group or others (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${path}`,
    );
  }
  const token = readFileSync(path, 'utf8').trim();
  if (token.length < 16)
    throw new BankRefusal(
      500,
      'BANK_ADMIN_TOKEN_FILE',
      `the admin token in ${path} is shorter than 16 characters`,
    );
  return token;
}

/** The token from --admin-token-file, else from the environment, else none (admin endpoints off). */
export function adminTokenFrom(
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (file) return readAdminTokenFile(file);
  const fromEnv = env[ADMIN_TOKEN_ENV];
  return fromEnv ? fromEnv : undefined;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time check of `Authorization: Bearer <token>`: equal-length digests, timingSafeEqual. */
export function hasAdminToken(req: http.IncomingMessage, token: string | undefined): boolean {
  if (!token) return false;
  const header = req.headers.authorization ?? '';
  return timingSafeEqual(digest(header), digest(`Bearer ${token}`));
}

const LOOPBACK = /^(?:127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/**
 * /api/status and /metrics list boxes, sites and alerts: with an admin token configured they need it
 * (Prometheus sends it as a bearer token); without one they answer loopback peers only, so a bank on
 * a public address shows nothing beyond /healthz to the network.
 */
export function requireStatusAccess(req: http.IncomingMessage, token: string | undefined): void {
  if (token ? hasAdminToken(req, token) : LOOPBACK.test(req.socket.remoteAddress ?? '')) return;
  throw new BankRefusal(
    401,
    'BANK_ADMIN_TOKEN',
    token
      ? 'this endpoint needs the bank admin token (Authorization: Bearer)'
      : 'this endpoint answers loopback only when the bank has no admin token',
  );
}
