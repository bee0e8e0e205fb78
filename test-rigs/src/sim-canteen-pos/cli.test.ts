import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { type DriverHarness, startDriverHarness } from './driver-harness.ts';

const run = promisify(execFile);
const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
const sim = (...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', cli, ...args], { timeout: 30_000 });

let harness: DriverHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

describe('sim-canteen-pos CLI', () => {
  it('prints help listing the commands and faults', async () => {
    const { stdout } = await sim('--help');
    for (const word of ['swipe', 'qr', 'upload', 'serve', 'nak-storm', 'bad-crc'])
      expect(stdout).toContain(word);
  });

  it('swipes through the real driver, with faults on, and prints the answers as JSON lines', async () => {
    harness = await startDriverHarness({
      decideSale: (_id, sale) =>
        sale.credential.kind === 'qr'
          ? { outcome: 'declined', reason: 'QR_REUSED', displayText: '二维码已使用' }
          : { outcome: 'approved', balanceFen: 5000 },
    });
    await harness.driver.start();
    const swipe = await sim(
      '--port',
      harness.pair.b,
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
    const qr = await sim('--port', harness.pair.b, '--receipt', '50', 'qr', 'QR1.token', '300');
    expect(JSON.parse(qr.stdout)).toMatchObject({
      receiptNo: 50,
      decision: { outcome: 'declined', reason: 'QR_REUSED' },
    });
    expect(harness.saleCalls.map((c) => c.sale.receiptNo)).toEqual([1, 2, 50]);
  });

  it('fails with a clear message when the port does not exist', async () => {
    const err = await sim('--port', '/nonexistent/tty', 'swipe', '04A1B2C3', '1').catch(
      (e: { stderr: string; code: number }) => e,
    );
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr).toMatch(/cannot open|No such file/);
  });
});
