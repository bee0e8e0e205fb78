import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { generateSm2KeyPair, sm2PublicKeyOf, sm4CbcDecrypt, sm4CbcEncrypt } from '@sceneway/cloud-sync';
import { GatewayError } from '../gateway-error.ts';
import {
  boxKeyPaths,
  deriveKek,
  KDF,
  type SealedKeyFile,
  type StretchedKey,
  stretchBoxKeySync,
} from './sealed-key.ts';

export { boxKeyPaths, resolvePassphrase } from './sealed-key.ts';

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
  return openBoxKey(stretchBoxKeySync(options));
}

/**
 * Decrypts the sealed key with the stretched passphrase, and proves the passphrase right by deriving
 * the enrolled public key from what it decrypted.
 */
export function openBoxKey({ sealed, kek }: StretchedKey): BoxSecrets {
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
