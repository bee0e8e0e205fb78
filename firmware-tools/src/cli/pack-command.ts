import { readFile } from 'node:fs/promises';
import { FIRMWARE_FAMILIES, type FirmwareFamily } from '@sceneway/core';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { packFirmwareFile } from '../pack.ts';
import { loadVendorPrivateKey } from './key-files.ts';
import { stderrProgress } from './progress.ts';
import { UsageError } from './usage-error.ts';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];
const integer = (value: string): number => {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

interface PackFlags {
  key: string;
  out: string;
  family: FirmwareFamily;
  model: string[];
  hardware?: string[];
  version: string;
  minPrevious: string;
  notes?: string;
  notesFile?: string;
  chunkSize?: number;
  createdAt?: string;
}

export function registerPackCommand(program: Command): void {
  program
    .command('pack')
    .description('make a signed firmware package (.swfw) from an image file')
    .argument('<image>', 'the firmware image file')
    .requiredOption('--key <file>', 'vendor private key (vendor-key.pem from keygen, mode 0600)')
    .requiredOption('--out <file>', 'package to write (*.swfw)')
    .addOption(
      new Option('--family <family>', 'terminal family').choices(FIRMWARE_FAMILIES).makeOptionMandatory(),
    )
    .requiredOption('--model <model>', 'a terminal model the image is for (repeat for several)', collect)
    .option('--hardware <rev>', 'a hardware revision it runs on (repeat; none = any revision)', collect)
    .requiredOption('--version <M.m.p>', 'the version the terminal reports once it runs the image')
    .requiredOption('--min-previous <M.m.p>', 'the terminal must run at least this version to take the image')
    .option('--notes <text>', 'release notes')
    .option('--notes-file <file>', 'release notes from a UTF-8 file')
    .option(
      '--chunk-size <bytes>',
      'digest chunk size: a power of two, 4096..1048576 (default 65536)',
      integer,
    )
    .option('--created-at <iso>', 'creation time, ISO 8601 UTC (default now)')
    .addHelpText(
      'after',
      `
Example:
  $ sceneway-fw pack pos-2.4.1.bin --key vendor-keys/vendor-key.pem --out pos-2.4.1.swfw \\
      --family canteen-pos --model SW-POS-200 --model SW-POS-210 --hardware rev-c \\
      --version 2.4.1 --min-previous 2.0.0 --notes-file CHANGES.txt
Progress goes to stderr (a bar on a terminal, plain lines otherwise); the summary to stdout.`,
    )
    .action(async (image: string, o: PackFlags) => {
      if (o.notes !== undefined && o.notesFile !== undefined)
        throw new UsageError('give release notes by --notes or --notes-file, not both');
      const releaseNotes = o.notesFile !== undefined ? await readFile(o.notesFile, 'utf8') : (o.notes ?? '');
      const vendorPrivateKeyHex = await loadVendorPrivateKey(o.key);
      const progress = stderrProgress();
      const packed = await packFirmwareFile({
        imagePath: image,
        outPath: o.out,
        fields: {
          family: o.family,
          models: o.model,
          hardware: o.hardware ?? [],
          version: o.version,
          minPreviousVersion: o.minPrevious,
          releaseNotes,
          ...(o.chunkSize !== undefined ? { chunkSize: o.chunkSize } : {}),
          ...(o.createdAt !== undefined ? { createdAt: o.createdAt } : {}),
        },
        vendorPrivateKeyHex,
        onProgress: (phase, done, total) => progress.update(phase, done, total),
      });
      const m = packed.manifest;
      process.stdout.write(
        `packed ${o.out}: ${m.family} ${m.version} for ${m.models.join(', ')}, ${m.size} bytes in ${m.chunks.length} chunks of ${m.chunkSize}\n` +
          `image sm3 ${m.sm3}\nsigned by vendor key ${m.vendorKeyId}\n`,
      );
    });
}
