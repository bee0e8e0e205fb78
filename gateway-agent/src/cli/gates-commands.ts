import { existsSync, readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { loadBoxConfig } from '../config/load-config.ts';
import { GatewayError } from '../gateway-error.ts';
import { resolvePassphrase } from '../keys/passphrase.ts';

// SQLite, SM2 and the key store load inside the actions, not with the CLI (D21).

/**
 * `sceneway gates person add|remove`: the operator's path to a person's face data. A CLI, not the admin
 * API: that API is GET-only and unauthenticated on loopback (status and metrics), while enrolment
 * needs the box key, which only the passphrase holder opens, as `sceneway terminal provision` does.
 * Run with the agent stopped and restart it afterwards (the agent reads gate state at start).
 */
export function registerGatesCommands(program: Command, _setExit: (code: number) => void): void {
  const gates = program.command('gates').description('Campus gates: the persons the face readers know.');
  const person = gates.command('person').description("Enrol or remove a person's face data.");
  const common = (c: Command) =>
    c
      .requiredOption('--config <file>', 'box config (scenarios.gates, ledger.path and keys.dir)')
      .option('--passphrase-file <file>', 'file holding the key passphrase (else SCENEWAY_KEY_PASSPHRASE)');

  common(
    person
      .command('add')
      .argument('<personId>', 'the person id as the readers report it, listed in scenarios.gates.persons')
      .description(
        'Seal a face template (and optionally an ID number) for a person of scenarios.gates.persons in the ' +
          'ledger file: SM4 + HMAC-SM3 under the box key, never in clear. A second add replaces the first. ' +
          'Nothing is printed about the values. Run with the agent stopped.',
      )
      .requiredOption(
        '--template <file>',
        'the face template from the enrolment station (binary, at most 196,000 bytes)',
      )
      .option(
        '--id-number-file <file>',
        'file holding the 18-character resident ID number (not on the command line: shell history)',
      ),
  ).action(
    async (
      personId: string,
      opts: { config: string; passphraseFile?: string; template: string; idNumberFile?: string },
    ) => {
      const { checkEnrolInput, enrolPerson } = await import('../gates/person-enrolment.ts');
      const input = {
        personId,
        faceTemplate: readInput(opts.template, '--template'),
        ...(opts.idNumberFile
          ? { idNumber: readInput(opts.idNumberFile, '--id-number-file').toString('utf8').trim() }
          : {}),
      };
      checkEnrolInput(input); // before the passphrase: a typo costs no scrypt
      await withGates(opts, (ctx) =>
        enrolPerson(ctx.db, ctx.keys, ctx.digests, ctx.gates, input, Date.now()),
      );
      process.stdout.write(
        'person enrolled: face data sealed in the ledger file; restart the agent (readers then get their new list)\n',
      );
    },
  );

  common(
    person
      .command('remove')
      .argument('<personId>', 'the person id as the readers report it')
      .description(
        "Delete a person's sealed face data and their gate state (failures, lockout, presence) in one " +
          'transaction (004 §5.3.2 b) 3), §9.2.4). Attendance records stay in the ledger under the keyed ' +
          'digest. Remove the person from scenarios.gates.persons too, then restart the agent.',
      ),
  ).action(async (personId: string, opts: { config: string; passphraseFile?: string }) => {
    const { checkPersonId, removePerson } = await import('../gates/person-enrolment.ts');
    checkPersonId(personId);
    const removed = await withGates(opts, (ctx) => removePerson(ctx.db, ctx.keys, ctx.digests, personId));
    process.stdout.write(
      removed.faceData
        ? 'person removed: face data and gate state deleted; restart the agent\n'
        : 'no face data was enrolled for this person; gate state deleted; restart the agent\n',
    );
  });
}

function readInput(file: string, field: string): Buffer {
  if (!existsSync(file) || !statSync(file).isFile())
    throw new GatewayError('CLI_USAGE', `${field}: no file at ${file}`);
  return readFileSync(file);
}

async function withGates<T>(
  opts: { config: string; passphraseFile?: string },
  run: (ctx: {
    db: import('better-sqlite3').Database;
    keys: import('../gates/face-data-store.ts').FaceDataKeys;
    digests: import('@sceneway/cloud-sync').HolderDigests;
    gates: import('../gates/gates-config.ts').GatesConfig;
  }) => T,
): Promise<T> {
  const [
    { default: Database },
    { loadBoxKeys },
    { loadHolderKey },
    cloud,
    { faceDataKey },
    { gatesConfigSchema },
  ] = await Promise.all([
    import('better-sqlite3'),
    import('../keys/box-keys.ts'),
    import('../keys/holder-key.ts'),
    import('@sceneway/cloud-sync'),
    import('../gates/face-data-store.ts'),
    import('../gates/gates-config.ts'),
  ]);
  const { config } = loadBoxConfig(opts.config);
  const own = config.scenarios.gates;
  if (own === undefined)
    throw new GatewayError('CLI_USAGE', `scenarios.gates: ${opts.config} has no gates scenario`);
  const gates = gatesConfigSchema.parse(own);
  if (!existsSync(config.ledger.path))
    throw new GatewayError(
      'LEDGER_NOT_FOUND',
      `no ledger file at ${config.ledger.path}`,
      'start the agent once so that it creates its ledger, stop it, then enrol',
    );
  const secrets = loadBoxKeys({ dir: config.keys.dir, passphrase: resolvePassphrase(opts.passphraseFile) });
  const holderKey = loadHolderKey({
    dir: config.keys.dir,
    boxId: config.box.id,
    privateKeyHex: secrets.privateKeyHex,
    bankPublicKeyHex: config.bank.publicKeyHex,
    bankUserId: config.bank.userId,
  });
  const db = new Database(config.ledger.path, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    db.pragma('secure_delete = ON'); // a deleted template is overwritten, not left in free pages
    return run({
      db,
      keys: faceDataKey(secrets.privateKeyHex),
      digests: holderKey ? cloud.keyedHolderDigests(holderKey) : cloud.legacyHolderDigests,
      gates,
    });
  } finally {
    db.close();
  }
}
