import { SyncError } from '../sync-error.ts';
import {
  DerError,
  derOid,
  derSequence,
  derUnsignedInteger,
  expectTag,
  integerValue,
  readChildren,
  readOnly,
  TAG,
  tlv,
} from './der.ts';
import { assertSm2PrivateKey, assertSm2PublicKey, type Sm2KeyPair, sm2PublicKeyOf } from './sm2.ts';

/**
 * SM2 keys as PEM files that OpenSSL, GmSSL and BouncyCastle read: SubjectPublicKeyInfo for public
 * keys and PKCS#8 (wrapping SEC1 ECPrivateKey) for private keys, with algorithm id-ecPublicKey and
 * the named curve sm2p256v1 (GM/T 0006: 1.2.156.10197.1.301) — byte for byte what
 * `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:SM2` writes.
 *
 * Written by hand because Node 20 loads such keys but cannot tell us their coordinates
 * (`asymmetricKeyType` is undefined and JWK export throws "Unsupported JWK Key Type"), and the
 * structures are fixed templates. The parsers also accept SEC1 ("EC PRIVATE KEY", "SM2 PRIVATE KEY") PEM.
 */
export const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
export const OID_SM2_CURVE = '1.2.156.10197.1.301';

const ALGORITHM = derSequence(derOid(OID_EC_PUBLIC_KEY), derOid(OID_SM2_CURVE));
const SM2_CURVE_OID_DER = derOid(OID_SM2_CURVE);

function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

function fromPem(pem: string, labels: string[]): { label: string; der: Buffer } {
  const m = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(pem);
  if (!m?.[1] || m[2] === undefined) throw new SyncError('CRYPTO_KEY_PEM', 'not a PEM block');
  if (!labels.includes(m[1])) {
    throw new SyncError('CRYPTO_KEY_PEM', `expected a PEM ${labels.join(' or ')} block, found ${m[1]}`);
  }
  return { label: m[1], der: Buffer.from(m[2].replace(/\s+/g, ''), 'base64') };
}

function bitStringPoint(publicKeyHex: string): Buffer {
  return tlv(TAG.bitString, Buffer.concat([Buffer.from([0]), Buffer.from(publicKeyHex, 'hex')]));
}

export function sm2PublicKeyToDer(publicKeyHex: string): Buffer {
  assertSm2PublicKey(publicKeyHex);
  return derSequence(ALGORITHM, bitStringPoint(publicKeyHex));
}

export function sm2PublicKeyToPem(publicKeyHex: string): string {
  return toPem('PUBLIC KEY', sm2PublicKeyToDer(publicKeyHex));
}

/** PKCS#8 PrivateKeyInfo { 0, {ecPublicKey, sm2}, OCTET STRING ECPrivateKey { 1, d, [1] Q } }. */
export function sm2PrivateKeyToDer(privateKeyHex: string, publicKeyHex: string): Buffer {
  assertSm2PrivateKey(privateKeyHex);
  assertSm2PublicKey(publicKeyHex);
  const ecPrivateKey = derSequence(
    derUnsignedInteger(Buffer.from([1])),
    tlv(TAG.octetString, Buffer.from(privateKeyHex, 'hex')),
    tlv(0xa1, bitStringPoint(publicKeyHex)),
  );
  return derSequence(derUnsignedInteger(Buffer.from([0])), ALGORITHM, tlv(TAG.octetString, ecPrivateKey));
}

export function sm2PrivateKeyToPem(privateKeyHex: string, publicKeyHex: string): string {
  return toPem('PRIVATE KEY', sm2PrivateKeyToDer(privateKeyHex, publicKeyHex));
}

function checkAlgorithm(node: { tag: number; value: Buffer } | undefined): void {
  const [alg, curve] = readChildren(expectTag(node, TAG.sequence, 'AlgorithmIdentifier').value);
  if (!alg || !derOid(OID_EC_PUBLIC_KEY).equals(tlv(alg.tag, alg.value))) {
    throw new DerError('algorithm is not id-ecPublicKey');
  }
  if (!curve || !SM2_CURVE_OID_DER.equals(tlv(curve.tag, curve.value))) {
    throw new DerError('curve is not sm2p256v1 (1.2.156.10197.1.301)');
  }
}

function pointFromBitString(value: Buffer): string {
  if (value[0] !== 0) throw new DerError('BIT STRING has unused bits');
  const point = value.subarray(1).toString('hex');
  assertSm2PublicKey(point);
  return point;
}

export function sm2PublicKeyFromDer(der: Uint8Array): string {
  try {
    const [alg, key, extra] = readChildren(readOnly(der, TAG.sequence).value);
    if (extra) throw new DerError('SubjectPublicKeyInfo has extra fields');
    checkAlgorithm(alg);
    return pointFromBitString(expectTag(key, TAG.bitString, 'BIT STRING subjectPublicKey').value);
  } catch (cause) {
    if (cause instanceof SyncError) throw cause;
    throw new SyncError('CRYPTO_KEY_PEM', `not an SM2 SubjectPublicKeyInfo: ${String(cause)}`, undefined, {
      cause,
    });
  }
}

export function sm2PublicKeyFromPem(pem: string): string {
  return sm2PublicKeyFromDer(fromPem(pem, ['PUBLIC KEY']).der);
}

/** SEC1 ECPrivateKey; `curveKnown` when the enclosing PKCS#8 already named the curve. */
function fromEcPrivateKey(der: Uint8Array, curveKnown: boolean): Sm2KeyPair {
  const fields = readChildren(readOnly(der, TAG.sequence).value);
  if (integerValue(fields[0]) !== 1n) throw new DerError('ECPrivateKey version is not 1');
  const d = expectTag(fields[1], TAG.octetString, 'OCTET STRING privateKey').value;
  if (d.length !== 32) throw new DerError('SM2 private key must be 32 bytes');
  const privateKeyHex = d.toString('hex');
  let publicKeyHex: string | null = null;
  let sawCurve = curveKnown;
  for (const f of fields.slice(2)) {
    if (f.tag === 0xa0) {
      const [oid] = readChildren(f.value);
      if (!oid || !SM2_CURVE_OID_DER.equals(tlv(oid.tag, oid.value)))
        throw new DerError('curve is not sm2p256v1');
      sawCurve = true;
    } else if (f.tag === 0xa1) {
      const [bits] = readChildren(f.value);
      publicKeyHex = pointFromBitString(expectTag(bits, TAG.bitString, 'BIT STRING publicKey').value);
    }
  }
  if (!sawCurve) throw new DerError('ECPrivateKey does not name its curve');
  const derived = sm2PublicKeyOf(privateKeyHex);
  if (publicKeyHex !== null && publicKeyHex.toLowerCase() !== derived) {
    throw new DerError('the public key stored with the private key does not match it');
  }
  return { privateKeyHex, publicKeyHex: derived };
}

/** Reads PKCS#8 "PRIVATE KEY" or SEC1 "EC PRIVATE KEY" / "SM2 PRIVATE KEY"; the public key is derived and cross-checked. */
export function sm2PrivateKeyFromPem(pem: string): Sm2KeyPair {
  // OpenSSL 3 labels SEC1 SM2 keys "SM2 PRIVATE KEY"; other tools write "EC PRIVATE KEY".
  const { label, der } = fromPem(pem, ['PRIVATE KEY', 'EC PRIVATE KEY', 'SM2 PRIVATE KEY']);
  try {
    if (label !== 'PRIVATE KEY') return fromEcPrivateKey(der, false);
    const [version, alg, key] = readChildren(readOnly(der, TAG.sequence).value);
    if (integerValue(version) !== 0n) throw new DerError('PKCS#8 version is not 0');
    checkAlgorithm(alg);
    return fromEcPrivateKey(expectTag(key, TAG.octetString, 'OCTET STRING privateKey').value, true);
  } catch (cause) {
    if (cause instanceof SyncError) throw cause;
    throw new SyncError('CRYPTO_KEY_PEM', `not an SM2 private key: ${String(cause)}`, undefined, { cause });
  }
}
