import { isSm2PublicKey, sm2PublicKeyFromPem, sm3Hex } from '@sceneway/cloud-sync';

/**
 * Vendor keys as a box pins them: the uncompressed SM2 point (04‖x‖y, hex), which is what the
 * agent's config holds, or the PEM SubjectPublicKeyInfo `sceneway-fw keygen` writes.
 */

/** The manifest's `vendorKeyId`: SM3 of the 65-byte uncompressed public key, lower-case hex. */
export function vendorKeyIdOf(publicKeyHex: string): string {
  return sm3Hex(Buffer.from(publicKeyHex.toLowerCase(), 'hex'));
}

/** Hex or PEM → lower-case hex; throws TypeError for anything else (a configuration mistake). */
export function vendorPublicKeyHex(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith('-----BEGIN')) {
    try {
      return sm2PublicKeyFromPem(trimmed).toLowerCase();
    } catch (cause) {
      throw new TypeError('the vendor key PEM is not an SM2 public key', { cause });
    }
  }
  if (!isSm2PublicKey(trimmed))
    throw new TypeError('a vendor key is an SM2 public key: 04‖x‖y as 130 hex digits, or its PEM');
  return trimmed.toLowerCase();
}
