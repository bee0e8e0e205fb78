import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openFirmwarePackage } from './open-package.ts';
import { packFirmware, packFirmwareFile } from './pack.ts';
import { makeTestVendor, TEST_FIELDS, testFirmwareImage } from './testing.ts';

const dir = mkdtempSync(join(tmpdir(), 'sceneway-fw-pack-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const vendor = makeTestVendor();

describe('packFirmwareFile', () => {
  it('streams a file into the same manifest packFirmware makes from bytes, and the package opens', async () => {
    const image = testFirmwareImage(3 * 1024 * 1024 + 5, 'pack-file');
    writeFileSync(join(dir, 'image.bin'), image);
    const fields = { ...TEST_FIELDS, chunkSize: undefined };
    const progress: string[] = [];
    const fromFile = await packFirmwareFile({
      imagePath: join(dir, 'image.bin'),
      outPath: join(dir, 'image.swfw'),
      fields,
      vendorPrivateKeyHex: vendor.privateKeyHex,
      onProgress: (phase, done, total) => {
        if (done === total) progress.push(phase);
      },
    });
    const fromBytes = packFirmware({ image, fields, vendorPrivateKeyHex: vendor.privateKeyHex });
    expect(fromFile.manifest).toEqual(fromBytes.manifest);
    expect(fromFile.manifest.chunkSize).toBe(64 * 1024);
    expect(fromFile.manifest.chunks).toHaveLength(49);
    expect(progress).toEqual(['digest', 'write']);
    const fw = await openFirmwarePackage(join(dir, 'image.swfw'), {
      vendorPublicKeys: [vendor.publicKeyHex],
    });
    expect(Buffer.from(await fw.read(3 * 1024 * 1024, 5)).equals(image.subarray(3 * 1024 * 1024))).toBe(true);
  });

  it('writes nothing, not even a .partial file, when a field is out of range', async () => {
    writeFileSync(join(dir, 'small.bin'), testFirmwareImage(100));
    const before = readdirSync(dir).length;
    await expect(
      packFirmwareFile({
        imagePath: join(dir, 'small.bin'),
        outPath: join(dir, 'bad.swfw'),
        fields: { ...TEST_FIELDS, minPreviousVersion: '9.0.0' },
        vendorPrivateKeyHex: vendor.privateKeyHex,
      }),
    ).rejects.toMatchObject({
      code: 'FW_MALFORMED',
      message: expect.stringMatching(/^manifest\.minPreviousVersion: /),
    });
    expect(existsSync(join(dir, 'bad.swfw'))).toBe(false);
    expect(existsSync(join(dir, 'bad.swfw.partial'))).toBe(false);
    expect(readdirSync(dir).length).toBe(before);
  });

  it('refuses an empty image (a terminal would boot nothing)', () => {
    expect(() =>
      packFirmware({
        image: new Uint8Array(0),
        fields: TEST_FIELDS,
        vendorPrivateKeyHex: vendor.privateKeyHex,
      }),
    ).toThrow(/manifest\.size/);
  });
});
