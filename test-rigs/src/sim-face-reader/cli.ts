import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type SimReader, startSimReader } from './sim-reader.ts';

/**
 * sim-face-reader: a face/attendance reader on the box's MQTT broker, for installers (check a reader's
 * login and ACL without the device), the demo site and fault hunting. One JSON object per door
 * command on stdout.
 *
 *   node --import tsx test-rigs/src/sim-face-reader/cli.ts --url mqtt://127.0.0.1:1883 \
 *     --reader gate-1 --username gate-1 --password '…' recognize EMP-0042
 */
const FAULTS = ['disconnect', 'duplicate', 'malformed', 'wrong-password', 'flood'] as const;
type Fault = (typeof FAULTS)[number];

interface GlobalOptions {
  url: string;
  reader: string;
  username: string;
  password: string;
  fault: Fault[];
}

function faultList(value: string): Fault[] {
  return value.split(',').map((v) => {
    const fault = FAULTS.find((f) => f === v.trim());
    if (!fault) throw new InvalidArgumentError(`unknown fault "${v}"; choose from ${FAULTS.join(', ')}`);
    return fault;
  });
}

function score(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('score must be a number 0..1');
  return n;
}

const print = (value: unknown): void => void process.stdout.write(`${JSON.stringify(value)}\n`);

async function withReader(options: GlobalOptions, run: (reader: SimReader) => Promise<void>): Promise<void> {
  const faults = new Set(options.fault);
  const reader = await startSimReader({
    url: options.url,
    readerId: options.reader,
    username: options.username,
    password: options.password,
    faults: { duplicate: faults.has('duplicate'), wrongPassword: faults.has('wrong-password') },
  });
  try {
    if (faults.has('malformed')) await reader.publishRaw('events', '{"v":1,"eventId":"broken-1",');
    await run(reader);
  } finally {
    await reader.close();
  }
}

export function buildCli(): Command {
  const program = new Command('sim-face-reader')
    .description('A simulated MQTT face/attendance reader (docs/protocols/face-reader.md).')
    .requiredOption('--url <url>', 'the box broker, e.g. mqtt://127.0.0.1:1883')
    .requiredOption('--reader <id>', 'terminal id of the reader (its client id and topic prefix)')
    .requiredOption('--username <name>', 'MQTT username of the reader')
    .addOption(
      new Option('--password <password>', 'MQTT password of the reader')
        .env('SIM_READER_PASSWORD')
        .makeOptionMandatory(),
    )
    .option('--fault <list>', `fault modes, comma-separated: ${FAULTS.join(', ')}`, faultList, [] as Fault[])
    .showHelpAfterError();

  program
    .command('recognize')
    .description('present one face; prints the door command that answers it')
    .argument('[personId]', 'enrolled person id; omit for an unknown face')
    .option('--score <n>', 'match score 0..1', score)
    .addOption(
      new Option('--liveness <result>', 'liveness result')
        .choices(['pass', 'fail', 'unknown'])
        .default('pass'),
    )
    .action(
      async (
        personId: string | undefined,
        opts: { score?: number; liveness: 'pass' | 'fail' | 'unknown' },
      ) => {
        const global = program.opts<GlobalOptions>();
        await withReader(global, async (reader) => {
          const recognition = {
            personId: personId ?? null,
            liveness: opts.liveness,
            ...(opts.score !== undefined ? { score: opts.score } : {}),
          };
          if (global.fault.includes('disconnect')) {
            // Recognised while the link is down: buffered, replayed after the reconnect.
            await reader.dropConnection();
            const answer = reader.recognize(recognition);
            await reader.reconnect();
            print(await answer);
            return;
          }
          print(await reader.recognize(recognition));
        });
      },
    );

  program
    .command('flood')
    .description('present many faces at once (the flood fault); prints every answer')
    .argument('<count>', 'how many recognitions', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 100_000)
        throw new InvalidArgumentError('count must be 1..100000');
      return n;
    })
    .argument('<personIds...>', 'person ids to cycle through')
    .action(async (count: number, personIds: string[]) => {
      await withReader(program.opts<GlobalOptions>(), async (reader) => {
        for (const answer of await reader.flood(count, personIds)) print(answer);
      });
    });

  program
    .command('status')
    .description('publish one reader status report')
    .action(async () => {
      await withReader(program.opts<GlobalOptions>(), (reader) => reader.publishStatus());
    });
  return program;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  buildCli()
    .parseAsync(process.argv)
    .catch((err: unknown) => {
      process.stderr.write(`sim-face-reader: ${(err as Error).message}\n`);
      process.exitCode = 1;
    });
}
