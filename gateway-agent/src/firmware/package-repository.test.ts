import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestVendor, writeTestPackage } from '@sceneway/firmware-tools/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPackageRepository } from './package-repository.ts';

describe('package repository (firmware.dir)', () => {
  let dir: string;
  const vendor = makeTestVendor();
  const stranger = makeTestVendor();
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fw-repo-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('stores a package that verifies under a pinned key and lists it', async () => {
    const pkg = await writeTestPackage({ dir, vendor, fields: { version: '2.5.0' } });
    const repo = openPackageRepository({ dir: join(dir, 'repo'), vendorPublicKeys: [vendor.publicKeyHex] });
    const stored = await repo.add(pkg.path);
    expect(stored.added).toBe(true);
    expect(stored.id).toBe(`canteen-pos-2.5.0-${pkg.manifest.sm3.slice(0, 12)}`);
    expect((await repo.list()).map((p) => p.id)).toEqual([stored.id]);
    expect((await repo.add(pkg.path)).added).toBe(false);
    const opened = await repo.open(stored.id);
    expect(Buffer.from(await opened.read(0, 16))).toEqual(Buffer.from(pkg.image.subarray(0, 16)));
    expect((await repo.findFor('canteen-pos', '2.5.0', 'SW-POS-200'))?.id).toBe(stored.id);
    expect(await repo.findFor('canteen-pos', '2.5.0', 'OTHER')).toBeUndefined();
  });

  it('refuses a package signed by a key the box does not pin, and stores nothing', async () => {
    const pkg = await writeTestPackage({ dir, vendor: stranger });
    const repo = openPackageRepository({ dir: join(dir, 'repo'), vendorPublicKeys: [vendor.publicKeyHex] });
    await expect(repo.add(pkg.path)).rejects.toMatchObject({ code: 'FW_UNKNOWN_VENDOR_KEY' });
    expect(await readdir(join(dir, 'repo'))).toEqual([]);
    expect(await repo.list()).toEqual([]);
  });

  it('verifies again before use: a stored file changed on disk is refused', async () => {
    const pkg = await writeTestPackage({ dir, vendor });
    const repo = openPackageRepository({ dir: join(dir, 'repo'), vendorPublicKeys: [vendor.publicKeyHex] });
    const stored = await repo.add(pkg.path);
    const handle = await open(stored.file, 'r+');
    const { size } = await handle.stat();
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, size - 100);
    await handle.write(Buffer.from([byte[0]! ^ 0xff]), 0, 1, size - 100); // one image byte flipped
    await handle.close();
    await expect(repo.open(stored.id)).rejects.toMatchObject({ code: 'FW_DIGEST_MISMATCH' });
  });
});
