import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sm2PrivateKeyToPem } from '@sceneway/cloud-sync';
import { afterAll, describe, expect, it } from 'vitest';
import { openFirmwarePackage } from './open-package.ts';
import { assembleFirmwarePackage } from './pack.ts';
import { readPackageParts } from './package-parts.ts';
import { makeTestVendor, testFirmwareImage, writeTestPackage } from './testing.ts';

/**
 * OpenSSL 3 as the independent implementation (DESIGN.md "National cryptography"): an auditor with
 * only the vendor's PEM public key and the `openssl` CLI checks what a box checks. This machine's
 * OpenSSL 3.0 needs `-sigopt distid:1234567812345678` (without it SM2 verification fails: checked
 * below), the GM/T 0009 default id our signatures use.
 */
const dir = mkdtempSync(join(tmpdir(), 'sceneway-fw-openssl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const vendor = makeTestVendor();
const pubPem = join(dir, 'vendor.pub.pem');
writeFileSync(pubPem, vendor.publicKeyPem);

function opensslVerifies(manifestFile: string, sigFile: string, distid: string | null): boolean {
  const args = ['dgst', '-sm3', '-verify', pubPem, ...(distid ? ['-sigopt', `distid:${distid}`] : [])];
  try {
    const out = execFileSync('openssl', [...args, '-signature', sigFile, manifestFile], { stdio: 'pipe' });
    return out.toString().trim() === 'Verified OK';
  } catch {
    return false;
  }
}

describe('OpenSSL 3 and our packages', () => {
  it('openssl verifies the manifest signature from the extracted parts, and no other bytes or id', async () => {
    const image = testFirmwareImage(100_000);
    const { path, manifest } = await writeTestPackage({ dir, vendor, image, name: 'audit.swfw' });
    const parts = await readPackageParts(path);
    const manifestFile = join(dir, 'manifest.json');
    const sigFile = join(dir, 'manifest.sig');
    writeFileSync(manifestFile, parts.manifestBytes);
    writeFileSync(sigFile, parts.signature);
    expect(opensslVerifies(manifestFile, sigFile, '1234567812345678')).toBe(true);
    expect(opensslVerifies(manifestFile, sigFile, 'ALICE123@YAHOO.COM')).toBe(false);
    expect(opensslVerifies(manifestFile, sigFile, null)).toBe(false);

    const edited = Buffer.from(parts.manifestBytes);
    edited[edited.indexOf('2.4.1')] = '3'.charCodeAt(0);
    const editedFile = join(dir, 'edited.json');
    writeFileSync(editedFile, edited);
    expect(opensslVerifies(editedFile, sigFile, '1234567812345678')).toBe(false);

    // The signed manifest pins the image: openssl's SM3 of the image is the manifest's.
    const imageFile = join(dir, 'image.bin');
    writeFileSync(imageFile, image);
    const dgst = execFileSync('openssl', ['dgst', '-sm3', '-r', imageFile]).toString().split(' ')[0];
    expect(dgst).toBe(manifest.sm3);
  });

  it('a manifest signed by `openssl dgst -sm3 -sign` makes a package the box accepts', async () => {
    const image = testFirmwareImage(9000, 'openssl-signed');
    const { manifestBytes } = await writeTestPackage({ dir, vendor, image, name: 'ours.swfw' });
    const keyFile = join(dir, 'vendor-key.pem');
    writeFileSync(keyFile, sm2PrivateKeyToPem(vendor.privateKeyHex, vendor.publicKeyHex), { mode: 0o600 });
    const manifestFile = join(dir, 'to-sign.json');
    writeFileSync(manifestFile, manifestBytes);
    const sigFile = join(dir, 'openssl.sig');
    execFileSync('openssl', [
      'dgst',
      '-sm3',
      '-sign',
      keyFile,
      '-sigopt',
      'distid:1234567812345678',
      '-out',
      sigFile,
      manifestFile,
    ]);
    const path = join(dir, 'openssl-signed.swfw');
    writeFileSync(path, assembleFirmwarePackage({ manifestBytes, signature: readFileSync(sigFile), image }));
    const fw = await openFirmwarePackage(path, { vendorPublicKeys: [vendor.publicKeyPem] });
    expect(Buffer.from(await fw.read(0, image.length)).equals(image)).toBe(true);
  });
});
