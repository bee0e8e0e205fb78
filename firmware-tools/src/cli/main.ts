import { Command, CommanderError } from 'commander';
import { isFirmwareRefusedError } from '../firmware-refused-error.ts';
import { registerInspectCommand } from './inspect-command.ts';
import { registerKeygenCommand } from './keygen-command.ts';
import { registerPackCommand } from './pack-command.ts';
import { UsageError } from './usage-error.ts';
import { registerVerifyCommand } from './verify-command.ts';

/**
 * `sceneway-fw`. Exit codes, as `sceneway`'s: 0 success; 1 the package is refused (the line names the
 * FW_ code); 2 usage error or the command could not run (missing file, unsafe key file).
 */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('sceneway-fw')
    .description(
      'Sceneway terminal firmware packages: make vendor keys, pack and sign images, verify, inspect.',
    )
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  $ sceneway-fw keygen --out vendor-keys
  $ sceneway-fw pack pos.bin --key vendor-keys/vendor-key.pem --out pos-2.4.1.swfw \\
      --family canteen-pos --model SW-POS-200 --version 2.4.1 --min-previous 2.0.0
  $ sceneway-fw verify pos-2.4.1.swfw --vendor-key vendor-keys/vendor.pub.pem
  $ sceneway-fw inspect pos-2.4.1.swfw --extract audit/
The format: docs/firmware-format.md.`,
    );
  let exitCode = 0;
  const setExit = (code: number) => {
    exitCode = code;
  };
  registerKeygenCommand(program);
  registerPackCommand(program);
  registerVerifyCommand(program, setExit);
  registerInspectCommand(program, setExit);
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (isFirmwareRefusedError(err)) {
      // In pack: a field outside the manifest's ranges, named (manifest.version: M.m.p ...).
      process.stderr.write(`error ${err.code}: ${err.message}\n`);
      return 2;
    }
    const message = err instanceof UsageError || err instanceof Error ? err.message : String(err);
    process.stderr.write(`error: ${message}\n`);
    return 2;
  }
}
