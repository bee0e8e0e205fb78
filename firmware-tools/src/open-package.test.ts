import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalBytes, sm2Sign } from '@sceneway/cloud-sync';
import type { FirmwareImage } from '@sceneway/device-drivers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FirmwareRefusedError } from './firmware-refused-error.ts';
import { openFirmwarePackage } from './open-package.ts';
import { assembleFirmwarePackage, packFirmware } from './pack.ts';
import { HEADER_BYTES } from './package-layout.ts';
import { makeTestVendor, TEST_FIELDS, testFirmwareImage, writeTestPackage } from './testing.ts';
import type { VerifiedFirmware } from './verified-firmware.ts';

const vendor = makeTestVendor();
const otherVendor = makeTestVendor();
const image = testFirmwareImage(40_000); // ten 4 KiB chunks, the last 3,136 bytes
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sceneway-fw-open-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

async function refusal(path: string, keys: string[] = [vendor.publicKeyHex]): Promise<FirmwareRefusedError> {
  const err = await openFirmwarePackage(path, { vendorPublicKeys: keys }).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FirmwareRefusedError);
  return err as FirmwareRefusedError;
}

const good = () => packFirmware({ image, fields: TEST_FIELDS, vendorPrivateKeyHex: vendor.privateKeyHex });

describe('openFirmwarePackage', () => {
  it('verifies a good package and reads back exactly its image, across chunk boundaries', async () => {
    const packed = good();
    const path = write('good.swfw', packed.bytes);
    const fw = await openFirmwarePackage(path, {
      vendorPublicKeys: [otherVendor.publicKeyHex, vendor.publicKeyPem],
    });
    expect(fw.manifest).toEqual(packed.manifest);
    expect(fw.manifest.chunks).toHaveLength(10);
    expect(Buffer.from(fw.manifestBytes).equals(canonicalBytes(packed.manifest))).toBe(true);
    expect(fw.imageOffset).toBe(HEADER_BYTES + packed.manifestBytes.length + packed.signature.length);
    expect(fw.vendorPublicKeyHex).toBe(vendor.publicKeyHex);
    expect(Buffer.from(await fw.read(0, image.length)).equals(image)).toBe(true);
    expect(Buffer.from(await fw.read(4000, 200)).equals(image.subarray(4000, 4200))).toBe(true);
    expect(Buffer.from(await fw.read(39_999, 1)).equals(image.subarray(39_999))).toBe(true);
    expect(await fw.read(40_000, 0)).toHaveLength(0);
    await expect(fw.read(39_999, 2)).rejects.toThrow(RangeError);
    await expect(fw.read(-1, 1)).rejects.toThrow(RangeError);
    // What the drivers take: VerifiedFirmware is device-drivers' FirmwareImage.
    const asImage: FirmwareImage = fw satisfies FirmwareImage;
    expect(asImage.signature).toEqual(fw.signature);
  });

  it('refuses an unsigned package', async () => {
    const { manifestBytes } = good();
    const err = await refusal(
      write('unsigned.swfw', assembleFirmwarePackage({ manifestBytes, signature: new Uint8Array(0), image })),
    );
    expect(err.code).toBe('FW_UNSIGNED');
  });

  it('refuses a package signed by another key than the one its manifest names', async () => {
    const { manifestBytes } = good();
    const signature = sm2Sign(manifestBytes, otherVendor.privateKeyHex);
    const err = await refusal(
      write('wrong-sig.swfw', assembleFirmwarePackage({ manifestBytes, signature, image })),
      [vendor.publicKeyHex, otherVendor.publicKeyHex],
    );
    expect(err.code).toBe('FW_SIGNATURE_INVALID');
  });

  it('refuses a manifest changed after signing (one byte of its release notes)', async () => {
    const { bytes } = good();
    const notes = bytes.indexOf('Test image.');
    bytes[notes] = 'B'.charCodeAt(0);
    expect((await refusal(write('edited.swfw', bytes))).code).toBe('FW_SIGNATURE_INVALID');
  });

  it('refuses a package signed by a vendor key the box does not pin', async () => {
    const packed = good();
    const err = await refusal(write('unknown.swfw', packed.bytes), [otherVendor.publicKeyHex]);
    expect(err.code).toBe('FW_UNKNOWN_VENDOR_KEY');
    expect(err.message).toContain(vendor.keyId.slice(0, 16));
  });

  it.each([
    ['first byte of the image', 0, 0],
    ['a byte in the middle chunk', 5 * 4096 + 17, 5],
    ['the last byte of the short last chunk', 39_999, 9],
  ])(
    'refuses a package with a corrupted %s as a digest mismatch naming the chunk',
    async (_what, at, chunk) => {
      const packed = good();
      const bytes = Buffer.from(packed.bytes);
      const offset = bytes.length - image.length + at;
      bytes[offset] = (bytes[offset] ?? 0) ^ 0x01;
      const err = await refusal(write(`corrupt-${at}.swfw`, bytes));
      expect(err.code).toBe('FW_DIGEST_MISMATCH');
      expect(err.message).toContain(`chunk ${chunk} `);
    },
  );

  it('refuses two chunks swapped (each chunk is at its own place)', async () => {
    const swapped = Buffer.from(image);
    image.subarray(0, 4096).copy(swapped, 4096);
    image.subarray(4096, 8192).copy(swapped, 0);
    const { manifestBytes, signature } = good();
    const err = await refusal(
      write('swapped.swfw', assembleFirmwarePackage({ manifestBytes, signature, image: swapped })),
    );
    expect(err.code).toBe('FW_DIGEST_MISMATCH');
    expect(err.message).toContain('chunk 0 ');
  });

  it('refuses a manifest whose chunk digests agree but whole-image digest does not (vendor error)', async () => {
    const packed = good();
    const manifest = { ...packed.manifest, sm3: 'ab'.repeat(32) };
    const manifestBytes = canonicalBytes(manifest);
    const signature = sm2Sign(manifestBytes, vendor.privateKeyHex);
    const err = await refusal(
      write('whole.swfw', assembleFirmwarePackage({ manifestBytes, signature, image })),
    );
    expect(err.code).toBe('FW_DIGEST_MISMATCH');
    expect(err.message).toContain('whole image');
  });

  it.each([
    ['in the header', 10],
    ['in the manifest', HEADER_BYTES + 100],
    ['in the signature', -image.length - 5],
    ['in the image', -1],
    ['after the first chunk', -image.length + 4096],
  ])('refuses a package cut %s as truncated', async (_where, cut) => {
    const { bytes } = good();
    const end = cut < 0 ? bytes.length + cut : cut;
    expect((await refusal(write(`cut-${end}.swfw`, bytes.subarray(0, end)))).code).toBe('FW_TRUNCATED');
  });

  it('refuses bytes after the image, a wrong magic, a bad container version, and non-canonical signed JSON', async () => {
    const { bytes, manifest } = good();
    expect((await refusal(write('trailing.swfw', Buffer.concat([bytes, Buffer.from([0])])))).code).toBe(
      'FW_MALFORMED',
    );
    const magic = Buffer.from(bytes);
    magic[0] = 0x58;
    expect((await refusal(write('magic.swfw', magic))).code).toBe('FW_MALFORMED');
    const container = Buffer.from(bytes);
    container[4] = 2;
    expect((await refusal(write('container.swfw', container))).code).toBe('FW_MALFORMED');
    // Signed by the vendor, but spaced JSON: a second parser could read other bytes than we did.
    const spaced = Buffer.from(JSON.stringify(JSON.parse(canonicalBytes(manifest).toString()), null, 1));
    const err = await refusal(
      write(
        'spaced.swfw',
        assembleFirmwarePackage({
          manifestBytes: spaced,
          signature: sm2Sign(spaced, vendor.privateKeyHex),
          image,
        }),
      ),
    );
    expect(err.code).toBe('FW_MALFORMED');
    expect(err.message).toContain('canonical');
  });

  it('refuses a signed manifest outside its ranges, naming the field', async () => {
    const { manifest } = good();
    const bad = { ...manifest, chunkSize: 3000 };
    const manifestBytes = canonicalBytes(bad);
    const err = await refusal(
      write(
        'range.swfw',
        assembleFirmwarePackage({
          manifestBytes,
          signature: sm2Sign(manifestBytes, vendor.privateKeyHex),
          image,
        }),
      ),
    );
    expect(err.code).toBe('FW_MALFORMED');
    expect(err.message).toMatch(/^manifest\.chunkSize: /);
  });

  it('refuses on read a chunk changed on disk after the package was verified', async () => {
    const { path } = await writeTestPackage({ dir, vendor, image, name: 'changed-later.swfw' });
    const fw: VerifiedFirmware = await openFirmwarePackage(path, { vendorPublicKeys: [vendor.publicKeyHex] });
    expect((await fw.read(0, 10)).length).toBe(10);
    const bytes = readFileSync(path);
    const at = fw.imageOffset + 3 * 4096 + 1;
    bytes[at] = (bytes[at] ?? 0) ^ 0xff;
    writeFileSync(path, bytes);
    await expect(fw.read(3 * 4096, 100)).rejects.toMatchObject({ code: 'FW_DIGEST_MISMATCH' });
    // The chunks that did not change are still served.
    expect(Buffer.from(await fw.read(2 * 4096, 100)).equals(image.subarray(2 * 4096, 2 * 4096 + 100))).toBe(
      true,
    );
  });

  it('checks the whole image in a worker thread for big images, with the same refusals', async () => {
    const parallel = { vendorPublicKeys: [vendor.publicKeyHex], parallelDigestFrom: 1 };
    const packed = good();
    const path = write('parallel.swfw', packed.bytes);
    const fw = await openFirmwarePackage(path, parallel);
    expect(Buffer.from(await fw.read(0, image.length)).equals(image)).toBe(true);

    const corrupt = Buffer.from(packed.bytes);
    corrupt[corrupt.length - 1] = (corrupt[corrupt.length - 1] ?? 0) ^ 1;
    await expect(openFirmwarePackage(write('parallel-bad.swfw', corrupt), parallel)).rejects.toMatchObject({
      code: 'FW_DIGEST_MISMATCH',
      message: expect.stringContaining('chunk 9 '),
    });
    const manifestBytes = canonicalBytes({ ...packed.manifest, sm3: 'cd'.repeat(32) });
    const signature = sm2Sign(manifestBytes, vendor.privateKeyHex);
    await expect(
      openFirmwarePackage(
        write('parallel-whole.swfw', assembleFirmwarePackage({ manifestBytes, signature, image })),
        parallel,
      ),
    ).rejects.toMatchObject({ code: 'FW_DIGEST_MISMATCH', message: expect.stringContaining('whole image') });
  });
});
