import { scrypt, scryptSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GatewayError } from '../gateway-error.ts';

/**
 * The sealed box key file and the stretching of its passphrase, with no curve code: `sceneway start`
 * reads the file and starts scrypt before the SM2 library and the agent are even loaded, and loads
 * them while scrypt runs on the thread pool (docs/decisions.md D21). box-keys.ts opens what this
 * stretches.
 */
export interface SealedKeyFile {
  format: 'sceneway.box-key.v1';
  publicKeyHex: string;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; saltHex: string };
  cipher: 'SM4-CBC';
  ivHex: string;
  ciphertextHex: string;
}

/** A sealed key file and the key-encryption key its passphrase stretches to. */
export interface StretchedKey {
  sealed: SealedKeyFile;
  kek: Buffer;
}

export type KdfParams = { N: number; r: number; p: number };
export const KDF: KdfParams = { N: 32768, r: 8, p: 1 };

const KEY_FILE = 'box-key.json';
const PUBLIC_FILE = 'box-public-key.hex';

export function boxKeyPaths(dir: string) {
  return { keyFile: join(dir, KEY_FILE), publicKeyFile: join(dir, PUBLIC_FILE) };
}

const scryptOptions = (params: KdfParams) => ({
  N: params.N,
  r: params.r,
  p: params.p,
  maxmem: 256 * 1024 * 1024,
});

export function deriveKek(passphrase: string, salt: Buffer, params: KdfParams): Buffer {
  return scryptSync(passphrase, salt, 16, scryptOptions(params));
}

export function readSealedKey(dir: string): SealedKeyFile {
  const { keyFile } = boxKeyPaths(dir);
  if (!existsSync(keyFile)) {
    throw new GatewayError(
      'KEYS_MISSING',
      `no box key at ${keyFile}`,
      'Run `sceneway keys init` on this box first.',
    );
  }
  try {
    const sealed = JSON.parse(readFileSync(keyFile, 'utf8')) as SealedKeyFile;
    if (sealed.format !== 'sceneway.box-key.v1') throw new Error(`unknown format ${String(sealed.format)}`);
    return sealed;
  } catch (cause) {
    throw new GatewayError(
      'KEYS_CORRUPT',
      `the box key file ${keyFile} is unreadable`,
      'Restore it from the box backup.',
      {
        cause,
      },
    );
  }
}

/** Stretches the file's passphrase synchronously (the `sceneway keys` commands). */
export function stretchBoxKeySync(options: { dir: string; passphrase: string }): StretchedKey {
  const sealed = readSealedKey(options.dir);
  return { sealed, kek: deriveKek(options.passphrase, Buffer.from(sealed.kdf.saltHex, 'hex'), sealed.kdf) };
}

/**
 * The same scrypt with the same stored parameters, on libuv's thread pool, so the calling thread can
 * load code meanwhile. A missing or unreadable file still throws at once, before any waiting.
 */
export function stretchBoxKey(options: { dir: string; passphrase: string }): Promise<StretchedKey> {
  const sealed = readSealedKey(options.dir);
  return new Promise((resolve, reject) =>
    scrypt(
      options.passphrase,
      Buffer.from(sealed.kdf.saltHex, 'hex'),
      16,
      scryptOptions(sealed.kdf),
      (err, kek) => (err ? reject(err) : resolve({ sealed, kek })),
    ),
  );
}

/**
 * Where the passphrase comes from: SCENEWAY_KEY_PASSPHRASE, else a file (0600, ideally on a separate
 * sealed volume or provisioned by the installer). Never from the config file, which is shared freely.
 */
export function resolvePassphrase(passphraseFile: string | undefined): string {
  const fromEnv = process.env.SCENEWAY_KEY_PASSPHRASE;
  if (fromEnv) return fromEnv;
  if (passphraseFile && existsSync(passphraseFile)) return readFileSync(passphraseFile, 'utf8').trim();
  throw new GatewayError(
    'KEYS_PASSPHRASE_MISSING',
    'no key passphrase: set SCENEWAY_KEY_PASSPHRASE or pass --passphrase-file',
    'The passphrase unlocks the box key; the installer set it at `sceneway keys init`.',
  );
}
