import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sm2PublicKeyToPem } from '@sceneway/cloud-sync';
import { afterEach, describe, expect, it } from 'vitest';
import { type DriverHarness, startDriverHarness } from './driver-harness.ts';
import { readChunkLog, resentAcknowledged } from './sim-firmware.ts';
import { makeTestFirmware } from './test-firmware-image.ts';

/**
 * A power cut at the till in the middle of a transfer: the simulator runs as its own process (the CLI,
 * `serve`), is killed with SIGKILL at a point that differs per seed, and is started again on the same
 * state dir, as a till comes back from a power cut with what its flash held. The driver's install runs
 * on throughout and must resume from the till's own offset: the chunk log the simulator writes to its
 * state dir, across both processes, shows no acknowledged offset heard twice.
 */
const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
const image = makeTestFirmware({ version: '3.1.0', size: 384 * 1024 + 17 });

let harness: DriverHarness | undefined;
const children = new Set<ChildProcess>();
const debug = process.env.FWPOS_DEBUG === '1';
const say =
  (level: string) =>
  (o: unknown, m?: string): void => {
    process.stderr.write(`${level} ${m ?? ''} ${JSON.stringify(o)}\n`);
  };
const debugLogger = { debug: say('D'), info: say('I'), warn: say('W'), error: say('E') };
const dirs: string[] = [];
afterEach(async () => {
  for (const c of children) c.kill('SIGKILL');
  children.clear();
  await harness?.close();
  harness = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function startSimProcess(h: DriverHarness, dir: string, pem: string): Promise<ChildProcess> {
  const key = h.simLine.keys?.[1];
  if (!key) throw new Error('no till key');
  const child = spawn(process.execPath, [
    '--import',
    'tsx',
    cli,
    '--port',
    h.pair.b,
    '--baud',
    '115200',
    '--key',
    key.key.toString('hex'),
    '--firmware-version',
    '3.0.0',
    '--vendor-key',
    pem,
    '--state-dir',
    dir,
    '--reboot-ms',
    '200',
    'serve',
  ]);
  children.add(child);
  child.once('exit', () => children.delete(child));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    if (debug) child.stderr?.on('data', (b: Buffer) => process.stderr.write(`sim! ${b}`));
    child.stdout?.on('data', (b: Buffer) => {
      if (debug) process.stderr.write(`sim: ${b}`);
      out += b.toString();
      if (out.includes('"serving"')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`simulator exited (${code}) before serving`)));
  });
  return child;
}

describe('POS firmware: a power cut at the till mid-transfer', () => {
  for (const seed of [7, 11]) {
    it(`resumes after the simulator process is killed and restarted (seed ${seed})`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pos-fw-cut-'));
      dirs.push(dir);
      const pem = join(dir, 'vendor.pub.pem');
      writeFileSync(pem, sm2PublicKeyToPem(image.vendor.publicKeyHex));
      const stateDir = join(dir, 'till');
      harness = await startDriverHarness({
        decideSale: () => ({ outcome: 'approved' }),
        config: { ackTimeoutMs: 400, silenceTimeoutMs: 1500 },
        ...(debug ? { logger: debugLogger } : {}),
      });
      const h = harness;
      let sim = await startSimProcess(h, stateDir, pem);
      await h.driver.start();
      await h.waitForEvent((e) => e.type === 'terminal-up', 10_000, 0);
      const cutAt = Math.floor((((seed * 2654435761) % 2 ** 32) / 2 ** 32) * image.manifest.size * 0.8);
      let cut: Promise<void> | null = null;
      const result = h.driver.firmware!.install('till-1', image, {
        signal: new AbortController().signal,
        onProgress: (p) => {
          if (debug) process.stderr.write(`progress ${JSON.stringify(p)}\n`);
          if (cut || p.bytesDone < cutAt) return;
          cut = (async () => {
            const gone = new Promise((resolve) => sim.once('exit', resolve));
            sim.kill('SIGKILL');
            await gone;
            // The till's end of the line went with it (socat ends the pair when one side closes): the
            // cable is plugged back, as the till's port comes back with its power.
            await h.unplug();
            await h.replug();
            sim = await startSimProcess(h, stateDir, pem);
          })();
        },
      });
      expect(await result).toEqual({ outcome: 'installed', version: '3.1.0' });
      expect(cut).not.toBeNull();
      await cut;
      const log = readChunkLog(stateDir);
      expect(log.length).toBeGreaterThan(0);
      expect(resentAcknowledged(log)).toBe(0);
      // Both processes heard chunks: the second one resumed at the first one's last ack, not at 0.
      const acks = log.filter((e) => e.kind === 'ack');
      expect(acks.at(-1)).toEqual({ kind: 'ack', next: image.manifestBytes.length + image.manifest.size });
      expect(log.filter((e) => e.kind === 'chunk' && e.offset === 0)).toHaveLength(1);
    });
  }
});
