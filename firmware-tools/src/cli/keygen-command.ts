import type { Command } from 'commander';
import { writeVendorKeys } from './key-files.ts';

export function registerKeygenCommand(program: Command): void {
  program
    .command('keygen')
    .description(
      'make a vendor SM2 key pair: the private key (0600) signs packages, boxes pin the public key',
    )
    .requiredOption(
      '--out <dir>',
      'directory for vendor-key.pem (private), vendor.pub.pem and vendor.pub.hex',
    )
    .option('--print-private', 'also print the private key (hex) on stdout; it is otherwise never printed')
    .addHelpText(
      'after',
      `
Example:
  $ sceneway-fw keygen --out ./vendor-keys
  Pin vendor.pub.hex in each box's config (firmware.vendorKeys); keep vendor-key.pem off the boxes.`,
    )
    .action(async (o: { out: string; printPrivate?: boolean }) => {
      const keys = await writeVendorKeys(o.out);
      const lines = [
        `private key: ${keys.privatePath} (mode 0600; signs packages, never copy it to a box)`,
        `public key:  ${keys.publicPemPath}, ${keys.publicHexPath}`,
        `public key (hex, pin this): ${keys.publicKeyHex}`,
        `vendor key id (manifest vendorKeyId): ${keys.keyId}`,
      ];
      if (o.printPrivate) lines.push(`private key (hex, as asked): ${keys.privateKeyHex}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
