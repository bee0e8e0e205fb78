import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FirmwareManifest } from '@sceneway/core';
import type { Command } from 'commander';
import { isFirmwareRefusedError } from '../firmware-refused-error.ts';
import { parseManifestBytes } from '../manifest-schema.ts';
import { readPackageParts, type UnverifiedPackageParts } from '../package-parts.ts';

export function registerInspectCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('inspect')
    .description('show a package manifest (nothing is verified), and extract its parts for an audit')
    .argument('<package>', 'the .swfw file')
    .option(
      '--extract <dir>',
      'write manifest.json (the exact signed bytes), manifest.sig (DER) and image.bin',
    )
    .option('--json', 'print the manifest as JSON instead of a summary')
    .addHelpText(
      'after',
      `
Example (an auditor checks the vendor signature with OpenSSL 3, see docs/firmware-format.md):
  $ sceneway-fw inspect pos-2.4.1.swfw --extract out/
  $ openssl dgst -sm3 -verify vendor.pub.pem -sigopt distid:1234567812345678 \\
      -signature out/manifest.sig out/manifest.json
  Verified OK`,
    )
    .action(async (path: string, o: { extract?: string; json?: boolean }) => {
      let parts: UnverifiedPackageParts;
      try {
        parts = await readPackageParts(path);
      } catch (err) {
        if (!isFirmwareRefusedError(err)) throw err;
        process.stdout.write(`not readable ${path}: ${err.code}: ${err.message}\n`);
        setExit(1);
        return;
      }
      let manifest: FirmwareManifest | null = null;
      let problem = '';
      try {
        manifest = parseManifestBytes(parts.manifestBytes);
      } catch (err) {
        if (!isFirmwareRefusedError(err)) throw err;
        problem = `${err.code}: ${err.message}`;
      }
      if (o.json && manifest) process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
      else process.stdout.write(summary(path, parts, manifest, problem));
      if (o.extract) {
        await extract(path, parts, o.extract);
        process.stdout.write(
          `extracted to ${o.extract}: manifest.json, ${parts.signature.length ? 'manifest.sig, ' : ''}image.bin\n`,
        );
      }
      if (!manifest) setExit(1);
    });
}

function summary(
  path: string,
  parts: UnverifiedPackageParts,
  m: FirmwareManifest | null,
  problem: string,
): string {
  const lines = [`package ${path} (${parts.fileSize} bytes) — NOT verified: use \`sceneway-fw verify\``];
  if (m) {
    lines.push(
      `family:        ${m.family}`,
      `models:        ${m.models.join(', ')}`,
      `hardware:      ${m.hardware.length ? m.hardware.join(', ') : 'any'}`,
      `version:       ${m.version} (terminal must run ≥ ${m.minPreviousVersion})`,
      `image:         ${m.size} bytes, ${m.chunks.length} chunks of ${m.chunkSize}; stored ${parts.imageLength}`,
      `image sm3:     ${m.sm3}`,
      `vendor key id: ${m.vendorKeyId}`,
      `created:       ${m.createdAt}`,
    );
  } else {
    lines.push(`manifest:      ${parts.manifestBytes.length} bytes, not a valid manifest (${problem})`);
  }
  lines.push(
    `signature:     ${parts.signature.length ? `${parts.signature.length} bytes, DER SM2 (user id 1234567812345678)` : 'none (unsigned: a box refuses it)'}`,
  );
  if (m?.releaseNotes) lines.push('release notes:', ...m.releaseNotes.split('\n').map((l) => `  ${l}`));
  return `${lines.join('\n')}\n`;
}

async function extract(path: string, parts: UnverifiedPackageParts, dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'manifest.json'), parts.manifestBytes);
  if (parts.signature.length) await writeFile(join(dir, 'manifest.sig'), parts.signature);
  const target = join(dir, 'image.bin');
  if (parts.imageLength === 0) return writeFile(target, new Uint8Array(0));
  // Streamed: the image can be hundreds of MiB.
  const source = createReadStream(path, { start: parts.header.imageOffset, end: parts.fileSize - 1 });
  await pipeline(source, createWriteStream(target));
}
