import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startBankServer } from '../../cloud-sync/src/bank/server.ts';

/**
 * The reference bank in its own process for benchmarks, so box and bank each get a core as they
 * would on two machines. Run as a script it starts the bank from a JSON argument and prints its URL.
 */
export interface BankProcessOptions {
  bankPrivateKeyHex: string;
  dbPath?: string;
  pgUrl?: string;
  pgSchema?: string;
  enrol: { boxId: string; publicKeyHex: string };
  ratePerSec: number;
  burst: number;
}

export function spawnBankProcess(
  options: BankProcessOptions,
): Promise<{ url: string; stop(): Promise<{ cpuSeconds: number }> }> {
  return new Promise((resolve, reject) => {
    // BENCH_BANK_CPU_PROF=DIR profiles the bank process (to see where ingest time goes).
    const dir = process.env.BENCH_BANK_CPU_PROF;
    const profile = dir ? ['--cpu-prof', '--cpu-prof-dir', dir] : [];
    const child = spawn(
      process.execPath,
      [...profile, '--import', 'tsx', fileURLToPath(import.meta.url), JSON.stringify(options)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^BANK (\S+)$/m.exec(out);
      if (m?.[1]) {
        resolve({
          url: m[1],
          // The bank prints the CPU time it used (user + system) as it exits.
          stop: () =>
            new Promise((done) => {
              child.once('exit', () =>
                done({ cpuSeconds: Number(/^CPU (\S+)$/m.exec(out)?.[1] ?? Number.NaN) }),
              );
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`bank process exited early (${code})`)));
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const options = JSON.parse(process.argv[2] ?? '{}') as BankProcessOptions;
  const bank = await startBankServer({
    bankPrivateKeyHex: options.bankPrivateKeyHex,
    ...(options.dbPath ? { dbPath: options.dbPath } : {}),
    ...(options.pgUrl ? { pgUrl: options.pgUrl, pgSchema: options.pgSchema } : {}),
    ratePerSec: options.ratePerSec,
    burst: options.burst,
    maxBodyBytes: 64 * 1024 * 1024,
    logLevel: 'warn',
  });
  await bank.store.enrolBox({ ...options.enrol, siteId: 'bench-site', enrolledAt: new Date().toISOString() });
  process.stdout.write(`BANK ${bank.url}\n`);
  process.once('SIGTERM', () => {
    void bank.close().then(() => {
      const { user, system } = process.cpuUsage();
      process.stdout.write(`CPU ${(user + system) / 1e6}\n`, () => process.exit(0));
    });
  });
}
