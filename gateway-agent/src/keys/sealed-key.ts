import { createHmac, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GatewayError } from '../gateway-error.ts';

/**
 * The sealed box key file and the stretching of its passphrase, with no curve code: `sceneway start`
 * reads the file and starts scrypt before the SM2 library and the agent are even loaded, and loads
 * them while scrypt runs on the thread pool (docs/decisions.md D21). box-keys.ts opens what this
 * stretches. (No zod here either: this module is on the path before scrypt starts.)
 *
 * v2 is SM4-CBC then HMAC-SM3 over every field (encrypt-then-MAC; Node's OpenSSL offers no SM4-GCM),
 * so a changed byte is refused before any decrypted byte is used. v1 (SM4-CBC, no MAC) is still read,
 * once, and rewritten as v2 (box-keys.ts openBoxKey).
 */
export const SEALED_KEY_V1 = 'sceneway.box-key.v1';
export const SEALED_KEY_V2 = 'sceneway.box-key.v2';

export interface SealedKeyFile {
  format: typeof SEALED_KEY_V1 | typeof SEALED_KEY_V2;
  publicKeyHex: string;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; saltHex: string };
  cipher: 'SM4-CBC';
  ivHex: string;
  ciphertextHex: string;
  /** v2: HMAC-SM3 under the passphrase's MAC key over a fixed string: the passphrase is right. */
  checkHex?: string;
  /** v2: HMAC-SM3 under the passphrase's MAC key over every other field. */
  macHex?: string;
}

/** A sealed key file, where it was read from, and the keys its passphrase stretches to. */
export interface StretchedKey {
  sealed: SealedKeyFile;
  keyFile: string;
  /** scrypt output: bytes 0-15 the SM4 key (all that v1 used), bytes 16-47 the HMAC-SM3 key. */
  kek: Buffer;
}

export type KdfParams = { N: number; r: number; p: number };
export const KDF: KdfParams = { N: 32768, r: 8, p: 1 };

/**
 * What a key file may ask scrypt for. The parameters are read from a file anyone with disk access can
 * edit: unchecked, N=2^30 makes the box allocate 128 GiB (or fail after minutes). 128·N·r bytes of
 * memory: the bounds allow up to 128 MiB, 4× the default's 32 MiB, and never below the default's cost.
 */
export const KDF_BOUNDS = {
  minLog2N: 15,
  maxLog2N: 17,
  minR: 8,
  maxR: 16,
  minP: 1,
  maxP: 4,
  maxMemBytes: 128 * 2 ** 20,
};

/** 16 bytes of SM4 key, 32 of HMAC-SM3 key; scrypt's first 16 output bytes do not depend on dkLen. */
const STRETCHED_BYTES = 48;

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
  return scryptSync(passphrase, salt, STRETCHED_BYTES, scryptOptions(params));
}

const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const isHexOf = (value: unknown, bytes?: number): value is string =>
  typeof value === 'string' && HEX.test(value) && (bytes === undefined || value.length === bytes * 2);

/** Null when the parameters are within KDF_BOUNDS, else what is wrong. */
export function kdfOutOfBounds(kdf: { N: unknown; r: unknown; p: unknown }): string | null {
  const { N, r, p } = kdf;
  const b = KDF_BOUNDS;
  if (
    typeof N !== 'number' ||
    !Number.isInteger(N) ||
    N < 2 ** b.minLog2N ||
    N > 2 ** b.maxLog2N ||
    (N & (N - 1)) !== 0
  ) {
    return `N=${String(N)} is not a power of two from 2^${b.minLog2N} to 2^${b.maxLog2N}`;
  }
  if (typeof r !== 'number' || !Number.isInteger(r) || r < b.minR || r > b.maxR)
    return `r=${String(r)} is not ${b.minR}-${b.maxR}`;
  if (typeof p !== 'number' || !Number.isInteger(p) || p < b.minP || p > b.maxP)
    return `p=${String(p)} is not ${b.minP}-${b.maxP}`;
  if (128 * N * r > b.maxMemBytes)
    return `N=${N}, r=${r} needs ${(128 * N * r) / 2 ** 20} MiB, over ${b.maxMemBytes / 2 ** 20}`;
  return null;
}

/** Shape and bounds, field by field, before any scrypt: a hostile file costs a JSON parse and no more. */
function checkShape(value: unknown): string | null {
  if (typeof value !== 'object' || value === null) return 'not a JSON object';
  const f = value as Record<string, unknown>;
  if (f.format !== SEALED_KEY_V1 && f.format !== SEALED_KEY_V2) return `unknown format ${String(f.format)}`;
  if (!isHexOf(f.publicKeyHex, 65)) return 'publicKeyHex is not an uncompressed SM2 point';
  const kdf = f.kdf as Record<string, unknown> | undefined;
  if (typeof kdf !== 'object' || kdf === null || kdf.name !== 'scrypt') return 'kdf is not scrypt';
  if (!isHexOf(kdf.saltHex, 16)) return 'kdf.saltHex is not 16 bytes of hex';
  if (f.cipher !== 'SM4-CBC') return `unknown cipher ${String(f.cipher)}`;
  if (!isHexOf(f.ivHex, 16)) return 'ivHex is not 16 bytes of hex';
  if (!isHexOf(f.ciphertextHex) || f.ciphertextHex.length > 4096 || f.ciphertextHex.length % 32 !== 0) {
    return 'ciphertextHex is not whole SM4 blocks of hex under 2 KiB';
  }
  if (f.format === SEALED_KEY_V2 && !(isHexOf(f.macHex, 32) && isHexOf(f.checkHex, 32))) {
    return 'macHex / checkHex are not 32 bytes of hex';
  }
  return null;
}

export function readSealedKey(dir: string): { sealed: SealedKeyFile; keyFile: string } {
  const { keyFile } = boxKeyPaths(dir);
  if (!existsSync(keyFile)) {
    throw new GatewayError(
      'KEYS_MISSING',
      `no box key at ${keyFile}`,
      'Run `sceneway keys init` on this box first.',
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(keyFile, 'utf8'));
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
  const wrong = checkShape(parsed);
  if (wrong) {
    throw new GatewayError(
      'KEYS_CORRUPT',
      `the box key file ${keyFile} is damaged: ${wrong}`,
      'Restore it from the box backup.',
    );
  }
  const sealed = parsed as SealedKeyFile;
  const outOfBounds = kdfOutOfBounds(sealed.kdf);
  if (outOfBounds) {
    throw new GatewayError(
      'KEYS_KDF_BOUNDS',
      `the box key file ${keyFile} asks for scrypt parameters outside the allowed bounds: ${outOfBounds}`,
      'The file was altered or written by another tool: restore it from the box backup.',
    );
  }
  return { sealed, keyFile };
}

/** The bytes the v2 MAC covers: every field but the MAC, in a fixed order, so no field can change alone. */
function macInput(sealed: SealedKeyFile): string {
  const { format, publicKeyHex, kdf, cipher, ivHex, ciphertextHex, checkHex } = sealed;
  return JSON.stringify([
    format,
    publicKeyHex.toLowerCase(),
    kdf.N,
    kdf.r,
    kdf.p,
    kdf.saltHex.toLowerCase(),
    cipher,
    ivHex.toLowerCase(),
    ciphertextHex.toLowerCase(),
    (checkHex ?? '').toLowerCase(),
  ]);
}

const hmacSm3 = (key: Buffer, text: string) => createHmac('sm3', key).update(text).digest();
const PASSPHRASE_CHECK = 'sceneway.box-key.passphrase-check';

/** The v2 authentication fields for a file sealed under `kek`. */
export function authenticate(sealed: Omit<SealedKeyFile, 'checkHex' | 'macHex'>, kek: Buffer): SealedKeyFile {
  const macKey = kek.subarray(16, 48);
  const withCheck: SealedKeyFile = { ...sealed, checkHex: hmacSm3(macKey, PASSPHRASE_CHECK).toString('hex') };
  return { ...withCheck, macHex: hmacSm3(macKey, macInput(withCheck)).toString('hex') };
}

/**
 * 'ok', 'wrong-passphrase' (the passphrase check fails: nothing else can be said) or 'tampered' (the
 * passphrase is right but a field changed). Constant-time compares; nothing is decrypted first.
 */
export function verifySealedKey(sealed: SealedKeyFile, kek: Buffer): 'ok' | 'wrong-passphrase' | 'tampered' {
  const macKey = kek.subarray(16, 48);
  const same = (hex: string | undefined, expected: Buffer) => {
    const got = Buffer.from(hex ?? '', 'hex');
    return got.length === expected.length && timingSafeEqual(got, expected);
  };
  if (!same(sealed.checkHex, hmacSm3(macKey, PASSPHRASE_CHECK))) return 'wrong-passphrase';
  return same(sealed.macHex, hmacSm3(macKey, macInput(sealed))) ? 'ok' : 'tampered';
}

/** Stretches the file's passphrase synchronously (the `sceneway keys` commands). */
export function stretchBoxKeySync(options: { dir: string; passphrase: string }): StretchedKey {
  const { sealed, keyFile } = readSealedKey(options.dir);
  return {
    sealed,
    keyFile,
    kek: deriveKek(options.passphrase, Buffer.from(sealed.kdf.saltHex, 'hex'), sealed.kdf),
  };
}

/**
 * The same scrypt with the same stored parameters, on libuv's thread pool, so the calling thread can
 * load code meanwhile. A missing, unreadable or out-of-bounds file still throws at once, before any
 * waiting.
 */
export function stretchBoxKey(options: { dir: string; passphrase: string }): Promise<StretchedKey> {
  const { sealed, keyFile } = readSealedKey(options.dir);
  return new Promise((resolve, reject) =>
    scrypt(
      options.passphrase,
      Buffer.from(sealed.kdf.saltHex, 'hex'),
      STRETCHED_BYTES,
      scryptOptions(sealed.kdf),
      (err, kek) => (err ? reject(err) : resolve({ sealed, keyFile, kek })),
    ),
  );
}
