import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateSm2KeyPair } from './sm2.ts';
import {
  sm2PrivateKeyFromPem,
  sm2PrivateKeyToPem,
  sm2PublicKeyFromPem,
  sm2PublicKeyToDer,
  sm2PublicKeyToPem,
} from './sm2-keys.ts';
import { openssl, tempDir } from './test-support/openssl.ts';

describe('SM2 keys as PEM (PKCS#8 / SPKI, curve 1.2.156.10197.1.301)', () => {
  it('openssl reads our keys as SM2 keys and derives the same public key', () => {
    const keys = generateSm2KeyPair();
    const dir = tempDir();
    try {
      const priv = dir.write('priv.pem', sm2PrivateKeyToPem(keys.privateKeyHex, keys.publicKeyHex));
      const pub = dir.write('pub.pem', sm2PublicKeyToPem(keys.publicKeyHex));
      const text = openssl(['ec', '-in', priv, '-noout', '-text']).toString();
      expect(text).toContain('ASN1 OID: SM2');
      openssl(['pkey', '-in', priv, '-noout']);
      // openssl derives the SPKI from our private key: byte-identical to ours.
      expect(openssl(['pkey', '-in', priv, '-pubout']).toString()).toBe(readFileSync(pub, 'utf8'));
      expect(
        openssl(['pkey', '-pubin', '-in', pub, '-outform', 'DER']).equals(
          sm2PublicKeyToDer(keys.publicKeyHex),
        ),
      ).toBe(true);
    } finally {
      dir.remove();
    }
  });

  it('reads keys openssl generated, in PKCS#8 and SEC1 form, byte-identical on re-export', () => {
    const dir = tempDir();
    try {
      const p8 = join(dir.path, 'gen.pem');
      openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:SM2', '-out', p8]);
      const pkcs8 = readFileSync(p8, 'utf8');
      const sec1 = openssl(['ec', '-in', p8]).toString();
      expect(sec1).toContain('BEGIN SM2 PRIVATE KEY'); // OpenSSL 3's SEC1 label for SM2
      const a = sm2PrivateKeyFromPem(pkcs8);
      const b = sm2PrivateKeyFromPem(sec1);
      expect(b).toEqual(a);
      expect(sm2PrivateKeyToPem(a.privateKeyHex, a.publicKeyHex)).toBe(pkcs8);
      const spki = openssl(['pkey', '-in', p8, '-pubout']).toString();
      expect(sm2PublicKeyFromPem(spki)).toBe(a.publicKeyHex);
      expect(sm2PublicKeyToPem(a.publicKeyHex)).toBe(spki);
    } finally {
      dir.remove();
    }
  });

  it('refuses other curves, wrong labels and mismatched pairs with CRYPTO_ errors', () => {
    const p256 = openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256']).toString();
    expect(() => sm2PrivateKeyFromPem(p256)).toThrowError(
      expect.objectContaining({ code: 'CRYPTO_KEY_PEM' }),
    );
    const p256pub = openssl(['pkey', '-pubout'], Buffer.from(p256)).toString();
    expect(() => sm2PublicKeyFromPem(p256pub)).toThrowError(
      expect.objectContaining({ code: 'CRYPTO_KEY_PEM' }),
    );
    const keys = generateSm2KeyPair();
    expect(() => sm2PublicKeyFromPem(sm2PrivateKeyToPem(keys.privateKeyHex, keys.publicKeyHex))).toThrowError(
      expect.objectContaining({ code: 'CRYPTO_KEY_PEM' }),
    );
    const other = generateSm2KeyPair();
    const mismatched = sm2PrivateKeyToPem(keys.privateKeyHex, other.publicKeyHex);
    expect(() => sm2PrivateKeyFromPem(mismatched)).toThrowError(
      expect.objectContaining({ code: 'CRYPTO_KEY_PEM' }),
    );
    expect(() => sm2PublicKeyToPem('04abc')).toThrowError(
      expect.objectContaining({ code: 'CRYPTO_SM2_KEY' }),
    );
  });
});
