import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { sm2PublicKeyFromPem } from '@sceneway/cloud-sync';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type SimReader, type SimReaderOptions, startSimReader } from './sim-reader.ts';

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
  stateDir?: string;
  vendorKey: string[];
  model: string;
  hardware: string;
  fwVersion: string;
  failTransferAt?: number;
  bootFail?: boolean;
  reportVersion?: string;
}

/** The reader's firmware side, when --state-dir and --vendor-key are given (docs/protocols/face-reader.md §8). */
function firmwareOf(options: GlobalOptions): SimReaderOptions['firmware'] {
  if (!options.stateDir) return undefined;
  if (options.vendorKey.length === 0)
    throw new InvalidArgumentError('--state-dir needs at least one --vendor-key to pin');
  return {
    stateDir: options.stateDir,
    vendorKeys: options.vendorKey.map((file) => vendorKeyHex(readFileSync(file, 'utf8'))),
    model: options.model,
    hardware: options.hardware,
    factoryVersion: options.fwVersion,
    faults: {
      failTransferAt: options.failTransferAt,
      bootFail: options.bootFail ?? false,
      reportVersion: options.reportVersion,
    },
  };
}

/** A pinned vendor key file: the PEM `sceneway-fw keygen` writes, or the 04‖x‖y hex. */
function vendorKeyHex(text: string): string {
  const trimmed = text.trim();
  const hex = trimmed.startsWith('-----BEGIN') ? sm2PublicKeyFromPem(trimmed) : trimmed;
  if (!/^04[0-9a-fA-F]{128}$/.test(hex))
    throw new InvalidArgumentError('a vendor key is an SM2 public key (PEM or 04‖x‖y hex)');
  return hex.toLowerCase();
}

const collect = (value: string, previous: string[]) => [...previous, value];
function byteOffset(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('a byte offset is an integer ≥ 1');
  return n;
}
function version(value: string): string {
  if (!/^\d+\.\d+\.\d+$/.test(value)) throw new InvalidArgumentError('a version is M.m.p');
  return value;
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
    ...(options.stateDir
      ? { firmware: firmwareOf(options), onFirmwareReport: (r) => print({ firmware: r }) }
      : {}),
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
    .option('--state-dir <dir>', 'takes firmware updates: its two slots and staged download live here')
    .option(
      '--vendor-key <file>',
      'pinned vendor public key (PEM or hex), repeatable',
      collect,
      [] as string[],
    )
    .option('--model <model>', 'the reader model it reports', 'SFR-200')
    .option('--hardware <rev>', 'the hardware revision it reports', 'rev-a')
    .option('--fw-version <M.m.p>', 'the factory image version (a fresh state dir)', version, '1.0.0')
    .option('--fail-transfer-at <byte>', 'fault: the image download drops once at this byte', byteOffset)
    .option('--boot-fail', 'fault: a new image does not boot (the old slot runs again)')
    .option('--report-version <M.m.p>', 'fault: report this version whatever runs', version)
    .addHelpText(
      'after',
      `
Examples:
  sim-face-reader --url mqtt://127.0.0.1:1883 --reader gate-1 --username gate-1 --password '…' recognize EMP-0042
  sim-face-reader … --state-dir /tmp/gate-1 --vendor-key vendor.pub.pem --boot-fail run
`,
    )
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
    .command('run')
    .description(
      'stay online (firmware updates, rollbacks) until SIGINT/SIGTERM; prints each firmware report',
    )
    .action(async () => {
      await withReader(program.opts<GlobalOptions>(), async (reader) => {
        print({ status: reader.firmware?.status() ?? null });
        await new Promise<void>((resolve) => {
          process.once('SIGINT', resolve);
          process.once('SIGTERM', resolve);
        });
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
