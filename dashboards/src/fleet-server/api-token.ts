import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

/**
 * The fleet API's bearer token: never on the command line (every local user reads `ps`), from a file
 * only its owner can read (0600; any group or other bit is refused) or from the environment.
 */
export const FLEET_TOKEN_ENV = 'SCENEWAY_FLEET_TOKEN';
const MIN_LENGTH = 16;

export function fleetTokenFrom(file: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (file) {
    const mode = statSync(file).mode;
    if ((mode & 0o077) !== 0)
      throw new Error(
        `the fleet token file ${file} is readable by group or others (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${file}`,
      );
    return checked(readFileSync(file, 'utf8').trim(), file);
  }
  const fromEnv = env[FLEET_TOKEN_ENV];
  if (!fromEnv)
    throw new Error(
      `no API token: pass --token-file <0600 file> or set ${FLEET_TOKEN_ENV} (at least ${MIN_LENGTH} characters)`,
    );
  return checked(fromEnv, FLEET_TOKEN_ENV);
}

function checked(token: string, where: string): string {
  if (token.length < MIN_LENGTH)
    throw new Error(`the fleet token in ${where} is shorter than ${MIN_LENGTH} characters`);
  return token;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time check of `Authorization: Bearer <token>`: equal-length digests through timingSafeEqual. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  return timingSafeEqual(digest(header ?? ''), digest(`Bearer ${token}`));
}
