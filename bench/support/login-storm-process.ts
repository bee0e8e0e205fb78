import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { connectPacket } from '../../gateway-agent/src/broker/broker-test-support.ts';

/**
 * The attacker of the isolation bench, in its own process (an attacker is another machine on the LAN):
 * `concurrency` loops send bad MQTT logins back to back for `seconds`, each with a fresh username,
 * from `addresses` loopback addresses in turn (a LAN attacker has a few), or from a fresh address
 * every time when `addresses` is 0 (the attacker's best strategy against per-address rules, possible
 * only on loopback), and it prints one JSON line: attempts and CONNACK codes.
 */
export interface StormResult {
  attempts: number;
  codes: Record<string, number>;
  seconds: number;
}

export function spawnLoginStorm(port: number, seconds: number, concurrency: number, addresses: number) {
  // At the lowest CPU priority: on a site the attacker is another machine, and its CPU is not the
  // box's. Here it shares two cores with the box, so unniced it would measure its own load.
  const child = spawn(
    'nice',
    [
      '-n',
      '19',
      process.execPath,
      '--import',
      'tsx',
      fileURLToPath(import.meta.url),
      JSON.stringify({ port, seconds, concurrency, addresses }),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  return new Promise<StormResult>((resolve, reject) => {
    child.once('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (line) resolve(JSON.parse(line.slice(7)) as StormResult);
      else reject(new Error(`login storm process exited (code ${code}) without a result`));
    });
  });
}

function attempt(port: number, localAddress: string, n: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    const received: Buffer[] = [];
    const finish = (code: string) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(code);
    };
    const timer = setTimeout(() => finish('timeout'), 5000);
    socket.on('error', () => finish('error'));
    socket.on('close', () => finish('closed'));
    socket.on('data', (c) => {
      received.push(c);
      const bytes = Buffer.concat(received);
      if (bytes.length >= 4) finish(String(bytes[3]));
    });
    socket.once('connect', () =>
      socket.write(connectPacket({ clientId: `storm-${n}`, username: `guess-${n}`, password: `pw-${n}` })),
    );
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { port, seconds, concurrency, addresses } = JSON.parse(process.argv[2] ?? '{}') as {
    port: number;
    seconds: number;
    concurrency: number;
    addresses: number;
  };
  const codes: Record<string, number> = {};
  let attempts = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, k) => {
      for (let n = 0; performance.now() < deadline; n++) {
        const i = k * 100_000 + n;
        const address =
          addresses > 0
            ? `127.0.9.${2 + ((k + n) % addresses)}`
            : `127.${1 + (k % 250)}.${Math.floor(n / 250) % 250}.${2 + (n % 250)}`;
        const code = await attempt(port, address, i);
        attempts++;
        codes[code] = (codes[code] ?? 0) + 1;
      }
    }),
  );
  const result: StormResult = { attempts, codes, seconds: (performance.now() - started) / 1000 };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`, () => process.exit(0));
}
