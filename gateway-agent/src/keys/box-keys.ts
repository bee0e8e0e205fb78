import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { generateSm2KeyPair, sm2PublicKeyOf, sm4CbcDecrypt, sm4CbcEncrypt } from '@sceneway/cloud-sync';
import { GatewayError } from '../gateway-error.ts';
import { resolvePassphrase } from './passphrase.ts';
import {
  authenticate,
  boxKeyPaths,
  deriveKek,
  KDF,
  SEALED_KEY_V1,
  SEALED_KEY_V2,
  type SealedKeyFile,
  type StretchedKey,
  stretchBoxKeySync,
  verifySealedKey,
} from './sealed-key.ts';

export { boxKeyPaths, resolvePassphrase };

/**
 * The box's secrets: its SM2 signing key and the SM4 data key that seals personal data in the ledger.
 * Generated on the box and never sent anywhere (DESIGN invariant 7; bank standard 004 §5.1.4 c: the
 * holder generates its key pair and the private key is not kept by the platform). Stored in one file,
 * mode 0600, SM4-CBC-encrypted then HMAC-SM3-authenticated under keys derived with scrypt from the box
 * passphrase, so a copied disk image alone does not give the key away and an edited one is refused.
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
  const salt = randomBytes(16);
  const kek = deriveKek(options.passphrase, salt, KDF);
  const kdf = { name: 'scrypt' as const, ...KDF, saltHex: salt.toString('hex') };
  writeSealedKey(
    keyFile,
    sealSecrets(
      { privateKeyHex: pair.privateKeyHex, publicKeyHex: pair.publicKeyHex, dataKey: randomBytes(16) },
      kek,
      kdf,
    ),
  );
  writeFileSync(publicKeyFile, `${pair.publicKeyHex}\n`, { mode: 0o644 });
  return { publicKeyHex: pair.publicKeyHex, keyFile };
}

/** v2: encrypt, then MAC every field (the MAC key is bytes 16-47 of the stretched passphrase). */
function sealSecrets(secrets: BoxSecrets, kek: Buffer, kdf: SealedKeyFile['kdf']): SealedKeyFile {
  const secret = Buffer.from(
    JSON.stringify({ privateKeyHex: secrets.privateKeyHex, dataKeyHex: secrets.dataKey.toString('hex') }),
  );
  const { iv, ciphertext } = sm4CbcEncrypt(kek.subarray(0, 16), secret);
  secret.fill(0);
  return authenticate(
    {
      format: SEALED_KEY_V2,
      publicKeyHex: secrets.publicKeyHex,
      kdf,
      cipher: 'SM4-CBC',
      ivHex: Buffer.from(iv).toString('hex'),
      ciphertextHex: Buffer.from(ciphertext).toString('hex'),
    },
    kek,
  );
}

/** Written beside the old file and renamed over it: a crash mid-write never leaves half a key. */
function writeSealedKey(keyFile: string, sealed: SealedKeyFile): void {
  const temporary = `${keyFile}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(sealed, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, keyFile);
}

export function loadBoxKeys(options: { dir: string; passphrase: string }): BoxSecrets {
  return openBoxKey(stretchBoxKeySync(options));
}

const wrongPassphrase = (cause?: unknown) =>
  new GatewayError(
    'KEYS_PASSPHRASE',
    'the key passphrase does not open the box key',
    'Check SCENEWAY_KEY_PASSPHRASE or the passphrase file.',
    cause === undefined ? undefined : { cause },
  );

/**
 * Opens the sealed key with the stretched passphrase. v2: the MAC is checked before anything is
 * decrypted, so a changed byte is KEYS_TAMPERED and never reaches the SM4 padding check (no padding
 * oracle) or JSON.parse. v1 (no MAC): decrypted as before, proved by deriving the enrolled public key,
 * then rewritten as v2 under the same scrypt output — the migration costs no second stretch.
 */
export function openBoxKey({ sealed, keyFile, kek }: StretchedKey): BoxSecrets {
  if (sealed.format === SEALED_KEY_V2) {
    const verdict = verifySealedKey(sealed, kek);
    if (verdict === 'wrong-passphrase') throw wrongPassphrase();
    if (verdict === 'tampered') {
      throw new GatewayError(
        'KEYS_TAMPERED',
        `the box key file ${keyFile} was altered: its MAC does not match`,
        'Do not use this box key: restore the file from the box backup and find out who changed it.',
      );
    }
  }
  const secrets = decryptSecrets(sealed, kek);
  if (sealed.format === SEALED_KEY_V1) writeSealedKey(keyFile, sealSecrets(secrets, kek, sealed.kdf));
  return secrets;
}

function decryptSecrets(sealed: SealedKeyFile, kek: Buffer): BoxSecrets {
  let secret: { privateKeyHex: string; dataKeyHex: string };
  try {
    const plain = sm4CbcDecrypt(
      kek.subarray(0, 16),
      Buffer.from(sealed.ivHex, 'hex'),
      Buffer.from(sealed.ciphertextHex, 'hex'),
    );
    secret = JSON.parse(Buffer.from(plain).toString('utf8')) as typeof secret;
    plain.fill(0);
  } catch (cause) {
    throw wrongPassphrase(cause);
  }
  // A v1 passphrase that happens to decrypt to valid padding must still produce the enrolled key pair.
  // (Deriving the public key is enough, and unlike a sign/verify probe it builds no per-key table.)
  let derived: string;
  try {
    derived = sm2PublicKeyOf(secret.privateKeyHex);
  } catch {
    derived = '';
  }
  if (derived !== sealed.publicKeyHex.toLowerCase()) throw wrongPassphrase();
  return {
    privateKeyHex: secret.privateKeyHex,
    publicKeyHex: sealed.publicKeyHex,
    dataKey: Buffer.from(secret.dataKeyHex, 'hex'),
  };
}
