import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { GatewayError } from '../gateway-error.ts';
import { verifyLedgerFile } from '../ledger/verify-ledger.ts';

export function registerLedgerCommands(program: Command, setExit: (code: number) => void): void {
  const ledger = program
    .command('ledger')
    .description('Inspect the box ledger (the SQLite file of transactions).');
  ledger
    .command('verify')
    .description(
      'Check the ledger file: SQLite integrity and the SM3 hash chain of every record. Prints a JSON ' +
        'summary {records, head, ok, ...}; exits 1 on a broken chain or a failed integrity check. Safe to ' +
        'run beside a running agent (opens the file read-only).',
    )
    .requiredOption('--db <path>', 'ledger file, e.g. data/ledger.db')
    .option('--full', 'run the slower full integrity_check instead of quick_check')
    .action((opts: { db: string; full?: boolean }) => {
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
}
