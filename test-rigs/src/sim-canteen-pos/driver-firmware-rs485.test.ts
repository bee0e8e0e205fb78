import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SaleDecision } from '@sceneway/device-drivers';
import { afterEach, describe, expect, it } from 'vitest';
import { driverRigPerTest } from './driver-test-rig.ts';
import { makeTestFirmware } from './test-firmware-image.ts';

/**
 * §13.6 on an RS-485 bus over a pty: a firmware frame takes only the updating till's turn, so the
 * till beside it keeps selling through the whole transfer; and the chunk is capped to what 250 ms of
 * bus time holds at the line's baud rate (9600: 195 bytes).
 */
const { startHarness, startSim } = driverRigPerTest('pty');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('POS firmware on an RS-485 bus', () => {
  it('updates one till while the other keeps selling, one firmware frame per turn', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pos-fw-485-'));
    dirs.push(dir);
    const image = makeTestFirmware({ version: '2.0.0', size: 48 * 1024 });
    const h = await startHarness({
      decideSale: (): SaleDecision => ({ outcome: 'approved' }),
      config: {
        mode: 'rs485',
        ackTimeoutMs: 400,
        silenceTimeoutMs: 1500,
        terminals: [
          { id: 'till-1', address: 1 },
          { id: 'till-2', address: 2 },
        ],
      },
    });
    const s = await startSim(h, {
      mode: 'rs485',
      addresses: [1, 2],
      firmwareVersion: '1.0.0',
      firmware: { vendorKeys: [image.vendor.publicKeyHex], stateDir: dir, rebootMs: 200 },
    });
    await h.driver.start();
    for (const id of ['till-1', 'till-2']) {
      await h.waitForEvent((e) => e.type === 'terminal-up' && e.terminalId === id, 5000, 0);
    }
    const pollsBefore = s.till(2).terminal.polls;
    let done = false;
    const install = h.driver.firmware!.install('till-1', image, { signal: new AbortController().signal });
    void install.finally(() => {
      done = true;
    });
    // till-2 sells, one sale after the other, for as long as the transfer runs.
    let sold = 0;
    while (!done) {
      expect((await s.till(2).swipe('04A1B2C3', 100 + sold)).decision.outcome).toBe('approved');
      sold++;
    }
    expect(await install).toEqual({ outcome: 'installed', version: '2.0.0' });
    expect(sold).toBeGreaterThanOrEqual(3);
    // One firmware frame per turn: till-2 had its turn in (about) every round that carried a chunk.
    const chunkFrames = s.till(1).terminal.firmware!.chunkLog.filter((e) => e.kind === 'chunk').length;
    expect(s.till(2).terminal.polls - pollsBefore).toBeGreaterThanOrEqual(chunkFrames / 2);
    expect(s.till(2).terminal.firmware!.status()).toMatchObject({ version: '1.0.0', state: 'idle' });
    // 9600 baud: every chunk the till heard fits 250 ms of bus time.
    const chunks = s.till(1).terminal.firmware!.chunkLog.filter((e) => e.kind === 'chunk');
    expect(Math.max(...chunks.map((c) => (c.kind === 'chunk' ? c.length : 0)))).toBe(195);
  });
});
