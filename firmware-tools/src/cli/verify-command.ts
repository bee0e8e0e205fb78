import type { Command } from 'commander';
import { isFirmwareRefusedError } from '../firmware-refused-error.ts';
import { openFirmwarePackage } from '../open-package.ts';
import { loadVendorPublicKey } from './key-files.ts';
import { stderrProgress } from './progress.ts';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function registerVerifyCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('verify')
    .description(
      'verify a package as a box does: signature by a pinned vendor key, every chunk, the whole image',
    )
    .argument('<package>', 'the .swfw file')
    .requiredOption(
      '--vendor-key <file>',
      'a pinned vendor public key, PEM or hex (repeat for several)',
      collect,
    )
    .addHelpText(
      'after',
      `
Exit code: 0 verified; 1 refused (the line names the code: FW_UNSIGNED, FW_SIGNATURE_INVALID,
FW_UNKNOWN_VENDOR_KEY, FW_DIGEST_MISMATCH, FW_MALFORMED, FW_TRUNCATED); 2 could not run.

Example:
  $ sceneway-fw verify pos-2.4.1.swfw --vendor-key vendor-keys/vendor.pub.pem
  verified pos-2.4.1.swfw: canteen-pos 2.4.1 for SW-POS-200 ...`,
    )
    .action(async (path: string, o: { vendorKey: string[] }) => {
      const keys = await Promise.all(o.vendorKey.map(loadVendorPublicKey));
      const progress = stderrProgress();
      try {
        const fw = await openFirmwarePackage(path, {
          vendorPublicKeys: keys,
          onProgress: (done, total) => progress.update('verify', done, total),
        });
        const m = fw.manifest;
        process.stdout.write(
          `verified ${path}: ${m.family} ${m.version} for ${m.models.join(', ')}` +
            ` (hardware ${m.hardware.length ? m.hardware.join(', ') : 'any'}), from ${m.minPreviousVersion} up;` +
            ` ${m.size} bytes, ${m.chunks.length} chunks; signed by vendor key ${m.vendorKeyId}\n`,
        );
      } catch (err) {
        if (!isFirmwareRefusedError(err)) throw err;
        process.stdout.write(`refused ${path}: ${err.code}: ${err.message}\n`);
        setExit(1);
      }
    });
}
