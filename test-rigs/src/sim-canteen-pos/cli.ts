import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type CanteenPosSim, type SimFirmwareConfig, startCanteenPosSim } from './sim.ts';
import { SimFirmware, vendorKeyFromText } from './sim-firmware.ts';
import { keyCheckValue, type OfflineRecord, TILL_KEY_BYTES, type TillKey } from './wire/index.ts';

/**
 * sim-canteen-pos: a canteen POS terminal on a serial line, for installers (test a port without a real
 * till), the demo site and manual fault hunting. Output is one JSON object per answer on stdout.
 *
 *   node --import tsx test-rigs/src/sim-canteen-pos/cli.ts --port /tmp/pty/b --key-file till-7.key swipe 04A1B2C3 1250
 */
const FAULTS = [
  'junk',
  'bad-crc',
  'split',
  'nak-storm',
  'silence',
  'duplicate',
  'drop-answer',
  'forge-mac',
  'forge-record-mac',
  'wrong-proof',
] as const;
const ATTACKS = ['bad-mac', 'no-mac', 'old-counter', 'replay'] as const;
type Fault = (typeof FAULTS)[number];

interface GlobalOptions {
  port: string;
  baud: number;
  mode: 'rs232' | 'rs485';
  address: number[];
  timeout: number;
  fault: Fault[];
  receipt: number;
  protocol?: 1 | 2;
  keyFile?: string;
  key?: string;
  keyVersion: number;
  firmwareVersion: string;
  vendorKey?: string[];
  stateDir?: string;
  model: string;
  hardware: string;
  failTransferAt?: number;
  bootFail?: boolean;
  reportVersion?: string;
  rebootMs: number;
}

/** Firmware (doc §13): on when a vendor key is pinned (a till with no pinned key takes no image). */
function firmwareOf(opts: GlobalOptions): SimFirmwareConfig | undefined {
  if (!opts.vendorKey?.length) return undefined;
  const vendorKeys = opts.vendorKey.map((path) => {
    try {
      return vendorKeyFromText(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new InvalidArgumentError(`--vendor-key ${path}: ${(err as Error).message}`);
    }
  });
  return {
    vendorKeys,
    model: opts.model,
    hardware: opts.hardware,
    rebootMs: opts.rebootMs,
    ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
    faults: {
      ...(opts.failTransferAt !== undefined ? { failTransferAt: opts.failTransferAt } : {}),
      ...(opts.bootFail ? { bootFail: true } : {}),
      ...(opts.reportVersion ? { reportVersion: opts.reportVersion } : {}),
    },
  };
}

/** A till key as `sceneway terminal provision` shows it: 64 hex digits (spaces and line breaks allowed). */
function parseKey(text: string, from: string): Buffer {
  const digits = text.replace(/\s+/g, '');
  if (!/^[0-9A-Fa-f]+$/.test(digits) || digits.length !== TILL_KEY_BYTES * 2) {
    throw new InvalidArgumentError(`${from} must hold the till key as ${TILL_KEY_BYTES * 2} hex digits`);
  }
  return Buffer.from(digits, 'hex');
}

function tillKeyOf(opts: GlobalOptions): TillKey | undefined {
  if (opts.keyFile && opts.key) throw new InvalidArgumentError('give --key-file or --key, not both');
  let key: Buffer | undefined;
  if (opts.keyFile) {
    let text: string;
    try {
      text = readFileSync(opts.keyFile, 'utf8');
    } catch (err) {
      throw new Error(`cannot read the key file ${opts.keyFile}: ${(err as Error).message}`);
    }
    key = parseKey(text, `key file ${opts.keyFile}`);
  } else if (opts.key) key = parseKey(opts.key, '--key');
  return key ? { version: opts.keyVersion, key } : undefined;
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
      if (fault === 'forge-mac') terminal.faults.forgeNextMac = true;
      if (fault === 'forge-record-mac') terminal.faults.forgeRecordMacs = true;
      if (fault === 'wrong-proof') terminal.faults.wrongProof = true;
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
    .addOption(
      new Option(
        '--protocol <n>',
        'protocol version: 2 = sessions and MACs (default when a key is given), 1 = legacy, unauthenticated',
      )
        .choices(['1', '2'])
        .argParser((v) => Number(v) as 1 | 2),
    )
    .option(
      '-k, --key-file <path>',
      'file holding the till key as 64 hex digits (from `sceneway terminal provision`)',
    )
    .option(
      '--key <hex>',
      'the till key as 64 hex digits (prefer --key-file: a command line is visible to others)',
    )
    .option('--key-version <n>', 'KEY_VERSION of the till key', int('key-version', 1, 0xffff), 1)
    .option(
      '--firmware-version <v>',
      'version the till runs (its factory image, or what its state dir says)',
      'sim-1.0',
    )
    .option(
      '--vendor-key <pem>',
      'firmware (doc §13): a vendor public key the till pins (PEM file; repeat for several); without one the till takes no firmware',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option(
      '--state-dir <dir>',
      'firmware slots and staged chunks live here: they survive a restart (a power cut)',
    )
    .option('--model <name>', 'till model reported in STATUS and checked against a manifest', 'CP-300')
    .option('--hardware <rev>', 'till hardware revision', 'rev-b')
    .option(
      '--fail-transfer-at <byte>',
      'firmware fault: stop answering once when a chunk carries this byte offset',
      int('fail-transfer-at', 0, 0xffffffff),
    )
    .option('--boot-fail', 'firmware fault: the new image fails to boot; the till falls back to the old slot')
    .option('--report-version <v>', 'firmware fault: report this version whatever runs')
    .option(
      '--reboot-ms <ms>',
      'how long a reboot after FW_ACTIVATE takes',
      int('reboot-ms', 0, 600_000),
      300,
    )
    .option(
      '-f, --fault <list>',
      `inject faults, comma separated: ${FAULTS.join(', ')} (split = frames in pieces, duplicate = send a request twice, forge-mac = next money frame with a wrong MAC, forge-record-mac = offline records with forged RECORD_MACs, wrong-proof = a wrong PROOF in SESSION_CONFIRM)`,
      faultList,
      [],
    )
    .showHelpAfterError();

  const withSim = async (fn: (sim: CanteenPosSim, opts: GlobalOptions) => Promise<void>) => {
    const opts = program.opts<GlobalOptions>();
    const key = tillKeyOf(opts);
    const protocol = opts.protocol ?? (key ? 2 : 1);
    if (protocol === 2 && !key) {
      throw new InvalidArgumentError('protocol 2 needs the till key: --key-file <path> (or --key <hex>)');
    }
    const sim = await startCanteenPosSim({
      protocol,
      ...(key ? { key } : {}),
      path: opts.port,
      baudRate: opts.baud,
      mode: opts.mode,
      addresses: opts.address,
      answerTimeoutMs: opts.timeout,
      firstReceiptNo: opts.receipt,
      firmwareVersion: opts.firmwareVersion,
      ...(firmwareOf(opts) ? { firmware: firmwareOf(opts)! } : {}),
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
    .argument(
      '<amountFen>',
      'amount in fen (0 is sent as is: the box must NAK it FIELD_INVALID)',
      int('amountFen', 0, 0xffffffff),
    )
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
    .command('status')
    .description('ask the box what became of a receipt (SALE_STATUS): approved, declined or unknown')
    .argument('<receipt>', 'receipt number', int('receipt', 0, 0xffffffff))
    .action((receipt: number) => withSim(async (sim) => print(await sim.till().recover(receipt, 3))))
    .addHelpText(
      'after',
      '\nUse it after a sale that got no answer (doc §7.14): approved = the diner was charged (print or void),\ndeclined = nothing was charged, unknown = the box never decided it. Never guess.',
    );

  program
    .command('key-check')
    .description('print the check value (KCV) of the till key, to compare with what provisioning showed')
    .action(() => {
      const key = tillKeyOf(program.opts<GlobalOptions>());
      if (!key) throw new InvalidArgumentError('key-check needs --key-file <path> (or --key <hex>)');
      print({ keyVersion: key.version, kcv: keyCheckValue(key.key) });
    });

  program
    .command('attack')
    .description(
      `v2 attack test (loopback and your own box only): send one sale the box must refuse and print its answer: ${ATTACKS.join(', ')}`,
    )
    .addArgument(
      new Command()
        .createArgument(
          '<kind>',
          'bad-mac | no-mac | old-counter | replay (a captured sale, sent again later)',
        )
        .choices(ATTACKS),
    )
    .option('--uid <uid>', 'card UID of the forged sale', '04A1B2C3')
    .option('--amount <fen>', 'amount of the forged sale', int('amount', 1, 0xffffffff), 49_999)
    .action((kind: (typeof ATTACKS)[number], o: { uid: string; amount: number }) =>
      withSim(async (sim) => {
        const till = sim.till();
        // A genuine sale first: it opens the session, and it is what an eavesdropper captures.
        print({ genuine: await till.swipe(o.uid.toUpperCase(), o.amount) });
        const terminal = till.terminal;
        if (kind === 'replay') {
          const captured = terminal.sentRequests.find((f) => f[3] === 0x41);
          if (!captured) throw new Error('no sale frame was captured');
          for (let i = 0; i < 8; i++) await till.queryBlacklistVersion().catch(() => undefined);
          print({ attack: kind, answer: await terminal.replay(captured) });
          return;
        }
        const sale = {
          type: 'sale-request' as const,
          receiptNo: till.nextReceiptNo,
          amountFen: o.amount,
          credential: { kind: 'card' as const, uidHex: o.uid.toUpperCase() },
          terminalTime: Math.floor(Date.now() / 1000),
        };
        print({ attack: kind, answer: await terminal.sendForged(sale, kind) });
      }),
    );

  program
    .command('firmware-status')
    .description(
      'print what the till holds (doc §13): running version, signed, the other slot, staging, last result (from --state-dir)',
    )
    .action(() => {
      const opts = program.opts<GlobalOptions>();
      const fw = firmwareOf(opts);
      if (!fw?.stateDir) throw new InvalidArgumentError('firmware-status needs --vendor-key and --state-dir');
      const status = new SimFirmware({
        ...fw,
        stateDir: fw.stateDir,
        model: opts.model,
        hardware: opts.hardware,
        initialVersion: opts.firmwareVersion,
      }).status();
      print({ ...status, ...(status.digest ? { digest: status.digest.toString('hex') } : {}) });
    });

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
        // Firmware: one line each time a till comes back from a reboot, with what it now runs.
        let reboots = 0;
        const fwWatch = setInterval(() => {
          const total = [...sim.terminals.values()].reduce((n, t) => n + t.reboots, 0);
          if (total === reboots) return;
          reboots = total;
          for (const [address, t] of sim.terminals) {
            const f = t.firmware;
            if (f)
              print({
                address,
                firmware: { version: f.runningVersion, signed: f.runningSigned, lastResult: f.lastResult },
              });
          }
        }, 200);
        await new Promise<void>((resolve) =>
          stop.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        clearInterval(watch);
        clearInterval(swiper);
        clearInterval(fwWatch);
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
