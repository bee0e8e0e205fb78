import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateSm2KeyPair } from '../cloud-sync/src/crypto/sm2.ts';
import { initBoxKeys } from '../gateway-agent/src/keys/box-keys.ts';

/**
 * Cold start of `sceneway start` (a fresh node process: tsx, config, key unsealing with scrypt, ledger
 * boot check, broker, admin API) until it prints its ready line, and its RSS right after. Goals: ready
 * in at most 1 s, RSS at most 120 MB.
 */
const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 5);
const BIN = fileURLToPath(new URL('../gateway-agent/bin/sceneway.js', import.meta.url));
const PASSPHRASE = 'bench-passphrase';

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

function startOnce(configPath: string): Promise<{ readyMs: number; rssMb: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, 'start', '--config', configPath, '--log-level', 'warn'], {
      env: { ...process.env, SCENEWAY_KEY_PASSPHRASE: PASSPHRASE },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('sceneway ready')) {
        const readyMs = performance.now() - t0;
        const rss = rssMb(child.pid ?? 0);
        child.kill('SIGTERM');
        child.once('exit', () => resolve({ readyMs, rssMb: rss }));
      }
    });
    child.once('exit', (code) => {
      if (!out.includes('sceneway ready'))
        reject(new Error(`sceneway start exited (${code}) before ready: ${err.slice(-500)}`));
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

export async function run(): Promise<Record<string, unknown>> {
  // Measure the bundle of the current code, as `npm install` builds it for a box.
  execFileSync(process.execPath, [fileURLToPath(new URL('../gateway-agent/build.mjs', import.meta.url))], {
    stdio: 'ignore',
  });
  const dir = mkdtempSync(join(tmpdir(), 'sceneway-bench-startup-'));
  try {
    initBoxKeys({ dir: join(dir, 'keys'), passphrase: PASSPHRASE });
    const config = {
      version: 1,
      site: { id: 'bench-site' },
      box: { id: 'bench-box' },
      bank: { url: 'http://127.0.0.1:9', publicKeyHex: generateSm2KeyPair().publicKeyHex },
      ledger: { path: join(dir, 'ledger.db'), freeSpaceFloorMb: 0 },
      keys: { dir: join(dir, 'keys') },
      broker: { tcp: { host: '127.0.0.1', port: 0 } },
      admin: { host: '127.0.0.1', port: 0 },
    };
    const configPath = join(dir, 'box.json');
    writeFileSync(configPath, JSON.stringify(config));
    const runs: Array<{ readyMs: number; rssMb: number }> = [];
    for (let i = 0; i < RUNS; i++) runs.push(await startOnce(configPath));
    const readyMs = median(runs.map((r) => r.readyMs));
    const rss = median(runs.map((r) => r.rssMb));
    const rows = [
      ['measure', 'median', 'goal'],
      ['cold start to ready (ms)', readyMs.toFixed(0), '<= 1000'],
      ['RSS after start (MB)', rss.toFixed(1), '<= 120'],
    ];
    for (const [a, b, c] of rows)
      process.stdout.write(`${String(a).padEnd(30)} ${String(b).padStart(8)}  ${c}\n`);
    return {
      runs,
      medianReadyMs: readyMs,
      medianRssMb: rss,
      goal: { readyMs: 1000, rssMb: 120, met: readyMs <= 1000 && rss <= 120 },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
