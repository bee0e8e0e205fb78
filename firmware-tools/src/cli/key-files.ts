import { statSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  generateSm2KeyPair,
  sm2PrivateKeyFromPem,
  sm2PrivateKeyToPem,
  sm2PublicKeyOf,
  sm2PublicKeyToPem,
} from '@sceneway/cloud-sync';
import { vendorKeyIdOf, vendorPublicKeyHex } from '../vendor-key.ts';
import { UsageError } from './usage-error.ts';

/** File names `keygen` writes; the private key is the vendor's signing key and never goes to a box. */
export const VENDOR_KEY_FILES = {
  privatePem: 'vendor-key.pem',
  publicPem: 'vendor.pub.pem',
  publicHex: 'vendor.pub.hex',
} as const;

export interface WrittenVendorKeys {
  privatePath: string;
  publicPemPath: string;
  publicHexPath: string;
  publicKeyHex: string;
  privateKeyHex: string;
  keyId: string;
}

/** 004 §5.1.4 c): the holder generates its own pair. `wx`: an existing key is never overwritten. */
export async function writeVendorKeys(dir: string): Promise<WrittenVendorKeys> {
  await mkdir(dir, { recursive: true });
  const keys = generateSm2KeyPair();
  const privatePath = join(dir, VENDOR_KEY_FILES.privatePem);
  try {
    await writeFile(privatePath, sm2PrivateKeyToPem(keys.privateKeyHex, keys.publicKeyHex), {
      mode: 0o600,
      flag: 'wx',
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      throw new UsageError(`${privatePath} exists: a vendor key is never overwritten (choose another --out)`);
    throw err;
  }
  const publicPemPath = join(dir, VENDOR_KEY_FILES.publicPem);
  const publicHexPath = join(dir, VENDOR_KEY_FILES.publicHex);
  await writeFile(publicPemPath, sm2PublicKeyToPem(keys.publicKeyHex));
  await writeFile(publicHexPath, `${keys.publicKeyHex}\n`);
  return { privatePath, publicPemPath, publicHexPath, ...keys, keyId: vendorKeyIdOf(keys.publicKeyHex) };
}

/** PEM (PKCS#8 or SEC1) or 64 hex digits, from a file nobody else may read. */
export async function loadVendorPrivateKey(path: string): Promise<string> {
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077)
    throw new UsageError(
      `${path} is readable by others (mode ${mode.toString(8)}): a signing key must be private (chmod 600)`,
    );
  const text = (await readFile(path, 'utf8')).trim();
  try {
    if (/^[0-9a-fA-F]{64}$/.test(text)) {
      sm2PublicKeyOf(text.toLowerCase());
      return text.toLowerCase();
    }
    return sm2PrivateKeyFromPem(text).privateKeyHex;
  } catch {
    // The cause is not printed: it could quote the key file.
    throw new UsageError(
      `${path} is not an SM2 private key (PEM from \`sceneway-fw keygen\`, or 64 hex digits)`,
    );
  }
}

/** A vendor public key file: PEM or 04‖x‖y hex. */
export async function loadVendorPublicKey(path: string): Promise<string> {
  const text = await readFile(path, 'utf8');
  try {
    return vendorPublicKeyHex(text);
  } catch {
    throw new UsageError(`${path} is not an SM2 public key (vendor.pub.pem or vendor.pub.hex from keygen)`);
  }
}
