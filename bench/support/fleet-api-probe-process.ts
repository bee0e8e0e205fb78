import { fileURLToPath } from 'node:url';
import { spawnLineChild, stdinLines } from './line-protocol.ts';

/**
 * The dashboard's side of the fleet bench, in its own process: one client that, every `everyMs`, asks
 * the fleet list (`/api/boxes`) and then one box's history (`/api/boxes/<id>/history`, a different box
 * each time), one request at a time as a dashboard page does, until `STOP`. Prints each request's
 * latency (ms) per route; a non-200 answer fails the bench.
 */
export interface ApiProbeArgs {
  baseUrl: string;
  token: string;
  boxIds: string[];
  everyMs: number;
}

export interface ApiProbeResult {
  boxesMs: number[];
  historyMs: number[];
  /** Size of the last /api/boxes answer (bytes): what the list costs to serialise. */
  boxesBytes: number;
}

export function spawnApiProbe(args: ApiProbeArgs) {
  const child = spawnLineChild(import.meta.url, 'fleet API probe process');
  child.send(JSON.stringify(args));
  return {
    ready: () => child.nextLine('READY'),
    async stop(): Promise<ApiProbeResult> {
      child.send('STOP');
      const result = JSON.parse(await child.nextLine('RESULT ')) as ApiProbeResult;
      await child.finish();
      return result;
    },
  };
}

async function main(): Promise<void> {
  const next = stdinLines();
  const args = JSON.parse(await next()) as ApiProbeArgs;
  const headers = { authorization: `Bearer ${args.token}` };
  const timed = async (path: string) => {
    const started = performance.now();
    const res = await fetch(`${args.baseUrl}${path}`, { headers });
    const body = await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`${path}: HTTP ${res.status}`);
    return { ms: performance.now() - started, bytes: body.byteLength };
  };
  let stopping = false;
  void next().then(() => {
    stopping = true;
  });
  const result: ApiProbeResult = { boxesMs: [], historyMs: [], boxesBytes: 0 };
  process.stdout.write('READY\n');
  for (let i = 0; !stopping; i++) {
    const round = performance.now();
    const list = await timed('/api/boxes');
    result.boxesMs.push(list.ms);
    result.boxesBytes = list.bytes;
    const boxId = args.boxIds[i % args.boxIds.length];
    result.historyMs.push((await timed(`/api/boxes/${boxId}/history`)).ms);
    const rest = args.everyMs - (performance.now() - round);
    if (rest > 0) await new Promise((r) => setTimeout(r, rest));
  }
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    process.stderr.write(`fleet API probe process: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
