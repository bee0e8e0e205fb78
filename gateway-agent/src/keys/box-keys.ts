import { randomBytes, scrypt, scryptSync } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSm2KeyPair, sm2PublicKeyOf } from '@sceneway/cloud-sync/crypto/sm2';
import { sm4CbcDecrypt, sm4CbcEncrypt } from '@sceneway/cloud-sync/crypto/sm4';
import { GatewayError } from '../gateway-error.ts';

/**
 * The box's secrets: its SM2 signing key and the SM4 data key that seals personal data in the ledger.
 * Generated on the box and never sent anywhere (DESIGN invariant 7; bank standard 004 §5.1.4 c: the
 * holder generates its key pair and the private key is not kept by the platform). Stored in one file,
 * mode 0600, SM4-CBC-encrypted under a key derived with scrypt from the box passphrase, so a copied disk
 * image alone does not give the key away.
 */
export interface BoxSecrets {
  privateKeyHex: string;
  publicKeyHex: string;
  /** 16-byte SM4 key for personal data at rest in the ledger. */
  dataKey: Buffer;
}

const KEY_FILE = 'box-key.json';
const PUBLIC_FILE = 'box-public-key.hex';
const KDF = { N: 32768, r: 8, p: 1 } as const;

interface SealedKeyFile {
  format: 'sceneway.box-key.v1';
  publicKeyHex: string;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; saltHex: string };
  cipher: 'SM4-CBC';
  ivHex: string;
  ciphertextHex: string;
}

type KdfParams = { N: number; r: number; p: number };
const scryptOptions = (params: KdfParams) => ({
  N: params.N,
  r: params.r,
  p: params.p,
  maxmem: 256 * 1024 * 1024,
});

function deriveKek(passphrase: string, salt: Buffer, params: KdfParams): Buffer {
  return scryptSync(passphrase, salt, 16, scryptOptions(params));
}

/** The same derivation on libuv's thread pool, so the caller's thread can do other work meanwhile. */
function deriveKekOffThread(passphrase: string, salt: Buffer, params: KdfParams): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(passphrase, salt, 16, scryptOptions(params), (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export function boxKeyPaths(dir: string) {
  return { keyFile: join(dir, KEY_FILE), publicKeyFile: join(dir, PUBLIC_FILE) };
}

export function initBoxKeys(options: { dir: string; passphrase: string; force?: boolean }): {
  publicKeyHex: string;
  keyFile: string;
} {
  if (options.passphrase.length < 8) {
    throw new GatewayError('KEYS_PASSPHRASE_WEAK', 'the key passphrase must have at least 8 characters');
  }
  const { keyFile, publicKeyFile } = boxKeyPaths(options.dir);
  if (existsSync(keyFile) && !options.force) {
    throw new GatewayError(
      'KEYS_EXIST',
      `a box key already exists at ${keyFile}`,
      'The bank has enrolled that key. Keep it; only pass --force when the box is being re-enrolled.',
    );
  }
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const pair = generateSm2KeyPair();
  const dataKey = randomBytes(16);
  const salt = randomBytes(16);
  const kek = deriveKek(options.passphrase, salt, KDF);
  const secret = Buffer.from(
    JSON.stringify({ privateKeyHex: pair.privateKeyHex, dataKeyHex: dataKey.toString('hex') }),
  );
  const { iv, ciphertext } = sm4CbcEncrypt(kek, secret);
  const sealed: SealedKeyFile = {
    format: 'sceneway.box-key.v1',
    publicKeyHex: pair.publicKeyHex,
    kdf: { name: 'scrypt', ...KDF, saltHex: salt.toString('hex') },
    cipher: 'SM4-CBC',
    ivHex: Buffer.from(iv).toString('hex'),
    ciphertextHex: Buffer.from(ciphertext).toString('hex'),
  };
  writeFileSync(keyFile, `${JSON.stringify(sealed, null, 2)}\n`, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  writeFileSync(publicKeyFile, `${pair.publicKeyHex}\n`, { mode: 0o644 });
  return { publicKeyHex: pair.publicKeyHex, keyFile };
}

export function loadBoxKeys(options: { dir: string; passphrase: string }): BoxSecrets {
  const { sealed } = readSealedKey(options.dir);
  return openSealedKey(
    sealed,
    deriveKek(options.passphrase, Buffer.from(sealed.kdf.saltHex, 'hex'), sealed.kdf),
  );
}

/**
 * `loadBoxKeys` with the passphrase stretched on the thread pool: `sceneway start` loads the agent's
 * code while scrypt runs (≈110 ms of the cold start, docs/decisions.md D21). Same file, same KDF
 * parameters, same checks.
 */
export async function unsealBoxKeys(options: { dir: string; passphrase: string }): Promise<BoxSecrets> {
  const { sealed } = readSealedKey(options.dir);
  const kek = await deriveKekOffThread(
    options.passphrase,
    Buffer.from(sealed.kdf.saltHex, 'hex'),
    sealed.kdf,
  );
  return openSealedKey(sealed, kek);
}

function readSealedKey(dir: string): { sealed: SealedKeyFile } {
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
    return { sealed };
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

function openSealedKey(sealed: SealedKeyFile, kek: Buffer): BoxSecrets {
  let secret: { privateKeyHex: string; dataKeyHex: string };
  try {
    const plain = sm4CbcDecrypt(
      kek,
      Buffer.from(sealed.ivHex, 'hex'),
      Buffer.from(sealed.ciphertextHex, 'hex'),
    );
    secret = JSON.parse(Buffer.from(plain).toString('utf8')) as typeof secret;
  } catch (cause) {
    throw new GatewayError(
      'KEYS_PASSPHRASE',
      'the key passphrase does not open the box key',
      'Check SCENEWAY_KEY_PASSPHRASE or the passphrase file.',
      {
        cause,
      },
    );
  }
  // A passphrase that happens to decrypt to valid padding must still produce the enrolled key pair.
  // (Deriving the public key is enough, and unlike a sign/verify probe it builds no per-key table.)
  let derived: string;
  try {
    derived = sm2PublicKeyOf(secret.privateKeyHex);
  } catch {
    derived = '';
  }
  if (derived !== sealed.publicKeyHex.toLowerCase()) {
    throw new GatewayError(
      'KEYS_PASSPHRASE',
      'the key passphrase does not open the box key',
      'Check the passphrase.',
    );
  }
  return {
    privateKeyHex: secret.privateKeyHex,
    publicKeyHex: sealed.publicKeyHex,
    dataKey: Buffer.from(secret.dataKeyHex, 'hex'),
  };
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
