import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSm2KeyPair } from '@sceneway/cloud-sync';
import { keyCheckValue } from '@sceneway/device-drivers';
import { afterAll, describe, expect, it } from 'vitest';
import { initBoxKeys, loadBoxKeys } from './box-keys.ts';
import { openTerminalKeyStore, provisionTerminalKey, TERMINAL_KEYS_FILE } from './terminal-keys.ts';

const root = mkdtempSync(join(tmpdir(), 'sceneway-terminal-keys-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `keys-${++n}`);
const box = () => generateSm2KeyPair().privateKeyHex;

describe('the sealed terminal key store (POS protocol v2)', () => {
  it('provisions version after version, newest first, keeps the previous one, and opens what it sealed', () => {
    const dir = freshDir();
    const boxPrivateKeyHex = box();
    const v1 = provisionTerminalKey({ dir, boxPrivateKeyHex, terminalId: 'till-1' });
    const v2 = provisionTerminalKey({ dir, boxPrivateKeyHex, terminalId: 'till-1' });
    const v3 = provisionTerminalKey({ dir, boxPrivateKeyHex, terminalId: 'till-1' });
    const other = provisionTerminalKey({ dir, boxPrivateKeyHex, terminalId: 'till-2' });
    expect([v1.version, v2.version, v3.version, other.version]).toEqual([1, 2, 3, 1]);
    expect(v3.key).toHaveLength(32);
    expect(v3.key.equals(v2.key)).toBe(false);
    const store = openTerminalKeyStore({ dir, boxPrivateKeyHex });
    expect(store.keys('till-1').map((k) => [k.version, Buffer.from(k.key).toString('hex')])).toEqual([
      [3, v3.key.toString('hex')],
      [2, v2.key.toString('hex')],
    ]);
    expect(store.keys('till-2').map((k) => k.version)).toEqual([1]);
    expect(store.keys('never-provisioned')).toEqual([]);
    // the key is sealed: its bytes are nowhere in the file in clear
    const text = readFileSync(join(dir, TERMINAL_KEYS_FILE), 'utf8');
    expect(text).not.toContain(v3.key.toString('hex'));
    expect(statSync(join(dir, TERMINAL_KEYS_FILE)).mode & 0o777).toBe(0o600);
  });

  it('is an empty store when the file is absent', () => {
    expect(openTerminalKeyStore({ dir: freshDir(), boxPrivateKeyHex: box() }).keys('till-1')).toEqual([]);
  });

  it('refuses a tampered store, and one sealed by another box, with KEYS_TERMINAL_STORE naming the file', () => {
    const dir = freshDir();
    const boxPrivateKeyHex = box();
    provisionTerminalKey({ dir, boxPrivateKeyHex, terminalId: 'till-1' });
    const file = join(dir, TERMINAL_KEYS_FILE);
    const sealed = JSON.parse(readFileSync(file, 'utf8')) as { ciphertextHex: string };
    const flipped = (sealed.ciphertextHex[0] === '0' ? '1' : '0') + sealed.ciphertextHex.slice(1);
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, JSON.stringify({ ...sealed, ciphertextHex: flipped }));
    const refusal = (privateKeyHex: string) => {
      try {
        openTerminalKeyStore({ dir, boxPrivateKeyHex: privateKeyHex });
        return null;
      } catch (err) {
        return err as { code: string; message: string };
      }
    };
    expect(refusal(boxPrivateKeyHex)).toMatchObject({
      code: 'KEYS_TERMINAL_STORE',
      message: expect.stringMatching(new RegExp(`${file}.*altered`)),
    });
    writeFileSync(file, good);
    expect(refusal(boxPrivateKeyHex)).toBeNull();
    expect(refusal(box())).toMatchObject({ code: 'KEYS_TERMINAL_STORE' });
    writeFileSync(file, '{ not json');
    expect(refusal(boxPrivateKeyHex)).toMatchObject({ code: 'KEYS_TERMINAL_STORE' });
    // a refused store is not provisioned over either: the tills' keys are not silently lost
    expect(() => provisionTerminalKey({ dir, boxPrivateKeyHex, terminalId: 'till-1' })).toThrow(
      expect.objectContaining({ code: 'KEYS_TERMINAL_STORE' }) as unknown as Error,
    );
  });
});

describe('sceneway terminal provision', () => {
  const BIN = fileURLToPath(new URL('../../bin/sceneway.js', import.meta.url));
  const run = (args: string[], env: Record<string, string> = {}) => {
    const e: Record<string, string | undefined> = { ...process.env, ...env };
    if (!env.SCENEWAY_KEY_PASSPHRASE) delete e.SCENEWAY_KEY_PASSPHRASE;
    const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: e, timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('prints the key once with its KCV, seals it on the box, and refuses an id that is not a till', () => {
    const dir = mkdtempSync(join(root, 'cli-'));
    const keys = join(dir, 'keys');
    const passphrase = 'provision passphrase';
    initBoxKeys({ dir: keys, passphrase });
    const config = join(dir, 'box.json');
    writeFileSync(
      config,
      JSON.stringify({
        version: 2,
        site: { id: 's' },
        box: { id: 'b' },
        bank: { url: 'http://127.0.0.1:9', publicKeyHex: generateSm2KeyPair().publicKeyHex },
        keys: { dir: keys },
        ledger: { path: join(dir, 'ledger.db') },
        scenarios: { canteen: {} },
        drivers: [
          { driver: 'canteen-pos', config: { port: { path: '/dev/ttyS0' }, terminals: [{ id: 'till-1' }] } },
        ],
      }),
    );
    chmodSync(config, 0o600);
    const help = run(['terminal', 'provision', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('shown again');

    const made = run(['terminal', 'provision', 'till-1', '--config', config], {
      SCENEWAY_KEY_PASSPHRASE: passphrase,
    });
    expect(made.code, made.stderr).toBe(0);
    const hex = [...made.stdout.matchAll(/^(?:[0-9A-F]{4} ){7}[0-9A-F]{4}$/gm)].map((m) =>
      m[0].replaceAll(' ', ''),
    );
    expect(hex).toHaveLength(2);
    const key = Buffer.from(hex.join(''), 'hex');
    expect(made.stdout).toContain(`KCV ${keyCheckValue(key)}`);
    expect(made.stdout).toContain('key version 1');
    expect(made.stderr).not.toContain(hex[0]);
    const secrets = loadBoxKeys({ dir: keys, passphrase });
    const stored = openTerminalKeyStore({ dir: keys, boxPrivateKeyHex: secrets.privateKeyHex }).keys(
      'till-1',
    );
    expect(stored.map((k) => [k.version, Buffer.from(k.key).toString('hex')])).toEqual([
      [1, key.toString('hex')],
    ]);

    const unknown = run(['terminal', 'provision', 'till-9', '--config', config], {
      SCENEWAY_KEY_PASSPHRASE: passphrase,
    });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/KEYS_TERMINAL_UNKNOWN.*till-9/);
    expect(unknown.stderr).toContain('till-1');
  }, 120_000);
});
