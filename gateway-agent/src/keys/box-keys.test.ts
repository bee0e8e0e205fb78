import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isGatewayError } from '../gateway-error.ts';
import { initBoxKeys, loadBoxKeys, openBoxKey } from './box-keys.ts';
import { stretchBoxKey } from './sealed-key.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function keyDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'sceneway-keys-'));
  dirs.push(dir);
  return join(dir, 'keys');
}

describe('box keys: the thread-pool stretch used by `sceneway start` (D21)', () => {
  it('opens exactly what the synchronous load opens', async () => {
    const dir = keyDir();
    const made = initBoxKeys({ dir, passphrase: 'right passphrase' });
    const viaThreadPool = openBoxKey(await stretchBoxKey({ dir, passphrase: 'right passphrase' }));
    expect(viaThreadPool).toEqual(loadBoxKeys({ dir, passphrase: 'right passphrase' }));
    expect(viaThreadPool.publicKeyHex).toBe(made.publicKeyHex);
  });

  it('refuses a wrong passphrase with KEYS_PASSPHRASE, and a missing file at once with KEYS_MISSING', async () => {
    const dir = keyDir();
    initBoxKeys({ dir, passphrase: 'right passphrase' });
    const stretched = await stretchBoxKey({ dir, passphrase: 'wrong passphrase' });
    expect(() => openBoxKey(stretched)).toThrow(
      expect.objectContaining({ code: 'KEYS_PASSPHRASE' }) as unknown as Error,
    );
    let missing: unknown;
    try {
      // Synchronously, before any scrypt: `sceneway start` fails fast on a box without keys.
      void stretchBoxKey({ dir: keyDir(), passphrase: 'right passphrase' }).catch(() => {});
    } catch (err) {
      missing = err;
    }
    expect(isGatewayError(missing, 'KEYS_MISSING')).toBe(true);
  });
});
