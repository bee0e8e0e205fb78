import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { assertSm2PrivateKey } from '@sceneway/cloud-sync';
import { Command, InvalidArgumentError, Option } from 'commander';
import { FAULT_KINDS, FaultPlanError, parseFaultPlan } from './fault-plan.ts';
import { startFaultProxy } from './fault-proxy.ts';

/**
 * `node --import tsx test-rigs/src/fault-proxy/cli.ts --target http://127.0.0.1:8443 --plan ...`
 * Puts the fault proxy between a box and a bank by hand (demo, soak runs); tests use
 * startFaultProxy directly. Prints the listening URL and seed, and the fault counts on exit.
 */
const integer = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
  return n;
};

const plan = (v: string) => {
  try {
    return parseFaultPlan(v);
  } catch (e) {
    if (e instanceof FaultPlanError) throw new InvalidArgumentError(e.message);
    throw e;
  }
};

const httpUrl = (v: string) => {
  if (!URL.canParse(v) || new URL(v).protocol !== 'http:')
    throw new InvalidArgumentError('expected an http:// URL (the proxy speaks plain HTTP to the bank)');
  return v;
};

const privateKeyHex = (v: string) => {
  try {
    assertSm2PrivateKey(v);
    return v;
  } catch {
    throw new InvalidArgumentError('expected an SM2 private key as 64 hex digits');
  }
};

export function faultProxyProgram(): Command {
  return new Command('fault-proxy')
    .description(
      'HTTP proxy in front of the reference bank that injects faults into batch uploads (POST /v1/batches); other paths pass untouched',
    )
    .requiredOption('--target <url>', 'bank base URL (http://)', httpUrl)
    .option('--port <n>', 'TCP port to listen on (0 = any free port)', integer(0), 0)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .addOption(
      new Option(
        '--plan <spec>',
        `comma-separated kind=probability (sum <= 1), kinds: ${FAULT_KINDS.join(', ')}; delayMs=N sets the delay`,
      )
        .argParser(plan)
        .default({}, 'no faults'),
    )
    .option('--seed <n>', 'PRNG seed; the same seed and request order replay the same faults', integer(0))
    .option(
      '--wrong-ack-key <hex>',
      'SM2 private key (64 hex) for wrong-key-ack forgeries; random if absent',
      privateKeyHex,
    )
    .showHelpAfterError()
    .action(
      async (o: {
        target: string;
        port: number;
        host: string;
        plan: ReturnType<typeof plan>;
        seed?: number;
        wrongAckKey?: string;
      }) => {
        const proxy = await startFaultProxy({
          target: o.target,
          port: o.port,
          host: o.host,
          plan: o.plan,
          seed: o.seed,
          wrongAckPrivateKeyHex: o.wrongAckKey,
        });
        process.stdout.write(`fault proxy listening on ${proxy.url} -> ${o.target} (seed ${proxy.seed})\n`);
        const stop = async () => {
          await proxy.close();
          process.stdout.write(`${JSON.stringify({ stats: proxy.stats() })}\n`);
          process.exit(0);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      },
    );
}

export async function main(argv: string[]): Promise<void> {
  try {
    await faultProxyProgram().parseAsync(argv);
  } catch (e) {
    // e.g. EADDRINUSE: one line for the operator, not a stack trace.
    process.stderr.write(`fault-proxy: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  }
}

const invokedPath = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invokedPath === fileURLToPath(import.meta.url)) await main(process.argv);
