import type { Command } from 'commander';
import { loadBoxConfig } from '../config/load-config.ts';
import { resolvePassphrase } from '../keys/passphrase.ts';

// The SM2 code loads inside each action, not with the CLI: `sceneway start` must not wait for it
// before it can start scrypt (D21).

export function registerKeysCommands(program: Command, _setExit: (code: number) => void): void {
  const keys = program
    .command('keys')
    .description('Create and use the box key pair (SM2) and data key (SM4).');
  keys
    .command('init')
    .description(
      'Generate the box SM2 key pair and SM4 data key on this box, sealed under the passphrase in ' +
        'SCENEWAY_KEY_PASSPHRASE (or --passphrase-file), file mode 0600. Prints the public key only.',
    )
    .option('--config <file>', 'box config; keys go to its keys.dir')
    .option('--dir <dir>', 'key directory (overrides the config)', undefined)
    .option('--passphrase-file <file>', 'file holding the passphrase (0600)')
    .option('--force', 'replace an existing key (only when re-enrolling the box with the bank)')
    .action(async (opts: { config?: string; dir?: string; passphraseFile?: string; force?: boolean }) => {
      const { initBoxKeys } = await import('../keys/box-keys.ts');
      const dir = opts.dir ?? (opts.config ? loadBoxConfig(opts.config).config.keys.dir : 'data/keys');
      const made = initBoxKeys({
        dir,
        passphrase: resolvePassphrase(opts.passphraseFile),
        force: opts.force === true,
      });
      process.stdout.write(
        `box key written to ${made.keyFile} (mode 0600)\npublic key: ${made.publicKeyHex}\n`,
      );
      process.stdout.write(
        'next: `sceneway keys enrolment-request --config FILE > enrol.json` and give it to the bank;\n' +
          "then import the bank's answer: `sceneway keys enrolment-answer --config FILE --in answer.json`.\n",
      );
    });
  keys
    .command('enrolment-request')
    .description(
      'Print the signed enrolment request (box id, site id, public key, SM2 signature) that the bank ' +
        'imports with `sceneway-bank enrol`. Contains no secret.',
    )
    .requiredOption('--config <file>', 'box config (site and box ids, keys.dir)')
    .option('--passphrase-file <file>', 'file holding the passphrase')
    .action(async (opts: { config: string; passphraseFile?: string }) => {
      const [{ loadBoxKeys }, { boxEnrolmentRequest }] = await Promise.all([
        import('../keys/box-keys.ts'),
        import('../keys/box-enrolment.ts'),
      ]);
      const { config } = loadBoxConfig(opts.config);
      const secrets = loadBoxKeys({
        dir: config.keys.dir,
        passphrase: resolvePassphrase(opts.passphraseFile),
      });
      const request = boxEnrolmentRequest(config, secrets);
      process.stdout.write(`${JSON.stringify(request, null, 2)}\n`);
    });
  keys
    .command('enrolment-answer')
    .description(
      "Import the bank's signed enrolment answer (`sceneway-bank enrol --answer FILE`): it carries this " +
        "box's holder-digest key, sealed to the box key (docs/protocols/canteen-blacklist.md). Verified " +
        'with the pinned bank key, then kept in keys.dir; restart the agent to use it.',
    )
    .requiredOption('--config <file>', 'box config (box id, bank.publicKeyHex, keys.dir)')
    .requiredOption('--in <file>', 'the answer file from the bank')
    .option('--passphrase-file <file>', 'file holding the passphrase')
    .action(async (opts: { config: string; in: string; passphraseFile?: string }) => {
      const [{ loadBoxKeys }, { importEnrolmentAnswer }, { readFileSync }] = await Promise.all([
        import('../keys/box-keys.ts'),
        import('../keys/holder-key.ts'),
        import('node:fs'),
      ]);
      const { config } = loadBoxConfig(opts.config);
      const secrets = loadBoxKeys({
        dir: config.keys.dir,
        passphrase: resolvePassphrase(opts.passphraseFile),
      });
      const { file } = importEnrolmentAnswer(
        {
          dir: config.keys.dir,
          boxId: config.box.id,
          privateKeyHex: secrets.privateKeyHex,
          bankPublicKeyHex: config.bank.publicKeyHex,
          bankUserId: config.bank.userId,
        },
        JSON.parse(readFileSync(opts.in, 'utf8')),
      );
      process.stdout.write(`enrolment answer verified and kept in ${file} (mode 0600); holder key ready\n`);
    });
}
