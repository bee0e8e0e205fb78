import { createECDH, createHash, getCurves } from 'node:crypto';
import { sm2 as lib } from 'sm-crypto-v2';
import { SyncError } from '../sync-error.ts';
import {
  bigintToHex32,
  DerError,
  derBigInt,
  derSequence,
  expectTag,
  integerValue,
  readChildren,
  readOnly,
  TAG,
  tlv,
} from './der.ts';
import { sm3 } from './sm3.ts';

/**
 * SM2 (GB/T 32918 / GM/T 0003) signatures and public-key encryption on the recommended curve
 * sm2p256v1. The curve arithmetic is sm-crypto-v2 (Node's OpenSSL has SM2 but Node 20 exposes no
 * usable sign/verify for it, see docs/decisions.md, D-crypto); everything around it is ours:
 *  - the message digest e = SM3(Z_A ‖ M) uses Node's SM3, so big batches hash at OpenSSL speed;
 *  - signatures and ciphertexts use the GM/T 0009 DER forms that OpenSSL reads and writes
 *    (SM2Signature = SEQUENCE{r,s}; SM2Cipher = SEQUENCE{x,y,hash C3,ciphertext C2}, i.e. C1C3C2);
 *  - DER is parsed strictly by ./der.ts, and r, s are range-checked (GB/T 32918.2 §7.1 B1, B2),
 *    so a malformed or malleable signature is refused instead of reaching the curve code.
 */

/** GM/T 0009-2012 §10 default distinguishing identifier, used unless a deployment configures another. */
export const SM2_DEFAULT_USER_ID = '1234567812345678';

/** Order n of the sm2p256v1 base point (GB/T 32918.5). */
export const SM2_N = 0xfffffffeffffffffffffffffffffffff7203df6b21c6052b53bbf40939d54123n;

export interface Sm2KeyPair {
  privateKeyHex: string;
  /** Uncompressed point: 04 ‖ x ‖ y, 130 hex digits. */
  publicKeyHex: string;
}

export interface Sm2Options {
  /** Signer's distinguishing identifier hashed into Z_A; defaults to SM2_DEFAULT_USER_ID. */
  userId?: string;
}

const PRIVATE_HEX = /^[0-9a-fA-F]{64}$/;
const PUBLIC_HEX = /^04[0-9a-fA-F]{128}$/;

/** 004 §5.1.4 c): the holder generates its own key pair; this runs on the box, never elsewhere. */
export function generateSm2KeyPair(): Sm2KeyPair {
  const k = lib.generateKeyPairHex();
  return { privateKeyHex: k.privateKey, publicKeyHex: k.publicKey };
}

export function assertSm2PrivateKey(privateKeyHex: string): void {
  if (!PRIVATE_HEX.test(privateKeyHex)) {
    throw new SyncError('CRYPTO_SM2_KEY', 'SM2 private key must be 64 hex digits');
  }
  const d = BigInt(`0x${privateKeyHex}`);
  // d = n-1 has no inverse of (1+d) mod n, so GB/T 32918.1 §6.1 restricts d to [1, n-2].
  if (d < 1n || d > SM2_N - 2n)
    throw new SyncError('CRYPTO_SM2_KEY', 'SM2 private key is out of range [1, n-2]');
}

export function isSm2PublicKey(publicKeyHex: string): boolean {
  if (!PUBLIC_HEX.test(publicKeyHex)) return false;
  try {
    return lib.verifyPublicKey(publicKeyHex.toLowerCase());
  } catch {
    return false;
  }
}

export function assertSm2PublicKey(publicKeyHex: string): void {
  if (!isSm2PublicKey(publicKeyHex)) {
    throw new SyncError(
      'CRYPTO_SM2_KEY',
      'SM2 public key must be an uncompressed curve point 04‖x‖y (130 hex digits)',
    );
  }
}

/** Public key of a private key. A scalar multiplication, so the last answer is remembered. */
let lastDerived: { privDigest: string; publicKeyHex: string } | null = null;
export function sm2PublicKeyOf(privateKeyHex: string): string {
  assertSm2PrivateKey(privateKeyHex);
  // Remember the answer under a digest, not under the private key itself (invariant 7).
  const privDigest = sm3(Buffer.from(privateKeyHex.toLowerCase(), 'hex')).toString('hex');
  if (lastDerived?.privDigest === privDigest) return lastDerived.publicKeyHex;
  const publicKeyHex = OPENSSL_HAS_SM2
    ? opensslPublicKeyOf(privateKeyHex)
    : lib.getPublicKeyFromPrivateKey(privateKeyHex.toLowerCase());
  lastDerived = { privDigest, publicKeyHex };
  return publicKeyHex;
}

/**
 * [d]G through OpenSSL's constant-time scalar multiplication: ≈1 ms, where the library's first [d]G
 * builds its 4,224-point base table (≈90 ms, ≈150 ms on a busy box). `sceneway start` derives the box's
 * public key to check its passphrase before it serves anything (D21); the table is still built, by
 * the first signature or by warmUpSm2. OpenSSL only does the arithmetic here: Node 20 exposes no SM2
 * sign/verify (see the note at the top of this file).
 */
const OPENSSL_HAS_SM2 = getCurves().includes('SM2');
function opensslPublicKeyOf(privateKeyHex: string): string {
  const ecdh = createECDH('SM2');
  ecdh.setPrivateKey(Buffer.from(privateKeyHex, 'hex'));
  return ecdh.getPublicKey('hex', 'uncompressed');
}

const zCache = new Map<string, Buffer>();
/** Z_A = SM3(ENTL ‖ ID ‖ a ‖ b ‖ xG ‖ yG ‖ xA ‖ yA) (GB/T 32918.2 §5.5); per key, so cached. */
export function sm2Z(publicKeyHex: string, userId: string = SM2_DEFAULT_USER_ID): Buffer {
  const cacheKey = `${publicKeyHex.toLowerCase()}|${userId}`;
  let z = zCache.get(cacheKey);
  if (!z) {
    z = Buffer.from(lib.getZ(publicKeyHex.toLowerCase(), userId));
    if (zCache.size > 256) zCache.clear();
    zCache.set(cacheKey, z);
  }
  return z;
}

/** e = SM3(Z_A ‖ M): the value SM2 actually signs (GB/T 32918.2 §6.1 A1-A2). */
export function sm2MessageDigest(message: Uint8Array, publicKeyHex: string, userId?: string): Buffer {
  // Two updates instead of concatenating: a batch can be hundreds of KiB.
  return createHash('sm3').update(sm2Z(publicKeyHex, userId)).update(message).digest();
}

export function encodeSm2Signature(r: bigint, s: bigint): Buffer {
  return derSequence(derBigInt(r), derBigInt(s));
}

/** Strict DER SM2Signature → (r, s) with 1 ≤ r, s ≤ n-1; throws DerError otherwise. */
export function decodeSm2Signature(der: Uint8Array): { r: bigint; s: bigint } {
  const [rNode, sNode, extra] = readChildren(readOnly(der, TAG.sequence).value);
  if (extra) throw new DerError('SM2Signature has more than two INTEGERs');
  const r = integerValue(rNode);
  const s = integerValue(sNode);
  if (r < 1n || r >= SM2_N || s < 1n || s >= SM2_N) throw new DerError('r or s is out of range [1, n-1]');
  return { r, s };
}

/** DER SM2Signature over SM3(Z_A ‖ message) (5.1.4 b, 5.3.1 f). */
export function sm2Sign(
  message: Uint8Array,
  privateKeyHex: string,
  opts: Sm2Options & { publicKeyHex?: string } = {},
): Buffer {
  assertSm2PrivateKey(privateKeyHex);
  const publicKeyHex = opts.publicKeyHex ?? sm2PublicKeyOf(privateKeyHex);
  const e = sm2MessageDigest(message, publicKeyHex, opts.userId);
  const rs = lib.doSignature(e, privateKeyHex.toLowerCase(), { hash: false, der: false });
  return encodeSm2Signature(BigInt(`0x${rs.slice(0, 64)}`), BigInt(`0x${rs.slice(64)}`));
}

type PublicPoint = ReturnType<typeof lib.precomputePublicKey>;
const pointCache = new Map<string, PublicPoint>();
/**
 * The bank verifies many batches from few boxes, and a box encrypts every batch key to one bank
 * key: a precomputed multiplication table per public key pays off (bench/crypto.bench.ts).
 */
function publicPoint(publicKeyHex: string): PublicPoint {
  const key = publicKeyHex.toLowerCase();
  let p = pointCache.get(key);
  if (!p) {
    p = lib.precomputePublicKey(key);
    if (pointCache.size > 1024) pointCache.clear();
    pointCache.set(key, p);
  }
  return p;
}

/** True only for a valid signature; any malformed input (signature, key) is simply false. */
export function sm2Verify(
  message: Uint8Array,
  signatureDer: Uint8Array,
  publicKeyHex: string,
  opts: Sm2Options = {},
): boolean {
  try {
    if (!isSm2PublicKey(publicKeyHex)) return false;
    const { r, s } = decodeSm2Signature(signatureDer);
    const e = sm2MessageDigest(message, publicKeyHex, opts.userId);
    return lib.doVerifySignature(e, bigintToHex32(r) + bigintToHex32(s), publicPoint(publicKeyHex), {
      hash: false,
      der: false,
    });
  } catch {
    return false;
  }
}

/**
 * SM2 public-key encryption, C1C3C2 order, in the GM/T 0009 SM2Cipher DER form
 * SEQUENCE { x INTEGER, y INTEGER, hash OCTET STRING (C3), ciphertext OCTET STRING (C2) },
 * which is what `openssl pkeyutl -encrypt` with an SM2 key produces and expects.
 */
export function sm2Encrypt(plaintext: Uint8Array, publicKeyHex: string): Buffer {
  assertSm2PublicKey(publicKeyHex);
  if (plaintext.length === 0)
    throw new SyncError('CRYPTO_SM2_ENCRYPT', 'SM2 cannot encrypt an empty message');
  // Raw C1C3C2 from the library: x(64 hex) ‖ y(64 hex) ‖ C3(64 hex) ‖ C2, without the 04 prefix.
  // The recipient is almost always the one pinned bank key: its precomputed table makes [k]P cheap.
  const raw = lib.doEncrypt(Uint8Array.from(plaintext), publicPoint(publicKeyHex), 1);
  return derSequence(
    derBigInt(BigInt(`0x${raw.slice(0, 64)}`)),
    derBigInt(BigInt(`0x${raw.slice(64, 128)}`)),
    tlv(TAG.octetString, Buffer.from(raw.slice(128, 192), 'hex')),
    tlv(TAG.octetString, Buffer.from(raw.slice(192), 'hex')),
  );
}

/** Throws SyncError 'CRYPTO_SM2_DECRYPT' for malformed input, a wrong key or a failed C3 check. */
export function sm2Decrypt(ciphertext: Uint8Array, privateKeyHex: string): Buffer {
  assertSm2PrivateKey(privateKeyHex);
  let raw: string;
  try {
    const [x, y, hash, body, extra] = readChildren(readOnly(ciphertext, TAG.sequence).value);
    if (extra) throw new DerError('SM2Cipher has more than four fields');
    const c3 = expectTag(hash, TAG.octetString, 'OCTET STRING hash').value;
    const c2 = expectTag(body, TAG.octetString, 'OCTET STRING ciphertext').value;
    if (c3.length !== 32) throw new DerError('SM2Cipher hash must be 32 bytes (SM3)');
    if (c2.length === 0) throw new DerError('SM2Cipher ciphertext is empty');
    raw =
      bigintToHex32(integerValue(x)) +
      bigintToHex32(integerValue(y)) +
      c3.toString('hex') +
      c2.toString('hex');
    if (raw.length !== 192 + c2.length * 2) throw new DerError('SM2Cipher coordinate longer than 32 bytes');
  } catch (cause) {
    throw new SyncError('CRYPTO_SM2_DECRYPT', 'SM2 ciphertext is not a GM/T 0009 SM2Cipher', undefined, {
      cause,
    });
  }
  let out: Uint8Array | unknown[];
  try {
    out = lib.doDecrypt(raw, privateKeyHex.toLowerCase(), 1, { output: 'array' });
  } catch (cause) {
    throw new SyncError('CRYPTO_SM2_DECRYPT', 'SM2 ciphertext point is not on the curve', undefined, {
      cause,
    });
  }
  // The library signals a failed C3 = SM3(x2 ‖ M ‖ y2) check by returning an empty plain array.
  if (!(out instanceof Uint8Array)) {
    throw new SyncError(
      'CRYPTO_SM2_DECRYPT',
      'SM2 decryption failed: wrong private key or corrupted ciphertext',
    );
  }
  return Buffer.from(out);
}

/**
 * Builds the precomputed multiplication table for `publicKeyHex` now (≈75 ms once per key), and warms
 * signing with `privateKeyHex`, so that the first ack a box verifies does not stall the event loop that
 * serves its terminals: the agent calls this before it starts its drivers.
 */
export function warmUpSm2(options: { verifyKeyHex: string; signKeyHex?: string; userId?: string }): void {
  const message = Buffer.from('sceneway warm-up');
  const throwaway = generateSm2KeyPair();
  const opts = options.userId ? { userId: options.userId } : {};
  sm2Verify(message, sm2Sign(message, throwaway.privateKeyHex, opts), options.verifyKeyHex, opts);
  if (options.signKeyHex) sm2Sign(message, options.signKeyHex, opts);
}
