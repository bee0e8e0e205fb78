import { randomBytes, scryptSync } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSm2KeyPair, sm4CbcEncrypt } from '@sceneway/cloud-sync';
import { afterEach, describe, expect, it } from 'vitest';
import { isGatewayError } from '../gateway-error.ts';
import { initBoxKeys, loadBoxKeys, openBoxKey } from './box-keys.ts';
import { resolvePassphrase } from './passphrase.ts';
import { boxKeyPaths, stretchBoxKey } from './sealed-key.ts';

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

/** A key file exactly as the v1 code wrote it: SM4-CBC under 16 bytes of scrypt, no MAC. */
function writeV1KeyFile(dir: string, passphrase: string) {
  mkdirSync(dir, { recursive: true });
  const pair = generateSm2KeyPair();
  const dataKey = randomBytes(16);
  const salt = randomBytes(16);
  const kek = scryptSync(passphrase, salt, 16, { N: 32768, r: 8, p: 1, maxmem: 256 * 2 ** 20 });
  const secret = Buffer.from(
    JSON.stringify({ privateKeyHex: pair.privateKeyHex, dataKeyHex: dataKey.toString('hex') }),
  );
  const { iv, ciphertext } = sm4CbcEncrypt(kek, secret);
  const sealed = {
    format: 'sceneway.box-key.v1',
    publicKeyHex: pair.publicKeyHex,
    kdf: { name: 'scrypt', N: 32768, r: 8, p: 1, saltHex: salt.toString('hex') },
    cipher: 'SM4-CBC',
    ivHex: iv.toString('hex'),
    ciphertextHex: ciphertext.toString('hex'),
  };
  writeFileSync(boxKeyPaths(dir).keyFile, JSON.stringify(sealed), { mode: 0o600 });
  return { pair, dataKey };
}

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};

describe('box keys: an authenticated key file with bounded scrypt parameters (issue #11 item 4)', () => {
  it('writes v2 (HMAC-SM3) and refuses a file with one changed field as KEYS_TAMPERED, before decrypting', () => {
    const dir = keyDir();
    initBoxKeys({ dir, passphrase: 'right passphrase' });
    const { keyFile } = boxKeyPaths(dir);
    const sealed = JSON.parse(readFileSync(keyFile, 'utf8'));
    expect(sealed.format).toBe('sceneway.box-key.v2');
    expect(sealed.macHex).toMatch(/^[0-9a-f]{64}$/);
    // Flip one bit of the last ciphertext block: CBC would still decrypt the earlier blocks.
    const ct = Buffer.from(sealed.ciphertextHex, 'hex');
    ct.writeUInt8(ct.readUInt8(ct.length - 20) ^ 1, ct.length - 20);
    writeFileSync(keyFile, JSON.stringify({ ...sealed, ciphertextHex: ct.toString('hex') }), { mode: 0o600 });
    expect(codeOf(() => loadBoxKeys({ dir, passphrase: 'right passphrase' }))).toBe('KEYS_TAMPERED');
    // A swapped public key (the enrolment identity) is tampering too.
    writeFileSync(keyFile, JSON.stringify({ ...sealed, publicKeyHex: generateSm2KeyPair().publicKeyHex }));
    expect(codeOf(() => loadBoxKeys({ dir, passphrase: 'right passphrase' }))).toBe('KEYS_TAMPERED');
    expect(codeOf(() => loadBoxKeys({ dir, passphrase: 'wrong passphrase' }))).toBe('KEYS_PASSPHRASE');
  });

  it('refuses scrypt parameters outside the bounds before any work: N=2^30 allocates nothing', async () => {
    const dir = keyDir();
    initBoxKeys({ dir, passphrase: 'right passphrase' });
    const { keyFile } = boxKeyPaths(dir);
    const sealed = JSON.parse(readFileSync(keyFile, 'utf8'));
    for (const kdf of [
      { N: 2 ** 30 },
      { N: 1024 },
      { N: 40000 },
      { r: 1024 },
      { p: 64 },
      { N: 2 ** 17, r: 16 },
    ]) {
      writeFileSync(keyFile, JSON.stringify({ ...sealed, kdf: { ...sealed.kdf, ...kdf } }));
      const rssBefore = process.memoryUsage().rss;
      // Synchronously, so `sceneway start` never reaches scrypt with these parameters.
      expect(codeOf(() => void stretchBoxKey({ dir, passphrase: 'right passphrase' }))).toBe(
        'KEYS_KDF_BOUNDS',
      );
      expect(codeOf(() => loadBoxKeys({ dir, passphrase: 'right passphrase' }))).toBe('KEYS_KDF_BOUNDS');
      expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 2 ** 20);
    }
  });

  it('reads an old v1 (SM4-CBC, no MAC) file once and rewrites it authenticated, same keys', async () => {
    const dir = keyDir();
    const { pair, dataKey } = writeV1KeyFile(dir, 'right passphrase');
    const opened = openBoxKey(await stretchBoxKey({ dir, passphrase: 'right passphrase' }));
    expect(opened.privateKeyHex).toBe(pair.privateKeyHex);
    expect(opened.dataKey.equals(dataKey)).toBe(true);
    const { keyFile } = boxKeyPaths(dir);
    const rewritten = JSON.parse(readFileSync(keyFile, 'utf8'));
    expect(rewritten.format).toBe('sceneway.box-key.v2');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(loadBoxKeys({ dir, passphrase: 'right passphrase' })).toEqual(opened);
    // A wrong passphrase on a v1 file is refused and the file left as it was.
    const v1Dir = keyDir();
    writeV1KeyFile(v1Dir, 'right passphrase');
    const before = readFileSync(boxKeyPaths(v1Dir).keyFile, 'utf8');
    expect(codeOf(() => loadBoxKeys({ dir: v1Dir, passphrase: 'wrong passphrase' }))).toBe('KEYS_PASSPHRASE');
    expect(readFileSync(boxKeyPaths(v1Dir).keyFile, 'utf8')).toBe(before);
  });
});

describe('box keys: the passphrase (issue #11 item 4)', () => {
  it('drops SCENEWAY_KEY_PASSPHRASE from the environment as soon as it is read', () => {
    process.env.SCENEWAY_KEY_PASSPHRASE = 'from the environment';
    expect(resolvePassphrase(undefined)).toBe('from the environment');
    expect(process.env.SCENEWAY_KEY_PASSPHRASE).toBeUndefined();
  });

  it('refuses a passphrase file its group or others may read, naming the file and chmod 600', () => {
    delete process.env.SCENEWAY_KEY_PASSPHRASE;
    const file = join(keyDir(), '..', 'passphrase');
    writeFileSync(file, 'file passphrase\n', { mode: 0o644 });
    chmodSync(file, 0o644);
    let refused: unknown;
    try {
      resolvePassphrase(file);
    } catch (err) {
      refused = err;
    }
    expect(isGatewayError(refused, 'KEYS_PASSPHRASE_FILE_MODE')).toBe(true);
    expect(String((refused as Error).message)).toContain(file);
    expect((refused as { hint?: string }).hint).toContain(`chmod 600 ${file}`);
    chmodSync(file, 0o600);
    expect(resolvePassphrase(file)).toBe('file passphrase');
  });
});
