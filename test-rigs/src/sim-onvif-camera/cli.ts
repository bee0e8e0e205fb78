import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type SimOnvifCamera, startSimOnvifCamera } from './sim-camera.ts';

/**
 * sim-onvif-camera: a simulated ONVIF licence-plate camera on HTTP, for installers (point a box or any
 * ONVIF client at it), the demo site and fault hunting. It prints one JSON object per happening on
 * stdout (listening, subscribed, renewed, relay, auth-refused) and takes commands on stdin:
 *
 *   node --import tsx test-rigs/src/sim-onvif-camera/cli.ts serve --port 8080 --password secret
 *   > plate 京A12345 0.93            (standard Recognition/LicensePlate topic)
 *   > plate 京A12345 0.93 hikvision  (the Hikvision Vehicle topic)
 *   > reboot 2000 | slow 300 | silent on | refuse-auth on | fault PullMessages | junk | quit
 *
 * Firmware (StartFirmwareUpgrade, docs/protocols/onvif-plate-camera.md): `--vendor-key FILE` pins the
 * vendor's SM2 public key (PEM or hex), `--state-dir DIR` keeps the two slots across restarts, and
 *   > fw-status | fw-fault fail-at 100000 | fw-fault boot-fail on | fw-fault report-version 9.9.9 | fw-fault clear
 * (the status is also at GET /sim/status).
 */
function int(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`${name} must be an integer ${min}..${max}`);
    return n;
  };
}

const print = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value)}\n`);
};

const COMMANDS =
  'plate <PLATE> [likelihood] [onvif|hikvision], topic <TOPIC>, reboot [downMs], slow <ms>, silent on|off, refuse-auth on|off, fault <Operation>|clear, junk, fw-status, fw-fault fail-at <byte>|boot-fail on|off|report-version <x.y.z>|off|clear, quit';

/** A pinned vendor key from a file (PEM SubjectPublicKeyInfo or hex) or given as hex: uncompressed hex. */
export function vendorKeyHex(value: string): string {
  const text = /^(04)?[0-9a-fA-F]{128}$/.test(value.trim()) ? value : readFileSync(value, 'utf8');
  const pem = /-----BEGIN PUBLIC KEY-----([\s\S]+?)-----END PUBLIC KEY-----/.exec(text);
  // An EC SubjectPublicKeyInfo ends with the BIT STRING of the point: 0x04 || X || Y.
  const hex = pem
    ? Buffer.from((pem[1] as string).replace(/\s+/g, ''), 'base64')
        .subarray(-65)
        .toString('hex')
    : text.trim().toLowerCase();
  const full = hex.length === 128 ? `04${hex}` : hex;
  if (!/^04[0-9a-f]{128}$/.test(full))
    throw new InvalidArgumentError(`${value}: not an SM2 public key (PEM or hex)`);
  return full;
}

function firmwareFault(camera: SimOnvifCamera, args: string[]): void {
  const [what, value] = args;
  const on = value === 'on' || value === 'true' || value === '1';
  switch (what) {
    case 'fail-at': {
      const at = Number(value);
      if (!Number.isInteger(at) || at < 0) {
        print({ error: 'fail-at needs a byte offset' });
        return;
      }
      camera.setFirmwareFaults({ failTransferAt: at });
      break;
    }
    case 'boot-fail':
      camera.setFirmwareFaults({ bootFail: on });
      break;
    case 'report-version':
      camera.setFirmwareFaults({ reportVersion: value && value !== 'off' ? value : null });
      break;
    case 'clear':
      camera.setFirmwareFaults({ failTransferAt: null, bootFail: false, reportVersion: null });
      break;
    default:
      print({ error: 'fw-fault fail-at <byte> | boot-fail on|off | report-version <x.y.z>|off | clear' });
      return;
  }
  print({ firmwareFaults: camera.firmwareStatus().faults });
}

/** Runs one stdin command; returns false on quit. Unknown input is answered with an error line. */
export async function runCommand(camera: SimOnvifCamera, line: string): Promise<boolean> {
  const [command, ...args] = line.trim().split(/\s+/);
  const on = (v: string | undefined) => v === 'on' || v === 'true' || v === '1';
  switch (command) {
    case undefined:
    case '':
      return true;
    case 'plate': {
      const [plate, likelihood, flavour] = args;
      if (!plate) {
        print({ error: 'plate needs a plate number' });
        return true;
      }
      const l = likelihood === undefined ? 0.95 : Number(likelihood);
      if (!(l >= 0 && l <= 1)) {
        print({ error: 'likelihood must be 0..1' });
        return true;
      }
      const objectId = camera.emitPlate({
        plate,
        likelihood: l,
        flavour: flavour === 'hikvision' ? 'hikvision' : 'onvif',
      });
      print({ emitted: 'plate', objectId });
      return true;
    }
    case 'topic':
      camera.emitEvent({
        topic: args[0] ?? 'tns1:Device/Trigger/DigitalInput',
        utcTime: camera.now(),
        source: {},
        key: {},
        data: { LogicalState: 'true' },
      });
      print({ emitted: 'topic', topic: args[0] });
      return true;
    case 'reboot':
      await camera.reboot(args[0] ? Number(args[0]) : 1000);
      return true;
    case 'slow':
      camera.setSlow(Number(args[0] ?? 0));
      return true;
    case 'silent':
      camera.setSilent(on(args[0]));
      return true;
    case 'refuse-auth':
      camera.setRefuseAllAuth(on(args[0]));
      return true;
    case 'fault':
      if (!args[0] || args[0] === 'clear') {
        for (const op of [
          'PullMessages',
          'Renew',
          'CreatePullPointSubscription',
          'SetRelayOutputState',
          'GetSnapshotUri',
        ])
          camera.setFault(op, null);
      } else {
        camera.setFault(args[0], {
          code: 'Receiver',
          subcodes: ['ter:Action'],
          reason: `simulated fault on ${args[0]}`,
        });
      }
      return true;
    case 'junk':
      camera.junkNext();
      return true;
    case 'fw-status':
      print({ firmware: camera.firmwareStatus() });
      return true;
    case 'fw-fault':
      firmwareFault(camera, args);
      return true;
    case 'quit':
      return false;
    default:
      print({ error: `unknown command "${command}"; commands: ${COMMANDS}` });
      return true;
  }
}

export function buildCli(): Command {
  const program = new Command('sim-onvif-camera')
    .description(
      'A simulated ONVIF plate camera (Device, Media, Events pull points, DeviceIO relay) over HTTP SOAP 1.2.',
    )
    .showHelpAfterError();
  program
    .command('serve')
    .description(`serve until stdin closes or "quit"; stdin commands: ${COMMANDS}`)
    .option('-p, --port <port>', 'TCP port (0: any free port)', int('port', 0, 65_535), 8080)
    .option('-H, --host <host>', 'address to listen on', '127.0.0.1')
    .option('-u, --user <name>', 'ONVIF user', 'admin')
    .option('-P, --password <password>', 'its password (WS-UsernameToken PasswordDigest)', 'camera-pass')
    .option('--relay <token>', 'relay output token', 'relay_barrier')
    .option(
      '--max-pull-wait <ms>',
      'longest a PullMessages is held',
      int('max-pull-wait', 0, 600_000),
      60_000,
    )
    .option(
      '--max-lease <ms>',
      'longest subscription lease granted',
      int('max-lease', 1000, 3_600_000),
      600_000,
    )
    .option(
      '--clock-skew <ms>',
      'camera clock minus real time',
      int('clock-skew', -86_400_000, 86_400_000),
      0,
    )
    .addOption(new Option('--slow <ms>', 'delay every answer').argParser(int('slow', 0, 600_000)).default(0))
    .option(
      '--vendor-key <file|hex>',
      'pin a vendor SM2 public key (PEM file or hex) for firmware; repeatable',
      (value: string, all: string[]) => [...all, vendorKeyHex(value)],
      [] as string[],
    )
    .option('--state-dir <dir>', 'keep the firmware slots here across restarts')
    .option('--model <model>', 'the camera model it reports (firmware manifests name models)', 'LPR-Cam-1')
    .option('--firmware-version <x.y.z>', 'factory firmware version', '1.0.0')
    .option(
      '--firmware-reboot <ms>',
      'how long a firmware reboot keeps it off the network',
      int('firmware-reboot', 0, 600_000),
      1000,
    )
    .action(
      async (o: {
        port: number;
        host: string;
        user: string;
        password: string;
        relay: string;
        maxPullWait: number;
        maxLease: number;
        clockSkew: number;
        slow: number;
        vendorKey: string[];
        stateDir?: string;
        model: string;
        firmwareVersion: string;
        firmwareReboot: number;
      }) => {
        const camera = await startSimOnvifCamera({
          port: o.port,
          host: o.host,
          username: o.user,
          password: o.password,
          relayTokens: [o.relay],
          maxPullWaitMs: o.maxPullWait,
          maxLeaseMs: o.maxLease,
          clockSkewMs: o.clockSkew,
          vendorPublicKeys: o.vendorKey,
          identity: { model: o.model, firmwareVersion: o.firmwareVersion },
          firmwareRebootMs: o.firmwareReboot,
          ...(o.stateDir ? { stateDir: o.stateDir } : {}),
        });
        camera.setSlow(o.slow);
        for (const name of ['subscribed', 'renewed', 'auth-refused', 'rebooted', 'firmware-upload']) {
          camera.on(name, (detail: unknown) => print({ event: name, detail }));
        }
        camera.on('relay', (c: { token: string; state: string }) =>
          print({ event: 'relay', token: c.token, state: c.state }),
        );
        print({ listening: camera.deviceUrl });
        const lines = createInterface({ input: process.stdin });
        for await (const line of lines) {
          if (!(await runCommand(camera, line))) break;
        }
        lines.close();
        await camera.close();
      },
    );
  return program;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await buildCli().parseAsync(process.argv);
}
