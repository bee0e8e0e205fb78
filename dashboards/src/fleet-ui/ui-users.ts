import { readFileSync, statSync } from 'node:fs';
import { parsePasswordHash } from '@sceneway/gateway-agent';

/** One dashboard login: a name and the scrypt hash `sceneway broker hash-password` prints. */
export interface UiUser {
  name: string;
  passwordHash: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

/**
 * Reads `--ui-users FILE`: one `name:<hash>` a line, `#` comments and blank lines skipped. The file
 * must be 0600 like the API token's: a hash is not a password, but it is what an offline guesser needs.
 * A bad line is refused by its number, never echoing the line (it holds a hash).
 */
export function uiUsersFromFile(file: string): UiUser[] {
  const mode = statSync(file).mode;
  if ((mode & 0o077) !== 0)
    throw new Error(
      `the UI users file ${file} is readable by group or others (mode ${(mode & 0o777).toString(8)}); run chmod 600 ${file}`,
    );
  return parseUiUsers(readFileSync(file, 'utf8'), file);
}

export function parseUiUsers(text: string, where = 'the UI users file'): UiUser[] {
  const users: UiUser[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon) : '';
    const passwordHash = line.slice(colon + 1);
    if (!NAME.test(name))
      throw new Error(
        `${where} line ${index + 1}: expected name:<hash> with a name of letters, digits, . _ @ -`,
      );
    if (parsePasswordHash(passwordHash) === null)
      throw new Error(
        `${where} line ${index + 1}: the hash is not one \`sceneway broker hash-password\` prints (scrypt$N$r$p$salt$key)`,
      );
    if (users.some((u) => u.name === name))
      throw new Error(`${where} line ${index + 1}: ${name} appears twice`);
    users.push({ name, passwordHash });
  });
  if (users.length === 0) throw new Error(`${where} names no user`);
  return users;
}
