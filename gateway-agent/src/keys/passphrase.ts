import { existsSync, readFileSync, statSync } from 'node:fs';
import { GatewayError } from '../gateway-error.ts';

export const PASSPHRASE_ENV = 'SCENEWAY_KEY_PASSPHRASE';

/**
 * Where the passphrase comes from: SCENEWAY_KEY_PASSPHRASE, else a file (0600, ideally on a separate
 * sealed volume or provisioned by the installer). Never from the config file, which is shared freely.
 *
 * The variable is deleted from process.env as soon as it is read: left there it is inherited by every
 * child process and written by any crash report or diagnostic that dumps process.env (DESIGN
 * invariant 7; 004 §5.1.4 c: the key stays with its holder). /proc/<pid>/environ still shows the
 * environment the process started with (readable by the same user and root only): JavaScript cannot
 * overwrite that block, so on a shared box prefer --passphrase-file. A
 * passphrase file that its group or others may read is refused rather than used: a 0644 file hands
 * the key to every account on the box.
 */
export function resolvePassphrase(passphraseFile: string | undefined): string {
  const fromEnv = process.env[PASSPHRASE_ENV];
  delete process.env[PASSPHRASE_ENV];
  if (fromEnv) return fromEnv;
  if (passphraseFile && existsSync(passphraseFile)) {
    const mode = statSync(passphraseFile).mode & 0o777;
    if ((mode & 0o077) !== 0) {
      throw new GatewayError(
        'KEYS_PASSPHRASE_FILE_MODE',
        `the passphrase file ${passphraseFile} has mode 0${mode.toString(8)}: its group or others may read it`,
        `Run \`chmod 600 ${passphraseFile}\` (owned by the account that runs the agent) and start again.`,
      );
    }
    return readFileSync(passphraseFile, 'utf8').trim();
  }
  throw new GatewayError(
    'KEYS_PASSPHRASE_MISSING',
    `no key passphrase: set ${PASSPHRASE_ENV} or pass --passphrase-file`,
    'The passphrase unlocks the box key; the installer set it at `sceneway keys init`.',
  );
}
