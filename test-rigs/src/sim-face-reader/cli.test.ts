import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { makeTestVendor, verifiedTestFirmware } from '@sceneway/firmware-tools/testing';
import { waitFor } from '@sceneway/gateway-agent/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { type FaceDriverRig, startFaceDriverRig } from './driver-rig.ts';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
const sim = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', cli, ...args], { timeout: 60_000 });

let rig: FaceDriverRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

describe('sim-face-reader CLI', () => {
  it('prints help listing the commands and fault modes', async () => {
    const { stdout } = await sim('--help');
    for (const word of [
      'recognize',
      'flood',
      'status',
      'disconnect',
      'duplicate',
      'malformed',
      'wrong-password',
      'run',
      '--vendor-key',
      '--fail-transfer-at',
      '--boot-fail',
      '--report-version',
    ])
      expect(stdout).toContain(word);
  });

  it('recognizes through the real driver and broker, with faults on, and prints the door commands', async () => {
    rig = await startFaceDriverRig({
      decideAccess: (_id, r) =>
        r.personId === 'EMP-7' ? { outcome: 'open' } : { outcome: 'deny', reason: 'UNKNOWN_PERSON' },
    });
    await rig.driver.start();
    const login = rig.login(0);
    const args = [
      '--url',
      login.url,
      '--reader',
      login.readerId,
      '--username',
      login.username,
      '--password',
      login.password,
    ];
    const open = await sim(...args, '--fault', 'malformed,disconnect,duplicate', 'recognize', 'EMP-7');
    expect(JSON.parse(open.stdout.trim().split('\n')[0] ?? '')).toMatchObject({
      action: 'open',
      outcome: 'done',
    });
    const flood = await sim(...args, 'flood', '6', 'EMP-7', 'EMP-8');
    const actions = flood.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { action: string }).action);
    expect(actions).toEqual(['open', 'deny', 'open', 'deny', 'open', 'deny']);
    await expect(sim(...args, '--fault', 'wrong-password', 'status')).rejects.toMatchObject({
      stderr: expect.stringMatching(/Bad username or password|Not authorized/i),
    });
  }, 120_000);

  it('run: takes a firmware update through the real driver, pinning the vendor PEM, and prints its reports', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-face-cli-'));
    try {
      const vendor = makeTestVendor();
      writeFileSync(join(dir, 'vendor.pub.pem'), vendor.publicKeyPem);
      rig = await startFaceDriverRig({ decideAccess: () => ({ outcome: 'open' }), firmwareHttp: {} });
      await rig.driver.start();
      const login = rig.login(0);
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          cli,
          '--url',
          login.url,
          '--reader',
          login.readerId,
          '--username',
          login.username,
          '--state-dir',
          join(dir, 'state'),
          '--vendor-key',
          join(dir, 'vendor.pub.pem'),
          '--fw-version',
          '1.2.0',
          'run',
        ],
        {
          env: { ...process.env, SIM_READER_PASSWORD: login.password },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      const lines: string[] = [];
      let buffered = '';
      child.stdout.on('data', (b: Buffer) => {
        buffered += b.toString('utf8');
        const parts = buffered.split('\n');
        buffered = parts.pop() ?? '';
        lines.push(...parts);
      });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      try {
        const driver = rig.driver;
        await waitFor(
          async () => (await driver.firmware.describe('gate-1')).version === '1.2.0',
          'the CLI reader',
        );
        const image = await verifiedTestFirmware({
          dir,
          vendor,
          fields: {
            family: 'face-reader',
            models: ['SFR-200'],
            version: '1.3.0',
            minPreviousVersion: '1.0.0',
          },
        });
        const signal = new AbortController().signal;
        expect(await driver.firmware.install('gate-1', image, { signal })).toEqual({
          outcome: 'installed',
          version: '1.3.0',
        });
        await waitFor(() => lines.some((l) => l.includes('"rebooting"')), 'the printed reports');
        const states = lines.flatMap((l) => {
          const parsed = JSON.parse(l) as { firmware?: { state: string } };
          return parsed.firmware ? [parsed.firmware.state] : [];
        });
        expect(states).toEqual(
          expect.arrayContaining(['downloading', 'verifying', 'activating', 'rebooting']),
        );
      } finally {
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
