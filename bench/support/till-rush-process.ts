import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startCanteenPosSim, type TillKey } from '../../test-rigs/src/sim-canteen-pos/index.ts';
import { spawnLineChild } from './line-protocol.ts';

/**
 * The simulated tills of the canteen bench, in their own process (real tills are separate machines:
 * they must not share the agent's event loop). Opens every pty end, waits for `GO` on stdin, swipes
 * for `seconds` (one swipe per till every `paceMs`, or back to back when 0) and prints one JSON line with every latency and outcome.
 */
export interface RushResult {
  latenciesMs: number[];
  /** The simulators' own event-loop delay: a stall there is not the box's latency. */
  simLoopDelayMs: { p99: number; max: number };
  outcomes: Record<string, number>;
  seconds: number;
}

/** One key per path for v2 tills (per-run throwaway keys of the bench's own box), none for v1. */
export type RushKey = { version: number; keyHex: string } | null;

/** The keys `provisionDemoTills` made, in the order of the tills' paths, as the rush process takes them. */
export function rushKeysOf(
  tillKeys: ReadonlyMap<string, TillKey>,
  terminalIds: readonly string[],
): RushKey[] {
  return terminalIds.map((id) => {
    const key = tillKeys.get(id);
    return key ? { version: key.version, keyHex: key.key.toString('hex') } : null;
  });
}

export function spawnTillRush(paths: string[], seconds: number, paceMs: number, keys: RushKey[] = []) {
  const child = spawnLineChild(import.meta.url, 'till simulator process', [
    JSON.stringify({ paths, seconds, paceMs, keys }),
  ]);
  return {
    ready: () => child.nextLine('READY'),
    go: async (): Promise<RushResult> => {
      child.send('GO');
      return JSON.parse(await child.nextLine('RESULT ')) as RushResult;
    },
    done: () => child.closed(),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { paths, seconds, paceMs, keys } = JSON.parse(process.argv[2] ?? '{}') as {
    paths: string[];
    seconds: number;
    paceMs: number;
    keys?: RushKey[];
  };
  const sims = await Promise.all(
    paths.map((path, i) => {
      const key = keys?.[i];
      return startCanteenPosSim({
        path,
        baudRate: 115200,
        ...(key ? { key: { version: key.version, key: Buffer.from(key.keyHex, 'hex') } } : {}),
      });
    }),
  );
  process.stdout.write('READY\n');
  await new Promise<void>((r) => process.stdin.once('data', () => r()));
  const latenciesMs: number[] = [];
  const outcomes: Record<string, number> = {};
  const loopDelay = monitorEventLoopDelay({ resolution: 5 });
  loopDelay.enable();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    sims.map(async (sim, t) => {
      const till = sim.till();
      // Stagger the tills so paced swipes do not arrive in lockstep.
      if (paceMs > 0) await new Promise((r) => setTimeout(r, (t * paceMs) / sims.length));
      for (let n = 0; performance.now() < deadline; n++) {
        // A fresh diner (card) per swipe, so the per-day card limit never declines the rush.
        const card = `04${t.toString(16).padStart(2, '0')}${n.toString(16).padStart(8, '0')}`.toUpperCase();
        const t0 = performance.now();
        const result = await till.swipe(card, 800 + (n % 7) * 100);
        const took = performance.now() - t0;
        latenciesMs.push(took);
        // Paced: the next diner steps up paceMs after the previous one did (0 = back to back).
        if (paceMs > 0 && took < paceMs) await new Promise((r) => setTimeout(r, paceMs - took));
        const key =
          result.decision.outcome === 'approved' ? 'approved' : `declined:${result.decision.reason}`;
        outcomes[key] = (outcomes[key] ?? 0) + 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  for (const sim of sims) await sim.close();
  // Exit only once the (large) result line is flushed to the pipe.
  loopDelay.disable();
  const simLoopDelayMs = { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
  process.stdout.write(
    `RESULT ${JSON.stringify({ latenciesMs, outcomes, seconds: elapsed, simLoopDelayMs })}\n`,
    () => process.exit(0),
  );
}
