import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type SimReader, startSimReader } from '../../test-rigs/src/sim-face-reader/index.ts';
import { spawnLineChild, stdinLines } from './line-protocol.ts';

/**
 * The simulated face readers of the gates bench, in their own process (real readers are separate
 * devices: they must not share the agent's event loop). Logs every reader in, waits for `GO` on stdin,
 * then each reader presents one face every `paceMs` for `seconds`; prints one JSON line with every
 * recognition → door command latency (publish to command received, on the reader's side).
 */
export interface FlockResult {
  latenciesMs: number[];
  outcomes: Record<string, number>;
  simLoopDelayMs: { p99: number; max: number };
  seconds: number;
}

interface FlockArgs {
  url: string;
  readers: Array<{ id: string; password: string; persons: string[] }>;
  seconds: number;
  paceMs: number;
}

export function spawnReaderFlock(args: FlockArgs) {
  const child = spawnLineChild(import.meta.url, 'reader flock process');
  child.send(JSON.stringify(args));
  return {
    ready: () => child.nextLine('READY'),
    go: async (): Promise<FlockResult> => {
      child.send('GO');
      return JSON.parse(await child.nextLine('RESULT ')) as FlockResult;
    },
    quit: () => child.finish('QUIT'),
  };
}

async function main(): Promise<void> {
  const nextInput = stdinLines();
  const args = JSON.parse(await nextInput()) as FlockArgs;
  const readers: SimReader[] = [];
  // Log in a few at a time, retrying "server unavailable" as a real reader does: the box checks
  // scrypt passwords on a bounded queue and admits few logins from a new address (login defences).
  const login = async (r: FlockArgs['readers'][number]): Promise<SimReader> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await startSimReader({ url: args.url, readerId: r.id, username: r.id, password: r.password });
      } catch (err) {
        if ((err as { code?: number }).code !== 3 || attempt > 100) throw err;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  };
  for (let i = 0; i < args.readers.length; i += 8) {
    readers.push(...(await Promise.all(args.readers.slice(i, i + 8).map(login))));
  }
  process.stdout.write('READY\n');
  for (;;) {
    const cmd = await nextInput();
    if (cmd !== 'GO') break;
    const latencies: number[] = [];
    const outcomes: Record<string, number> = {};
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const deadline = performance.now() + args.seconds * 1000;
    await Promise.all(
      readers.map(async (reader, i) => {
        const persons = args.readers[i]?.persons ?? [];
        // Spread the readers over the pace so they do not all publish in the same millisecond.
        await new Promise((r) => setTimeout(r, (i * args.paceMs) / readers.length));
        for (let k = 0; performance.now() < deadline; k++) {
          const started = performance.now();
          const command = await reader.recognize({ personId: persons[k % persons.length] ?? null });
          latencies.push(performance.now() - started);
          const key = command.action === 'open' ? 'open' : `deny:${command.reason}`;
          outcomes[key] = (outcomes[key] ?? 0) + 1;
          const wait = args.paceMs - (performance.now() - started);
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        }
      }),
    );
    loop.disable();
    const result: FlockResult = {
      latenciesMs: latencies,
      outcomes,
      simLoopDelayMs: { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
      seconds: args.seconds,
    };
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  }
  for (const r of readers) await r.close();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`reader flock: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  });
}
