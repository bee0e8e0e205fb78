import { randomBytes, type ScryptOptions, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

/**
 * Terminal passwords are stored only as scrypt hashes, `scrypt$N$r$p$saltB64$hashB64`, so a copied
 * config file does not give away a terminal's login (bank standard 004 §5.1.4 g: verification data is
 * stored with a well-proven algorithm; §5.1.1.5 c: server passwords are managed, not kept in clear).
 *
 * N = 2^15, r = 8 costs 32 MiB and tens of milliseconds per check: terminals log in rarely, and an edge
 * box with 1-2 GiB must survive a burst of bad logins running four of these at once in libuv's pool.
 */
const DEFAULT_COST = { N: 2 ** 15, r: 8, p: 1 } as const;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

/** Bounds for hashes read from config: a typo must not make one login allocate gigabytes. */
const LIMITS = { minLogN: 10, maxLogN: 20, maxR: 32, maxP: 16, minSalt: 8, minKey: 16, maxKey: 64 };
const MAX_MEMORY_BYTES = 256 * 1024 * 1024;

export interface ParsedPasswordHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

export function hashPassword(password: string): string {
  const salt = randomBytes(SALT_BYTES);
  const key = scryptSync(password, salt, KEY_BYTES, scryptOptions(DEFAULT_COST));
  const { N, r, p } = DEFAULT_COST;
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/**
 * A hash in the default format and cost that no password matches (random salt and key, never derived):
 * checking an unknown username against it costs the same scrypt as a real login, without paying one
 * scrypt (~150 ms) at every start of a box that has no MQTT terminals configured.
 */
export function decoyPasswordHash(): string {
  const { N, r, p } = DEFAULT_COST;
  return `scrypt$${N}$${r}$${p}$${randomBytes(SALT_BYTES).toString('base64')}$${randomBytes(KEY_BYTES).toString('base64')}`;
}

/** Constant-time check; a malformed or out-of-bounds hash is a failed check, never an exception. */
export function verifyPassword(password: string, hash: string): boolean {
  const parsed = parsePasswordHash(hash);
  if (parsed === null) return false;
  try {
    const key = scryptSync(password, parsed.salt, parsed.key.length, scryptOptions(parsed));
    return timingSafeEqual(key, parsed.key);
  } catch {
    return false;
  }
}

/**
 * The broker's form: scrypt runs in libuv's thread pool, so one terminal logging in does not stall the
 * frames of every other terminal on the box for the length of a hash.
 */
export function verifyPasswordAsync(password: string | Buffer, hash: string): Promise<boolean> {
  const parsed = parsePasswordHash(hash);
  if (parsed === null) return Promise.resolve(false);
  return new Promise((resolve) => {
    scrypt(password, parsed.salt, parsed.key.length, scryptOptions(parsed), (err, key) => {
      resolve(err === null && timingSafeEqual(key, parsed.key));
    });
  });
}

export function parsePasswordHash(hash: string): ParsedPasswordHash | null {
  const parts = hash.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const N = parsePositiveInt(parts[1]);
  const r = parsePositiveInt(parts[2]);
  const p = parsePositiveInt(parts[3]);
  const salt = parseBase64(parts[4]);
  const key = parseBase64(parts[5]);
  if (N === null || r === null || p === null || salt === null || key === null) return null;
  const logN = Math.log2(N);
  const sane =
    Number.isInteger(logN) &&
    logN >= LIMITS.minLogN &&
    logN <= LIMITS.maxLogN &&
    r <= LIMITS.maxR &&
    p <= LIMITS.maxP &&
    128 * N * r <= MAX_MEMORY_BYTES &&
    salt.length >= LIMITS.minSalt &&
    key.length >= LIMITS.minKey &&
    key.length <= LIMITS.maxKey;
  return sane ? { N, r, p, salt, key } : null;
}

function scryptOptions(cost: { N: number; r: number; p: number }): ScryptOptions {
  // Node's default maxmem (32 MiB) is exactly 128·N·r at our default cost and would refuse it.
  return { N: cost.N, r: cost.r, p: cost.p, maxmem: 2 * 128 * cost.N * cost.r };
}

function parsePositiveInt(text: string | undefined): number | null {
  if (text === undefined || !/^[1-9][0-9]{0,9}$/.test(text)) return null;
  return Number(text);
}

function parseBase64(text: string | undefined): Buffer | null {
  // Buffer.from(…, 'base64') silently skips junk; insist on the canonical form instead.
  if (text === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : null;
}
