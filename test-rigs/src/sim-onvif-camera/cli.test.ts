import { execFile, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { onvifCameraConfigSchema, onvifCameraDriver } from '@sceneway/device-drivers';
import { createTestDriverContext } from '@sceneway/device-drivers/testing';
import { describe, expect, it } from 'vitest';
import { vendorKeyHex } from './cli.ts';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));

describe('sim-onvif-camera CLI', () => {
  it('prints help naming the serve command and its stdin commands', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', cli, 'serve', '--help'], {
      timeout: 30_000,
    });
    for (const word of [
      '--password',
      'plate',
      'reboot',
      'refuse-auth',
      'hikvision',
      '--vendor-key',
      'fw-fault',
    ])
      expect(stdout).toContain(word);
  });

  it('pins a vendor key given as a PEM file (what openssl and sceneway-fw keygen write) or as hex', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-onvif-key-'));
    const pem = join(dir, 'vendor.pub.pem');
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'SM2' });
    await writeFile(pem, publicKey.export({ type: 'spki', format: 'pem' }));
    const point = (publicKey.export({ type: 'spki', format: 'der' }) as Buffer).subarray(-65).toString('hex');
    expect(vendorKeyHex(pem)).toBe(point);
    expect(vendorKeyHex(point)).toBe(point);
    expect(vendorKeyHex(point.slice(2).toUpperCase())).toBe(point);
    await writeFile(join(dir, 'junk'), 'not a key');
    expect(() => vendorKeyHex(join(dir, 'junk'))).toThrow(/not an SM2 public key/);
  });

  it('serves a camera that takes a plate on stdin and prints what happened as JSON lines', async () => {
    const child = spawn(process.execPath, [
      '--import',
      'tsx',
      cli,
      'serve',
      '--port',
      '0',
      '--max-pull-wait',
      '200',
    ]);
    const lines = createInterface({ input: child.stdout });
    const seen: Array<Record<string, unknown>> = [];
    const next = (match: (l: Record<string, unknown>) => boolean) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const found = seen.find(match);
        if (found) return resolve(found);
        const on = (line: string) => {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          seen.push(parsed);
          if (match(parsed)) {
            lines.off('line', on);
            resolve(parsed);
          }
        };
        lines.on('line', on);
      });
    const env = `SIM_ONVIF_CLI_PASSWORD_${process.pid}`;
    process.env[env] = 'camera-pass';
    const plates: string[] = [];
    const test = createTestDriverContext({
      transports: { open: () => Promise.reject(new Error('no byte transports')) },
      decidePlate: (_id, s) => {
        plates.push(s.plate);
        return { outcome: 'open' };
      },
    });
    try {
      const { listening } = await next((l) => 'listening' in l);
      // An ONVIF client that is not the simulator's own code: the box's driver, pointed at the printed URL.
      const driver = onvifCameraDriver.create(
        test.ctx,
        onvifCameraConfigSchema.parse({
          id: 'cli-cam',
          lane: 'entry',
          deviceUrl: String(listening),
          username: 'admin',
          passwordEnv: env,
          relayToken: 'relay_barrier',
        }),
      );
      await driver.start();
      await next((l) => l.event === 'subscribed');
      child.stdin.write('plate 京A12345 0.9\n');
      expect(await next((l) => l.event === 'relay')).toMatchObject({
        token: 'relay_barrier',
        state: 'active',
      });
      expect(plates).toEqual(['京A12345']);
      child.stdin.write('bogus\n');
      expect(await next((l) => 'error' in l)).toMatchObject({
        error: expect.stringContaining('unknown command'),
      });
      await driver.stop();
      child.stdin.write('quit\n');
      await new Promise((resolve) => child.once('exit', resolve));
    } finally {
      child.kill();
      delete process.env[env];
    }
  });
  it('serves a camera with a pinned vendor key and a state dir; fw-fault and fw-status on stdin', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-onvif-cli-fw-'));
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'SM2' });
    await writeFile(join(dir, 'vendor.pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    const args = ['serve', '--port', '0', '--vendor-key', join(dir, 'vendor.pub.pem'), '--state-dir', dir];
    const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args]);
    const lines = createInterface({ input: child.stdout });
    const queue: Array<Record<string, unknown>> = [];
    const waiting: Array<(l: Record<string, unknown>) => void> = [];
    lines.on('line', (line) => {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      const w = waiting.shift();
      if (w) w(parsed);
      else queue.push(parsed);
    });
    const next = () =>
      new Promise<Record<string, unknown>>((resolve) => {
        const q = queue.shift();
        if (q) resolve(q);
        else waiting.push(resolve);
      });
    try {
      const { listening } = await next();
      child.stdin.write('fw-fault boot-fail on\n');
      expect(await next()).toEqual({ firmwareFaults: { bootFail: true } });
      child.stdin.write('fw-status\n');
      expect(await next()).toMatchObject({
        firmware: { version: '1.0.0', signed: true, slots: { active: 'A' }, faults: { bootFail: true } },
      });
      const status = await fetch(new URL('/sim/status', String(listening)));
      expect(await status.json()).toMatchObject({ firmware: { version: '1.0.0' } });
      child.stdin.write('quit\n');
      await new Promise((resolve) => child.once('exit', resolve));
    } finally {
      child.kill();
    }
  });
});
