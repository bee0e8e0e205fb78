import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSm2KeyPair } from '@sceneway/cloud-sync';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/sceneway.js', import.meta.url));

function sceneway(args: string[]) {
  const env = { ...process.env };
  delete env.SCENEWAY_KEY_PASSPHRASE;
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env, timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'sceneway-passphrase-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sceneway start: the passphrase file (issue #11 item 4)', () => {
  it('refuses a group/other-readable passphrase file with the file name and chmod 600, and takes a 0600 one', () => {
    const passphraseFile = join(dir, 'passphrase');
    writeFileSync(passphraseFile, 'cli-passphrase-file\n');
    chmodSync(passphraseFile, 0o600);
    const init = sceneway(['keys', 'init', '--dir', join(dir, 'keys'), '--passphrase-file', passphraseFile]);
    expect(init.code, init.stderr).toBe(0);
    writeFileSync(
      join(dir, 'box.json'),
      JSON.stringify({
        version: 1,
        site: { id: 's' },
        box: { id: 'b' },
        bank: { url: 'http://127.0.0.1:9', publicKeyHex: generateSm2KeyPair().publicKeyHex },
        keys: { dir: join(dir, 'keys') },
      }),
    );
    chmodSync(passphraseFile, 0o644);
    const r = sceneway(['start', '--config', join(dir, 'box.json'), '--passphrase-file', passphraseFile]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/KEYS_PASSPHRASE_FILE_MODE/);
    expect(r.stderr).toContain(passphraseFile);
    expect(r.stderr).toContain(`chmod 600 ${passphraseFile}`);
  }, 60_000);
});
