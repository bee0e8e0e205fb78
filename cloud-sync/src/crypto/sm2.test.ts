import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { sm2 as lib } from 'sm-crypto-v2';
import { describe, expect, it } from 'vitest';
import { SyncError } from '../sync-error.ts';
import {
  decodeSm2Signature,
  encodeSm2Signature,
  generateSm2KeyPair,
  SM2_N,
  sm2Decrypt,
  sm2Encrypt,
  sm2MessageDigest,
  sm2PublicKeyOf,
  sm2Sign,
  sm2Verify,
  sm2Z,
} from './sm2.ts';
import { sm2PrivateKeyToPem, sm2PublicKeyToPem } from './sm2-keys.ts';
import { openssl, opensslOk, tempDir } from './test-support/openssl.ts';

/**
 * GM/T 0003.5-2012 Annex A (recommended curve sm2p256v1), the example OpenSSL's own
 * test/sm2_internal_test.c uses, with the default user id 1234567812345678.
 */
const ANNEX = {
  privateKeyHex: '3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8',
  publicKeyHex:
    '0409f9df311e5421a150dd7d161e4bc5c672179fad1833fc076bb08ff356f35020ccea490ce26775a52dc6ea718cc1aa600aed05fbf35e084a6632f6072da9ad13',
  za: 'b2e14c5c79c6df5b85f4fe7ed8db7a262b9da7e07ccb0ea9f4747b8ccda8a4f3',
  message: Buffer.from('message digest'),
  e: 'f0b43e94ba45accaace692ed534382eb17e6ab5a19ce7b31f4486fdfc0d28640',
  k: '59276e27d506861a16680f3ad9c02dccef3cc1fa3cdbe4ce6d54b80deac1bc21',
  // x1 of [k]G, which is also C1.x of the encryption example below (same k).
  x1: '04ebfc718e8d1798620432268e77feb6415e2ede0e073c0f4f640ecd2e149a73',
  r: 'f5a03b0648d2c4630eeac513e1bb81a15944da3827d5b74143ac7eaceee720b3',
  s: 'b1b6aa29df212fd8763182bc0d421ca1bb9038fd1f7f42d4840b69c485bbc1aa',
  // "encryption standard" encrypted with the same k, as a GM/T 0009 SM2Cipher (C1C3C2).
  cipherDer:
    '307c022004ebfc718e8d1798620432268e77feb6415e2ede0e073c0f4f640ecd2e149a73022100e858f9d81e5430a57b36daab8f950a3c64e6ee6a63094d99283aff767e124df0042059983c18f809e262923c53aec295d30383b54e39d609d160afcb1908d0bd8766041321886ca989ca9c7d58087307ca93092d651efa',
};

describe('SM2 published example (GM/T 0003.5 Annex A)', () => {
  it('derives the example public key, Z_A and e', () => {
    expect(sm2PublicKeyOf(ANNEX.privateKeyHex)).toBe(ANNEX.publicKeyHex);
    expect(sm2Z(ANNEX.publicKeyHex).toString('hex')).toBe(ANNEX.za);
    expect(sm2MessageDigest(ANNEX.message, ANNEX.publicKeyHex).toString('hex')).toBe(ANNEX.e);
  });

  it('verifies the published (r, s)', () => {
    const der = encodeSm2Signature(BigInt(`0x${ANNEX.r}`), BigInt(`0x${ANNEX.s}`));
    expect(sm2Verify(ANNEX.message, der, ANNEX.publicKeyHex)).toBe(true);
    expect(sm2Verify(Buffer.from('message digesT'), der, ANNEX.publicKeyHex)).toBe(false);
    expect(sm2Verify(ANNEX.message, der, ANNEX.publicKeyHex, { userId: 'ALICE123@YAHOO.COM' })).toBe(false);
  });

  it('reproduces (r, s) when the nonce k is fixed to the example value', () => {
    // The library takes precomputed (k, x1) points; e comes from our Z_A ‖ M hashing.
    const rs = lib.doSignature(sm2MessageDigest(ANNEX.message, ANNEX.publicKeyHex), ANNEX.privateKeyHex, {
      hash: false,
      pointPool: [{ k: BigInt(`0x${ANNEX.k}`), x1: BigInt(`0x${ANNEX.x1}`) }],
    });
    expect(rs).toBe(ANNEX.r + ANNEX.s);
    expect(lib.getPublicKeyFromPrivateKey(ANNEX.k).slice(2, 66)).toBe(ANNEX.x1);
  });

  it('decrypts the published ciphertext', () => {
    expect(sm2Decrypt(Buffer.from(ANNEX.cipherDer, 'hex'), ANNEX.privateKeyHex).toString()).toBe(
      'encryption standard',
    );
  });
});

describe('sm2PublicKeyOf (OpenSSL scalar multiplication, D21)', () => {
  it('agrees with the curve library for any private key in [1, n-2], small ones included', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.bigInt({ min: 1n, max: 2n ** 40n }), fc.bigInt({ min: 1n, max: SM2_N - 2n })),
        (d) => {
          const hex = d.toString(16).padStart(64, '0');
          expect(sm2PublicKeyOf(hex)).toBe(lib.getPublicKeyFromPrivateKey(hex));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('SM2 sign/verify', () => {
  const keys = generateSm2KeyPair();
  const msg = Buffer.from('{"batch":1}');

  it('signs and verifies, with the user id configurable', () => {
    expect(keys.publicKeyHex).toMatch(/^04[0-9a-f]{128}$/);
    const sig = sm2Sign(msg, keys.privateKeyHex);
    expect(sm2Verify(msg, sig, keys.publicKeyHex)).toBe(true);
    expect(sm2Verify(msg, sig, generateSm2KeyPair().publicKeyHex)).toBe(false);
    const alice = sm2Sign(msg, keys.privateKeyHex, { userId: 'ALICE123@YAHOO.COM' });
    expect(sm2Verify(msg, alice, keys.publicKeyHex, { userId: 'ALICE123@YAHOO.COM' })).toBe(true);
    expect(sm2Verify(msg, alice, keys.publicKeyHex)).toBe(false);
  });

  it('refuses non-minimal DER, trailing bytes and out-of-range r, s', () => {
    const sig = sm2Sign(msg, keys.privateKeyHex);
    const { r, s } = decodeSm2Signature(sig);
    expect(sm2Verify(msg, Buffer.concat([sig, Buffer.from([0])]), keys.publicKeyHex)).toBe(false);
    // r with a redundant leading 00: the same number in different bytes (a malleated signature).
    const rContent = encodeSm2Signature(r, s).subarray(4, 4 + (sig[3] ?? 0));
    const sTlv = sig.subarray(4 + rContent.length);
    const rPadded = Buffer.concat([Buffer.from([0x02, rContent.length + 1, 0]), rContent]);
    const nonMinimal = Buffer.concat([Buffer.from([0x30, rPadded.length + sTlv.length]), rPadded, sTlv]);
    expect(
      decodeSm2Signature(
        Buffer.concat([
          Buffer.from([0x30, rContent.length + 2 + sTlv.length, 0x02, rContent.length]),
          rContent,
          sTlv,
        ]),
      ),
    ).toEqual({ r, s });
    expect(sm2Verify(msg, nonMinimal, keys.publicKeyHex)).toBe(false);
    expect(sm2Verify(msg, encodeSm2Signature(r + SM2_N, s), keys.publicKeyHex)).toBe(false);
    expect(sm2Verify(msg, encodeSm2Signature(r, 0n), keys.publicKeyHex)).toBe(false);
  });

  it('returns false, never throws, for random signatures, flipped bits and garbage keys', () => {
    const sig = sm2Sign(msg, keys.privateKeyHex);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 90 }), fc.string({ maxLength: 140 }), (bytes, key) => {
        expect(sm2Verify(msg, bytes, keys.publicKeyHex)).toBe(false);
        expect(sm2Verify(msg, sig, key)).toBe(false);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: sig.length * 8 - 1 }), (bit) => {
        const flipped = Buffer.from(sig);
        flipped[bit >> 3] = (flipped[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        expect(sm2Verify(msg, flipped, keys.publicKeyHex)).toBe(false);
      }),
      { numRuns: 100 },
    );
    // A point that is 04‖x‖y shaped but not on the curve.
    expect(sm2Verify(msg, sig, `04${'11'.repeat(64)}`)).toBe(false);
  });

  it('rejects bad private keys with CRYPTO_SM2_KEY', () => {
    expect(() => sm2Sign(msg, 'zz')).toThrowError(expect.objectContaining({ code: 'CRYPTO_SM2_KEY' }));
    expect(() => sm2Sign(msg, '0'.repeat(64))).toThrowError(
      expect.objectContaining({ code: 'CRYPTO_SM2_KEY' }),
    );
    expect(() => sm2Sign(msg, (SM2_N - 1n).toString(16))).toThrowError(SyncError);
  });
});

describe('SM2 encryption (C1C3C2, GM/T 0009 SM2Cipher DER)', () => {
  const keys = generateSm2KeyPair();

  it('round-trips and fails loudly on a wrong key or corruption', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 64 }), (plain) => {
        const ct = sm2Encrypt(plain, keys.publicKeyHex);
        expect(sm2Decrypt(ct, keys.privateKeyHex).equals(Buffer.from(plain))).toBe(true);
      }),
      { numRuns: 20 },
    );
    const ct = sm2Encrypt(Buffer.from('0123456789abcdef'), keys.publicKeyHex);
    expect(() => sm2Decrypt(ct, generateSm2KeyPair().privateKeyHex)).toThrowError(
      expect.objectContaining({ code: 'CRYPTO_SM2_DECRYPT' }),
    );
    const torn = Buffer.from(ct);
    torn[torn.length - 1] = (torn[torn.length - 1] ?? 0) ^ 1;
    expect(() => sm2Decrypt(torn, keys.privateKeyHex)).toThrowError(
      expect.objectContaining({ code: 'CRYPTO_SM2_DECRYPT' }),
    );
  });

  it('refuses a C1 that is not on the curve (invalid-curve attack on the bank key)', () => {
    const ct = sm2Encrypt(Buffer.from('0123456789abcdef'), keys.publicKeyHex);
    const offCurve = Buffer.from(ct);
    // x starts after SEQUENCE header (2) + INTEGER header (2, or 3 with a 00 pad): flip a byte of x.
    offCurve[8] = (offCurve[8] ?? 0) ^ 0x40;
    expect(() => sm2Decrypt(offCurve, keys.privateKeyHex)).toThrowError(
      expect.objectContaining({ code: 'CRYPTO_SM2_DECRYPT' }),
    );
  });

  it('throws only SyncError on random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(() => sm2Decrypt(bytes, keys.privateKeyHex)).toThrowError(SyncError);
      }),
      { numRuns: 200 },
    );
  });
});

describe('SM2 interop with the openssl command line', () => {
  it("openssl verifies our signature and we verify openssl's; openssl decrypts ours and we decrypt openssl's", () => {
    const keys = generateSm2KeyPair();
    const dir = tempDir();
    try {
      const priv = dir.write('priv.pem', sm2PrivateKeyToPem(keys.privateKeyHex, keys.publicKeyHex));
      const pub = dir.write('pub.pem', sm2PublicKeyToPem(keys.publicKeyHex));
      const message = Buffer.from('{"format":"sceneway.batch.v1","n":"交易"}');
      const msgFile = dir.write('msg', message);

      const ourSig = dir.write('ours.sig', sm2Sign(message, keys.privateKeyHex));
      const verify = (sigFile: string, id: string) =>
        opensslOk([
          'dgst',
          '-sm3',
          '-verify',
          pub,
          '-sigopt',
          `distid:${id}`,
          '-signature',
          sigFile,
          msgFile,
        ]);
      expect(verify(ourSig, '1234567812345678')).toBe(true);
      expect(verify(ourSig, 'ALICE123@YAHOO.COM')).toBe(false);
      const aliceSig = dir.write(
        'alice.sig',
        sm2Sign(message, keys.privateKeyHex, { userId: 'ALICE123@YAHOO.COM' }),
      );
      expect(verify(aliceSig, 'ALICE123@YAHOO.COM')).toBe(true);

      const theirSig = join(dir.path, 'theirs.sig');
      openssl([
        'dgst',
        '-sm3',
        '-sign',
        priv,
        '-sigopt',
        'distid:1234567812345678',
        '-out',
        theirSig,
        msgFile,
      ]);
      expect(sm2Verify(message, readFileSync(theirSig), keys.publicKeyHex)).toBe(true);

      const ourCt = dir.write('ours.ct', sm2Encrypt(message, keys.publicKeyHex));
      expect(openssl(['pkeyutl', '-decrypt', '-inkey', priv, '-in', ourCt]).equals(message)).toBe(true);
      const theirCt = openssl(['pkeyutl', '-encrypt', '-pubin', '-inkey', pub, '-in', msgFile]);
      expect(sm2Decrypt(theirCt, keys.privateKeyHex).equals(message)).toBe(true);
    } finally {
      dir.remove();
    }
  });
});
