import { packFirmware } from '@sceneway/firmware-tools';
import { makeTestVendor, testFirmwareImage } from '@sceneway/firmware-tools/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PackageReader, PackageRejected } from './firmware-package-reader.ts';

/**
 * The camera's own package reader against packages made by firmware-tools (the format's owner): it
 * must read them however the upload is split, refuse any change, and turn junk into a PackageRejected
 * only, never another throw.
 */
const vendor = makeTestVendor();
const packed = packFirmware({
  image: testFirmwareImage(50_000),
  fields: {
    family: 'onvif-camera',
    models: ['LPR-Cam-1'],
    version: '2.0.0',
    minPreviousVersion: '1.0.0',
    chunkSize: 4096,
  },
  vendorPrivateKeyHex: vendor.privateKeyHex,
});

function readAll(bytes: Buffer, cuts: number[]): PackageReader {
  const reader = new PackageReader(1 << 24);
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    reader.push(bytes.subarray(at, cut));
    at = cut;
  }
  reader.push(bytes.subarray(at));
  reader.finish();
  return reader;
}

describe("the simulated camera's package reader", () => {
  it('reads a firmware-tools package whole or split anywhere: the signed manifest bytes and signature intact', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: packed.bytes.length }), { maxLength: 8 }), (cuts) => {
        const reader = readAll(packed.bytes, cuts);
        expect(reader.head?.manifestBytes.equals(packed.manifestBytes)).toBe(true);
        expect(reader.head?.signature.equals(packed.signature)).toBe(true);
        expect(reader.head?.manifest).toMatchObject({ version: '2.0.0', size: 50_000, chunkSize: 4096 });
        expect(reader.imageReceived).toBe(50_000);
      }),
      { numRuns: 50 },
    );
  });

  it('refuses a package with any image byte changed (chunk SM3), or cut short, or one byte longer', () => {
    fc.assert(
      fc.property(fc.integer({ min: packed.bytes.length - 50_000, max: packed.bytes.length - 1 }), (at) => {
        const bad = Buffer.from(packed.bytes);
        bad[at] = (bad[at] as number) ^ 0x01;
        expect(() => readAll(bad, [])).toThrow(PackageRejected);
      }),
      { numRuns: 30 },
    );
    expect(() => readAll(packed.bytes.subarray(0, packed.bytes.length - 1), [])).toThrow(
      /image is 49999 bytes/,
    );
    const longer = Buffer.concat([packed.bytes, Buffer.from([0])]);
    expect(() => readAll(longer, [])).toThrow(expect.objectContaining({ status: 413 }));
  });

  it('turns junk into PackageRejected only', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.boolean(), (junk, withMagic) => {
        const bytes = withMagic ? Buffer.concat([packed.bytes.subarray(0, 16), junk]) : Buffer.from(junk);
        try {
          readAll(bytes, []);
        } catch (error) {
          expect(error).toBeInstanceOf(PackageRejected);
        }
      }),
      { numRuns: 300 },
    );
  });
});
