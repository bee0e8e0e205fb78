import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { GatewayError } from '../gateway-error.ts';

// SQLite and the chain code load inside each action, not with the CLI: `sceneway start` must not wait
// for them before it can start scrypt (D21).

export function registerLedgerCommands(program: Command, setExit: (code: number) => void): void {
  const ledger = program
    .command('ledger')
    .description('Inspect the box ledger (the SQLite file of transactions).');
  ledger
    .command('verify')
    .description(
      'Check the ledger file: SQLite integrity and the SM3 hash chain of every record. Prints a JSON ' +
        'summary {records, head, ok, ...}; exits 1 on a broken chain, a failed integrity check or a tail ' +
        'missing below the synced watermark (tailMissing: records deleted, or an older copy restored). Safe to ' +
        'run beside a running agent (opens the file read-only).',
    )
    .requiredOption('--db <path>', 'ledger file, e.g. data/ledger.db')
    .option('--full', 'run the slower full integrity_check instead of quick_check')
    .action(async (opts: { db: string; full?: boolean }) => {
      const { verifyLedgerFile } = await import('../ledger/verify-ledger.ts');
      if (!existsSync(opts.db)) {
        throw new GatewayError(
          'LEDGER_NOT_FOUND',
          `no ledger file at ${opts.db}`,
          'Pass the path of ledger.path from the box config.',
        );
      }
      const result = verifyLedgerFile(opts.db, { full: opts.full === true });
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      if (!result.ok) setExit(1);
    });
  ledger
    .command('daily-report')
    .description(
      "Write the day's reconciliation report (sceneway.recon.v1: count and sum in fen per kind and " +
        'terminal) from a ledger file, as the agent does every night; hand it to `sceneway-bank reconcile`.',
    )
    .requiredOption('--db <path>', 'ledger file')
    .requiredOption('--date <YYYY-MM-DD>', 'UTC day')
    .option('--out <dir>', 'directory for <boxId>-<date>.json', '.')
    .action(async (opts: { db: string; date: string; out: string }) => {
      const [{ default: Database }, { readMeta }, { writeBoxDailyReport }] = await Promise.all([
        import('better-sqlite3'),
        import('../ledger/verify-ledger.ts'),
        import('../sync/recon-file.ts'),
      ]);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(opts.date)) {
        throw new GatewayError('CLI_USAGE', `--date ${opts.date}: expected a UTC day as YYYY-MM-DD`);
      }
      if (!existsSync(opts.db)) throw new GatewayError('LEDGER_NOT_FOUND', `no ledger file at ${opts.db}`);
      const db = new Database(opts.db, { readonly: true, fileMustExist: true });
      try {
        const boxId = readMeta(db, 'box_id');
        if (!boxId)
          throw new GatewayError(
            'LEDGER_NO_BOX_ID',
            `${opts.db} names no box id: it was never opened by an agent`,
          );
        process.stdout.write(`${writeBoxDailyReport({ db, boxId }, opts.date, opts.out)}\n`);
      } finally {
        db.close();
      }
    });
}
