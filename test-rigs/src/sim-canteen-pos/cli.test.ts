import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { openPtyPair, type PtyPair } from '../pty/pty-pair.ts';
import { DocBoxPeer } from './doc-box-peer.ts';
import { type DriverHarness, startDriverHarness } from './driver-harness.ts';
import { keyCheckValue } from './wire/index.ts';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
const sim = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', cli, ...args], { timeout: 30_000 });

let harness: DriverHarness | undefined;
let box: DocBoxPeer | undefined;
let pair: PtyPair | undefined;
afterEach(async () => {
  await harness?.close();
  await box?.close();
  await pair?.close();
  harness = box = pair = undefined;
});

/** The key the harness provisioned for its till at address 1, as an installer types it into the till. */
const tillKeyArgs = (h: DriverHarness): string[] => {
  const key = h.simLine.keys?.[1];
  if (!key) throw new Error('the harness provisioned no key for address 1');
  return ['--key', key.key.toString('hex'), '--key-version', String(key.version)];
};

const jsonLines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('sim-canteen-pos CLI', () => {
  it('prints help listing the commands and faults', async () => {
    const { stdout } = await sim('--help');
    for (const word of [
      'swipe',
      'qr',
      'upload',
      'serve',
      'nak-storm',
      'bad-crc',
      'status',
      'key-check',
      'attack',
    ])
      expect(stdout).toContain(word);
    for (const option of ['--protocol', '--key-file', '--key ', '--key-version', 'forge-mac'])
      expect(stdout).toContain(option);
    const status = await sim('status', '--help');
    expect(status.stdout).toMatch(/never guess/i);
  });

  it('speaks v2 with a key file: sale, status of the receipt, a refused attack, and the KCV', async () => {
    const key = randomBytes(32);
    const keyFile = join(tmpdir(), `till-${process.pid}.key`);
    writeFileSync(keyFile, `${key.toString('hex').toUpperCase()}\n`, { mode: 0o600 });
    pair = await openPtyPair();
    box = await DocBoxPeer.start({ path: pair.a, keys: { 1: [{ version: 1, key }] } });
    const port = ['--port', pair.b, '--baud', '115200', '--key-file', keyFile];
    const swipe = jsonLines((await sim(...port, '--receipt', '40', 'swipe', '04A1B2C3', '1250')).stdout);
    expect(swipe).toMatchObject([{ type: 'sale-result', receiptNo: 40, decision: { outcome: 'approved' } }]);
    const status = jsonLines((await sim(...port, 'status', '40')).stdout);
    expect(status).toEqual([
      { type: 'sale-status', receiptNo: 40, state: 'approved', recordKind: 'sale', amountFen: 1250 },
    ]);
    const attack = jsonLines((await sim(...port, '--receipt', '41', 'attack', 'bad-mac')).stdout);
    expect(attack[1]).toEqual({ attack: 'bad-mac', answer: { type: 'nak', reason: 'MAC_INVALID' } });
    expect([...box.ledger.keys()]).toEqual(['1:40', '1:41']); // the genuine sale of the attack run, not the forgery
    const kcv = jsonLines((await sim('--port', pair.b, '--key-file', keyFile, 'key-check')).stdout);
    expect(kcv).toEqual([{ keyVersion: 1, kcv: keyCheckValue(key) }]);
  });

  it('refuses protocol 2 without a key, and a key file that is not 64 hex digits', async () => {
    const noKey = await sim('--port', '/nonexistent/tty', '--protocol', '2', 'swipe', '04A1B2C3', '1').catch(
      (e: { stderr: string }) => e,
    );
    expect((noKey as { stderr: string }).stderr).toMatch(/protocol 2 needs the till key/);
    const badFile = join(tmpdir(), `bad-${process.pid}.key`);
    writeFileSync(badFile, 'not a key');
    const bad = await sim('--port', '/nonexistent/tty', '--key-file', badFile, 'status', '1').catch(
      (e: { stderr: string }) => e,
    );
    expect((bad as { stderr: string }).stderr).toMatch(/64 hex digits/);
  });

  it('swipes through the real driver, with faults on, and prints the answers as JSON lines', async () => {
    harness = await startDriverHarness({
      decideSale: (_id, sale) =>
        sale.credential?.kind === 'qr'
          ? { outcome: 'declined', reason: 'QR_REUSED', displayText: '二维码已使用' }
          : { outcome: 'approved', balanceFen: 5000 },
    });
    await harness.driver.start();
    const swipe = await sim(
      '--port',
      harness.pair.b,
      ...tillKeyArgs(harness),
      '--fault',
      'junk,bad-crc',
      'swipe',
      '04a1b2c3',
      '1250',
      '-n',
      '2',
    );
    const lines = swipe.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      type: 'sale-result',
      receiptNo: 1,
      decision: { outcome: 'approved' },
      balanceFen: 5000,
    });
    expect(lines[1]).toMatchObject({ receiptNo: 2 });
    const qr = await sim(
      '--port',
      harness.pair.b,
      ...tillKeyArgs(harness),
      '--receipt',
      '50',
      'qr',
      'QR1.token',
      '300',
    );
    expect(JSON.parse(qr.stdout)).toMatchObject({
      receiptNo: 50,
      decision: { outcome: 'declined', reason: 'QR_REUSED' },
    });
    expect(harness.saleCalls.map((c) => c.sale.receiptNo)).toEqual([1, 2, 50]);
  });

  it('serve answers polls, swipes on its own and exits cleanly on SIGTERM', async () => {
    harness = await startDriverHarness({ decideSale: () => ({ outcome: 'approved' }) });
    await harness.driver.start();
    const child = spawn(process.execPath, [
      '--import',
      'tsx',
      cli,
      '--port',
      harness.pair.b,
      ...tillKeyArgs(harness),
      'serve',
      '--swipe-every',
      '300',
    ]);
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await harness.waitForEvent((e) => e.type === 'terminal-up', 10_000, 0);
    await expect.poll(() => harness?.saleCalls.length ?? 0, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ serving: [1] });
    expect(lines.slice(1).some((l) => l.type === 'sale-result')).toBe(true);
  });

  it('fails with a clear message when the port does not exist', async () => {
    const err = await sim('--port', '/nonexistent/tty', 'swipe', '04A1B2C3', '1').catch(
      (e: { stderr: string; code: number }) => e,
    );
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr).toMatch(/cannot open|No such file/);
  });
});
