import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { sealBlacklistSource } from '../blacklist/blacklist-source.ts';
import { accountHolderString, cardHolderString } from '../blacklist/holder-digest.ts';
import { SyncError } from '../sync-error.ts';
import { ADMIN_TOKEN_ENV, adminTokenFrom } from './admin-token.ts';
import { enrolmentAnswerFor } from './enrol-answer.ts';
import { initBankKeys, loadBankPrivateKey } from './keys.ts';
import { scheduleReconciliation } from './recon-job.ts';
import { formatDifference, parseReconReport, reconcileDay } from './reconcile.ts';
import { BankRefusal } from './refusal.ts';
import { enrolFromRequest, openBankStore, startBankServer } from './server.ts';

const positive = (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
};

interface StoreFlags {
  db?: string;
  pg?: string;
  pgSchema?: string;
}

function storeOptions(cmd: Command): Command {
  return cmd
    .option('--db <path>', 'SQLite file of the bank store', 'sceneway-bank.db')
    .option('--pg <url>', 'PostgreSQL URL (replaces --db; for several ingest replicas)')
    .option('--pg-schema <name>', 'PostgreSQL schema holding the tables', 'sceneway_bank');
}

const openStore = (o: StoreFlags) => openBankStore({ dbPath: o.db, pgUrl: o.pg, pgSchema: o.pgSchema });

/** The answer holds no secret in clear (the holder key is sealed to the box), but it is the box's: 0600. */
function writeAnswer(path: string, answer: unknown): void {
  writeFileSync(path, `${JSON.stringify(answer, null, 2)}\n`, { mode: 0o600 });
}

export function bankProgram(): Command {
  const program = new Command('sceneway-bank')
    .description(
      'Reference bank ingest service for Sceneway boxes: verify, dedupe, store, acknowledge, reconcile',
    )
    .showHelpAfterError();

  storeOptions(program.command('serve').description('run the ingest HTTP(S) service'))
    .requiredOption('--key <file>', 'bank SM2 private key (PEM from `keys init`, or 64 hex digits)')
    .option('--port <n>', 'TCP port (0 = any free port)', '8443')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--tls-cert <file>', 'server certificate (PEM); with --tls-key and --tls-ca enables mutual TLS')
    .option('--tls-key <file>', 'server private key (PEM)')
    .option('--tls-ca <file>', 'CA that signs box client certificates')
    .option('--rate <perSec>', 'requests per second per box', positive, 5)
    .option('--burst <n>', 'burst size per box', positive, 20)
    .option(
      '--admin-token-file <file>',
      `bearer token for POST /v1/enrol, /api/status and /metrics, from a 0600 file (or set ${ADMIN_TOKEN_ENV}); never on the command line`,
    )
    .option('--blacklist-dir <dir>', 'signed canteen blacklist updates to serve at GET /v1/blacklist')
    .option(
      '--recon-dir <dir>',
      'directory of box reconciliation files; enables POST /v1/recon uploads and the nightly job',
    )
    .option('--recon-cron <expr>', 'cron expression (UTC) of the reconciliation job', '30 2 * * *')
    .action(async (o: StoreFlags & Record<string, string | number | undefined>) => {
      const tls =
        o.tlsCert && o.tlsKey && o.tlsCa
          ? { certPath: String(o.tlsCert), keyPath: String(o.tlsKey), caPath: String(o.tlsCa) }
          : undefined;
      const server = await startBankServer({
        dbPath: o.db,
        pgUrl: o.pg,
        pgSchema: o.pgSchema,
        bankPrivateKeyHex: loadBankPrivateKey(String(o.key)),
        port: Number(o.port),
        host: String(o.host),
        tls,
        ratePerSec: Number(o.rate),
        burst: Number(o.burst),
        adminToken: adminTokenFrom(o.adminTokenFile === undefined ? undefined : String(o.adminTokenFile)),
        ...(o.reconDir ? { reconDir: String(o.reconDir) } : {}),
        ...(o.blacklistDir ? { blacklistDir: String(o.blacklistDir) } : {}),
      });
      const stopRecon = o.reconDir
        ? scheduleReconciliation({
            store: server.store,
            dir: String(o.reconDir),
            schedule: String(o.reconCron),
          })
        : () => {};
      console.log(`sceneway-bank listening on ${server.url} (store: ${server.store.dialect})`);
      console.log(`bank public key: ${server.bankPublicKeyHex}`);
      const stop = () => {
        stopRecon();
        server.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });

  program
    .command('blacklist')
    .description('canteen blacklist updates for the boxes (docs/protocols/canteen-blacklist.md)')
    .command('sign')
    .description(
      'sign a full list or a delta with the bank key and write it where `serve --blacklist-dir` reads',
    )
    .requiredOption('--key <file>', 'bank private key (PEM, from `keys init`)')
    .requiredOption('--out <dir>', 'the blacklist directory')
    .requiredOption('--version <n>', 'version of this update', positive)
    .option('--base <n>', 'for a delta: the version it applies on top of (without it: a full list)')
    .option('--add-card <uid...>', 'card chip UIDs (hex) to block')
    .option('--remove-card <uid...>', 'card chip UIDs (hex) to unblock (delta only)')
    .option('--add-account <account...>', 'QR payment accounts to block')
    .option('--remove-account <account...>', 'QR payment accounts to unblock (delta only)')
    .action(
      (o: {
        key: string;
        out: string;
        version: number;
        base?: string;
        addCard?: string[];
        removeCard?: string[];
        addAccount?: string[];
        removeAccount?: string[];
      }) => {
        const kind = o.base === undefined ? ('full' as const) : ('delta' as const);
        // D27: the bank keeps the holders sealed and signs each box its own digests at serve time.
        const holders = {
          add: [...(o.addCard ?? []).map(cardHolderString), ...(o.addAccount ?? []).map(accountHolderString)],
          remove: [
            ...(o.removeCard ?? []).map(cardHolderString),
            ...(o.removeAccount ?? []).map(accountHolderString),
          ],
        };
        const signed = sealBlacklistSource(
          {
            kind,
            version: o.version,
            ...(o.base === undefined ? {} : { baseVersion: Number(o.base) }),
            issuedAt: new Date().toISOString(),
          },
          holders,
          loadBankPrivateKey(o.key),
        );
        mkdirSync(o.out, { recursive: true });
        const path = join(o.out, `blacklist-v${String(o.version).padStart(8, '0')}.json`);
        if (existsSync(path))
          throw new SyncError(
            'BANK_BLACKLIST_EXISTS',
            `${path} exists: a published version is never rewritten`,
            'sign the change as the next version (a delta with --base, or a newer full list)',
          );
        writeFileSync(path, `${JSON.stringify(signed, null, 2)}\n`);
        // Counts only: the UIDs given on the command line are not echoed into logs.
        console.log(
          `wrote ${path}: ${kind} v${o.version}, +${holders.add.length} -${holders.remove.length} (sealed)`,
        );
      },
    );

  program
    .command('keys')
    .description('bank key pair management')
    .command('init')
    .description('generate the bank SM2 key pair (private key written 0600)')
    .requiredOption('--out <dir>', 'directory for bank-key.pem, bank-pub.pem, bank-pub.hex')
    .action((o: { out: string }) => {
      const k = initBankKeys(o.out);
      console.log(`private key: ${k.privatePath} (0600; never leaves this host)`);
      console.log(`public key:  ${k.publicPath}\n${k.publicKeyHex}`);
    });

  storeOptions(program.command('enrol').description('enrol a box from its self-signed enrolment request'))
    .requiredOption('--request <file>', 'enrolment request JSON produced on the box')
    .requiredOption('--key <file>', 'bank private key: signs the answer that carries the holder key (D27)')
    .requiredOption('--answer <file>', 'where to write the enrolment answer the box imports')
    .action(async (o: StoreFlags & { request: string; key: string; answer: string }) => {
      const bankKey = loadBankPrivateKey(o.key);
      const store = await openStore(o);
      try {
        const at = new Date();
        const { boxId } = await enrolFromRequest(store, JSON.parse(readFileSync(o.request, 'utf8')), at);
        writeAnswer(o.answer, await enrolmentAnswerFor(store, boxId, bankKey, at));
        console.log(`enrolled box ${boxId}`);
        console.log(`answer: ${o.answer} (give it to the box: \`sceneway keys enrolment-answer --in FILE\`)`);
      } finally {
        await store.close();
      }
    });

  storeOptions(
    program
      .command('enrol-answer')
      .description('write the enrolment answer (holder key) again for a box already enrolled'),
  )
    .requiredOption('--box <id>', 'the enrolled box id')
    .requiredOption('--key <file>', 'bank private key (PEM from `keys init`)')
    .requiredOption('--answer <file>', 'where to write the enrolment answer the box imports')
    .action(async (o: StoreFlags & { box: string; key: string; answer: string }) => {
      const bankKey = loadBankPrivateKey(o.key);
      const store = await openStore(o);
      try {
        writeAnswer(o.answer, await enrolmentAnswerFor(store, o.box, bankKey, new Date()));
        console.log(`answer for box ${o.box}: ${o.answer}`);
      } finally {
        await store.close();
      }
    });

  storeOptions(
    program
      .command('retention')
      .description(
        'delete the personal data (SM4 seals, key envelopes) of batches older than the retention period; money facts stay (run daily from cron)',
      ),
  )
    .requiredOption(
      '--days <n>',
      'retention period in days, counted from when the bank received the batch',
      positive,
    )
    .action(async (o: StoreFlags & { days: number }) => {
      const cutoff = new Date(Date.now() - Number(o.days) * 86_400_000).toISOString();
      const store = await openStore(o);
      try {
        const purged = await store.purgePersonalData(cutoff);
        console.log(
          `personal data received before ${cutoff} deleted: ${purged.batches} key envelopes, ${purged.records} record seals`,
        );
      } finally {
        await store.close();
      }
    });

  storeOptions(
    program.command('reconcile').description("compare a box's daily totals with what the bank stored"),
  )
    .requiredOption('--date <YYYY-MM-DD>', 'UTC day to reconcile')
    .requiredOption('--box-report <file>', 'sceneway.recon.v1 file produced by the box')
    .action(async (o: StoreFlags & { date: string; boxReport: string }) => {
      const report = parseReconReport(readFileSync(o.boxReport, 'utf8'));
      if (report.date !== o.date) {
        throw new SyncError('BANK_RECON_DATE', `the box report is for ${report.date}, not ${o.date}`);
      }
      const store = await openStore(o);
      try {
        const diffs = await reconcileDay(store, report);
        for (const d of diffs) console.log(`DIFF ${formatDifference(d)}`);
        console.log(
          diffs.length === 0
            ? `box ${report.boxId} ${o.date}: reconciled, no differences`
            : `${diffs.length} difference(s)`,
        );
        if (diffs.length > 0) process.exitCode = 1;
      } finally {
        await store.close();
      }
    });

  program
    .command('status')
    .description('print the /api/status of a running bank')
    .requiredOption('--url <url>', 'base URL of the bank service')
    .option('--admin-token-file <file>', `the bank admin token, from a 0600 file (or set ${ADMIN_TOKEN_ENV})`)
    .action(async (o: { url: string; adminTokenFile?: string }) => {
      const token = adminTokenFrom(o.adminTokenFile);
      const res = await fetch(`${o.url.replace(/\/$/, '')}/api/status`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      console.log(JSON.stringify(await res.json(), null, 2));
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await bankProgram().parseAsync(argv);
  } catch (e) {
    if (e instanceof SyncError || e instanceof BankRefusal) {
      console.error(
        `error ${e.code}: ${e.message}${e instanceof SyncError && e.hint ? `\nhint: ${e.hint}` : ''}`,
      );
      process.exitCode = 2;
      return;
    }
    throw e;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main(process.argv);
