import { copyFile, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FirmwareFamily, FirmwareManifest } from '@sceneway/core';
import { openFirmwarePackage, type VerifiedFirmware } from '@sceneway/firmware-tools';

export interface StoredPackage {
  /** `<family>-<version>-<first 12 hex of the image SM3>`: readable, and unique per image. */
  id: string;
  manifest: FirmwareManifest;
  file: string;
}

/**
 * The box's firmware packages, in `firmware.dir`. A package is stored only after it verified under a
 * pinned vendor key (signature, every chunk, the whole image), and it is verified again each time a
 * campaign opens it: a file changed on disk after `add` is refused then, never sent to a terminal.
 * Packages are never deleted by a campaign: the one a terminal ran before is its rollback image (ONVIF
 * cameras have no slot to revert to).
 */
export function openPackageRepository(options: { dir: string; vendorPublicKeys: readonly string[] }) {
  const { dir } = options;
  const verify = (file: string): Promise<VerifiedFirmware> =>
    openFirmwarePackage(file, { vendorPublicKeys: [...options.vendorPublicKeys] });

  async function list(): Promise<StoredPackage[]> {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: StoredPackage[] = [];
    for (const name of names.filter((n) => n.endsWith('.manifest.json')).sort()) {
      const id = name.slice(0, -'.manifest.json'.length);
      // The manifest copy is for listing only; nothing is decided on it before open() verifies the package.
      const manifest = JSON.parse(await readFile(join(dir, name), 'utf8')) as FirmwareManifest;
      out.push({ id, manifest, file: join(dir, `${id}.swfw`) });
    }
    return out;
  }

  return {
    dir,
    list,

    /** Verifies `source` (a copy inside the repository, so what is stored is what was checked) and keeps it. */
    async add(source: string): Promise<StoredPackage & { added: boolean }> {
      await mkdir(dir, { recursive: true, mode: 0o750 });
      const staging = join(dir, `.adding-${process.pid}-${Date.now()}.swfw`);
      try {
        await copyFile(source, staging);
        const verified = await verify(staging);
        const { manifest } = verified;
        const id = `${manifest.family}-${manifest.version}-${manifest.sm3.slice(0, 12)}`;
        const file = join(dir, `${id}.swfw`);
        const known = (await list()).some((p) => p.id === id);
        await rename(staging, file);
        await writeFile(join(dir, `${id}.manifest.json`), verified.manifestBytes);
        return { id, manifest, file, added: !known };
      } finally {
        await rm(staging, { force: true });
      }
    },

    /** The package, verified again now (signature under a pinned key, every digest). */
    async open(id: string): Promise<VerifiedFirmware> {
      if (!/^[A-Za-z0-9._-]+$/.test(id)) throw new Error(`not a package id: ${JSON.stringify(id)}`);
      return verify(join(dir, `${id}.swfw`));
    },

    /** The stored package of `family` at `version` built for `model`, if the box has one (a rollback image). */
    async findFor(
      family: FirmwareFamily,
      version: string,
      model: string,
    ): Promise<StoredPackage | undefined> {
      return (await list()).find(
        (p) =>
          p.manifest.family === family && p.manifest.version === version && p.manifest.models.includes(model),
      );
    },
  };
}

export type PackageRepository = ReturnType<typeof openPackageRepository>;
