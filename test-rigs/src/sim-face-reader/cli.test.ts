import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
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
});
