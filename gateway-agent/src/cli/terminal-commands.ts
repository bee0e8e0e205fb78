import type { Command } from 'commander';
import { loadBoxConfig } from '../config/load-config.ts';
import { GatewayError } from '../gateway-error.ts';
import { resolvePassphrase } from '../keys/passphrase.ts';

// The SM2 and key-store code loads inside the action, not with the CLI (D21).

/**
 * Terminal families that hold a provisioned key: canteen POS tills (protocol v2) and face readers (the
 * `persons` sealed fields, docs/protocols/face-reader.md §4).
 */
const KEYED_DRIVERS = new Set(['canteen-pos', 'face-reader']);

export function registerTerminalCommands(program: Command, _setExit: (code: number) => void): void {
  const terminal = program.command('terminal').description('Commission site terminals.');
  terminal
    .command('provision')
    .argument('<terminalId>', 'a canteen-pos or face-reader terminal id of the box config, e.g. north-till-1')
    .description(
      'Generate a new 32-byte key for a canteen POS till (POS protocol v2: sessions and offline record MACs) ' +
        'or a face reader (its person list: templates and ID numbers sealed under it), ' +
        'version = previous + 1, kept sealed in keys.dir (mode 0600, under the box key). Prints the key ONCE, ' +
        'with its check value (KCV), for the installer to load into the till; it is never logged or shown again. ' +
        'Restart the agent afterwards; the previous version stays valid for offline records made before.',
    )
    .requiredOption('--config <file>', 'box config (its canteen-pos terminals and keys.dir)')
    .option('--passphrase-file <file>', 'file holding the key passphrase (else SCENEWAY_KEY_PASSPHRASE)')
    .action(async (terminalId: string, opts: { config: string; passphraseFile?: string }) => {
      const [
        { loadBoxKeys },
        { provisionTerminalKey, keyForInstaller },
        { keyCheckValue },
        drivers,
        registry,
      ] = await Promise.all([
        import('../keys/box-keys.ts'),
        import('../keys/terminal-keys.ts'),
        import('@sceneway/device-drivers'),
        import('../drivers/driver-part.ts'),
        import('../drivers/registry.ts'),
      ]);
      const { config } = loadBoxConfig(opts.config);
      const owners = drivers.terminalsOf(drivers.resolveDrivers(config.drivers, registry.DRIVER_REGISTRY));
      const family = owners.get(terminalId);
      if (!family || !KEYED_DRIVERS.has(family)) {
        const known = [...owners].filter(([, d]) => KEYED_DRIVERS.has(d)).map(([id]) => id);
        throw new GatewayError(
          'KEYS_TERMINAL_UNKNOWN',
          family
            ? `terminal "${terminalId}" is a ${family} terminal, which holds no provisioned key`
            : `no canteen-pos or face-reader terminal "${terminalId}" in ${opts.config}`,
          known.length > 0
            ? `keyed terminals here: ${known.join(', ')}`
            : 'add the terminal to a canteen-pos or face-reader driver entry first',
        );
      }
      const secrets = loadBoxKeys({
        dir: config.keys.dir,
        passphrase: resolvePassphrase(opts.passphraseFile),
      });
      const made = provisionTerminalKey({
        dir: config.keys.dir,
        boxPrivateKeyHex: secrets.privateKeyHex,
        terminalId,
      });
      process.stdout.write(
        `terminal ${terminalId}: key version ${made.version}, sealed in ${made.file} (mode 0600)\n` +
          'load this key into the till now; it is shown only this once:\n\n' +
          `${keyForInstaller(made.key)}\n\n` +
          `KCV ${keyCheckValue(made.key)}  (the till shows the same check value when the key is right)\n` +
          `key version ${made.version}: set it on the till with the key; then restart the agent.\n`,
      );
      made.key.fill(0);
    });
}
