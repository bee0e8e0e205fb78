import { pathToFileURL } from 'node:url';
import type { OfflineRecord } from './wire/index.ts';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type CanteenPosSim, startCanteenPosSim } from './sim.ts';

/**
 * sim-canteen-pos: a canteen POS terminal on a serial line, for installers (test a port without a real
 * till), the demo site and manual fault hunting. Output is one JSON object per answer on stdout.
 *
 *   node --import tsx test-rigs/src/sim-canteen-pos/cli.ts --port /tmp/pty/b swipe 04A1B2C3 1250
 */
const FAULTS = ['junk', 'bad-crc', 'split', 'nak-storm', 'silence', 'duplicate', 'drop-answer'] as const;
type Fault = (typeof FAULTS)[number];

interface GlobalOptions {
  port: string;
  baud: number;
  mode: 'rs232' | 'rs485';
  address: number[];
  timeout: number;
  fault: Fault[];
  receipt: number;
}

function int(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be an integer ${min}..${max}`);
    return n;
  };
}

function faultList(value: string): Fault[] {
  return value.split(',').map((v) => {
    const fault = FAULTS.find((f) => f === v.trim());
    if (!fault) throw new InvalidArgumentError(`unknown fault "${v}"; choose from ${FAULTS.join(', ')}`);
    return fault;
  });
}

const addresses = (value: string): number[] => value.split(',').map((v) => int('address', 1, 247)(v.trim()));

function applyFaults(sim: CanteenPosSim, faults: Fault[]): void {
  for (const fault of faults) {
    for (const terminal of sim.terminals.values()) {
      if (fault === 'nak-storm') terminal.faults.nakStorm = true;
      if (fault === 'silence') terminal.faults.silent = true;
      if (fault === 'duplicate') terminal.faults.duplicateNextRequest = true;
      if (fault === 'drop-answer') terminal.faults.dropNextAnswer = true;
    }
    if (fault === 'junk') sim.injectJunk();
    if (fault === 'bad-crc') sim.line.faults.badCrcFrames = 1;
    if (fault === 'split') sim.line.faults.splitChunkBytes = 2;
  }
}

const print = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};

export function buildCli(): Command {
  const program = new Command('sim-canteen-pos')
    .description('Simulated canteen POS terminal(s) speaking docs/protocols/canteen-pos.md on a serial line.')
    .requiredOption('-p, --port <path>', 'serial device or pty link of the terminal end')
    .option('-b, --baud <rate>', 'baud rate', int('baud', 50, 4_000_000), 9600)
    .addOption(
      new Option('-m, --mode <mode>', 'line discipline').choices(['rs232', 'rs485']).default('rs232'),
    )
    .option(
      '-a, --address <list>',
      'terminal address(es), comma separated (rs485 may have several)',
      addresses,
      [1],
    )
    .option('-t, --timeout <ms>', 'answer timeout before a resend', int('timeout', 10, 60_000), 1000)
    .option('-r, --receipt <n>', 'first receipt number', int('receipt', 0, 0xffffffff), 1)
    .option(
      '-f, --fault <list>',
      `inject faults, comma separated: ${FAULTS.join(', ')} (split = frames in pieces, duplicate = send a request twice)`,
      faultList,
      [],
    )
    .showHelpAfterError();

  const withSim = async (fn: (sim: CanteenPosSim, opts: GlobalOptions) => Promise<void>) => {
    const opts = program.opts<GlobalOptions>();
    const sim = await startCanteenPosSim({
      path: opts.port,
      baudRate: opts.baud,
      mode: opts.mode,
      addresses: opts.address,
      answerTimeoutMs: opts.timeout,
      firstReceiptNo: opts.receipt,
      firmwareVersion: 'sim-1.0',
    });
    try {
      applyFaults(sim, opts.fault);
      await fn(sim, opts);
    } finally {
      await sim.close();
    }
  };

  program
    .command('swipe')
    .description('present a card (chip UID in hex) for a sale')
    .argument('<uid>', 'card UID, 4-10 bytes of hex, e.g. 04A1B2C3')
    .argument('<amountFen>', 'amount in fen', int('amountFen', 0, 0xffffffff))
    .option('-n, --count <n>', 'repeat the sale n times', int('count', 1, 100_000), 1)
    .action((uid: string, amountFen: number, o: { count: number }) =>
      withSim(async (sim) => {
        for (let i = 0; i < o.count; i++) print(await sim.till().swipe(uid.toUpperCase(), amountFen));
      }),
    );

  program
    .command('qr')
    .description('pay with a QR payment token')
    .argument('<token>', 'token as shown by the campus app (printable ASCII)')
    .argument('<amountFen>', 'amount in fen', int('amountFen', 0, 0xffffffff))
    .action((token: string, amountFen: number) =>
      withSim(async (sim) => print(await sim.till().qrPay(token, amountFen))),
    );

  program
    .command('void')
    .description('void an earlier sale')
    .argument('<originalReceipt>', 'receipt number of the sale', int('originalReceipt', 0, 0xffffffff))
    .argument('<amountFen>', 'amount in fen', int('amountFen', 0, 0xffffffff))
    .action((original: number, amountFen: number) =>
      withSim(async (sim) => print(await sim.till().voidSale(original, amountFen))),
    );

  program
    .command('upload')
    .description('upload sales the terminal approved on its own while cut off')
    .option('-n, --count <n>', 'number of offline sales', int('count', 1, 10_000), 5)
    .option('--uid <uid>', 'card UID for the records', '04A1B2C3')
    .option('--amount <fen>', 'amount per sale', int('amount', 0, 0xffffffff), 800)
    .action((o: { count: number; uid: string; amount: number }) =>
      withSim(async (sim, g) => {
        const t = Math.floor(Date.now() / 1000);
        const records: OfflineRecord[] = Array.from({ length: o.count }, (_, i) => ({
          kind: 'sale',
          receiptNo: g.receipt + i,
          amountFen: o.amount,
          credential: { kind: 'card', uidHex: o.uid.toUpperCase() },
          terminalTime: t - (o.count - i) * 60,
        }));
        print({ results: await sim.till().uploadOffline(records) });
      }),
    );

  program
    .command('price-list')
    .description('download the price list')
    .action(() => withSim(async (sim) => print(await sim.till().downloadPriceList())));

  program
    .command('blacklist-version')
    .description('ask the box for its blacklist version')
    .action(() => withSim(async (sim) => print({ version: await sim.till().queryBlacklistVersion() })));

  program
    .command('serve')
    .description(
      'stay on the line answering polls (and swiping now and then) until Ctrl-C; reopens after unplug',
    )
    .option(
      '--swipe-every <ms>',
      'swipe a random card this often (0 = never)',
      int('swipe-every', 0, 3_600_000),
      0,
    )
    .option('--amount <fen>', 'amount per swipe', int('amount', 0, 0xffffffff), 1250)
    .action((o: { swipeEvery: number; amount: number }) =>
      withSim(async (sim) => {
        const stop = new AbortController();
        process.once('SIGINT', () => stop.abort());
        process.once('SIGTERM', () => stop.abort());
        const tick = async () => {
          if (!sim.line.isOpen) await sim.reopen(1000).catch(() => undefined);
        };
        const watch = setInterval(() => void tick(), 500);
        const swiper =
          o.swipeEvery > 0
            ? setInterval(() => {
                const uid = Math.floor(Math.random() * 0xffffffff)
                  .toString(16)
                  .toUpperCase()
                  .padStart(8, '0');
                const address = sim.terminals.keys().next().value ?? 1;
                sim
                  .till(address)
                  .swipe(uid, o.amount)
                  .then(print, (err: Error) => print({ error: err.message }));
              }, o.swipeEvery)
            : undefined;
        print({ serving: [...sim.terminals.keys()], port: program.opts<GlobalOptions>().port });
        await new Promise<void>((resolve) =>
          stop.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        clearInterval(watch);
        clearInterval(swiper);
      }),
    );

  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  await buildCli().parseAsync(argv);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`sim-canteen-pos: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
