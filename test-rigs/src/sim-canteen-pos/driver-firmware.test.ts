import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FirmwareProgress, PosDriverFirmware, SaleDecision } from '@sceneway/device-drivers';
import { makeTestVendor, verifiedTestFirmware } from '@sceneway/firmware-tools/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { driverRigPerTest } from './driver-test-rig.ts';
import type { SimFirmwareConfig } from './sim.ts';
import { resentAcknowledged } from './sim-firmware.ts';
import { TillUpdatingError } from './sim-terminal.ts';
import { makeTestFirmware } from './test-firmware-image.ts';
import { Command, encodeBody, sealBody } from './wire/index.ts';

/**
 * Firmware over the POS line (docs/protocols/canteen-pos.md §13): the real driver and the simulated
 * till over a socat pty pair. The till checks the vendor signature and the SM3 itself, and its chunk
 * log (every chunk heard, every offset acked) is the evidence that a resumed transfer never sends an
 * acknowledged byte again.
 */
const approve = (): SaleDecision => ({ outcome: 'approved' });
const { startTill } = driverRigPerTest('pty');

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const stateDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'pos-fw-'));
  dirs.push(d);
  return d;
};

const vendorImage = makeTestFirmware({ version: '2.0.0', size: 256 * 1024 + 123 });
const vendor = vendorImage.vendor;

async function setUp(firmware: Partial<SimFirmwareConfig> = {}) {
  const dir = stateDir();
  const { h, s } = await startTill(
    { decideSale: approve, config: { ackTimeoutMs: 400, silenceTimeoutMs: 1500 } },
    {
      firmwareVersion: '1.0.0',
      firmware: { vendorKeys: [vendor.publicKeyHex], stateDir: dir, rebootMs: 200, cutMs: 2000, ...firmware },
    },
  );
  const fw = h.driver.firmware as PosDriverFirmware;
  return { h, s, fw, dir, terminal: s.till().terminal, simFw: s.till().terminal.firmware! };
}

const run = () => ({ signal: new AbortController().signal });

describe('POS firmware over a pty', () => {
  it('installs: the till verifies, switches, reboots and reports the new version signed', async () => {
    const { h, fw, terminal, simFw } = await setUp();
    expect(await fw.describe('till-1')).toMatchObject({
      model: 'CP-300',
      hardware: 'rev-b',
      version: '1.0.0',
    });
    const phases = new Set<FirmwareProgress['phase']>();
    let last = 0;
    const result = await fw.install('till-1', vendorImage, {
      ...run(),
      onProgress: (p) => {
        phases.add(p.phase);
        expect(p.bytesDone).toBeGreaterThanOrEqual(last);
        last = p.bytesDone;
      },
    });
    expect(result).toEqual({ outcome: 'installed', version: '2.0.0' });
    expect([...phases]).toEqual(['transfer', 'verify', 'reboot']);
    expect(last).toBe(vendorImage.manifest.size);
    expect(simFw.status()).toMatchObject({
      version: '2.0.0',
      signed: true,
      previousVersion: '1.0.0',
      state: 'idle',
    });
    expect(terminal.reboots).toBe(1);
    expect(resentAcknowledged(simFw.chunkLog)).toBe(0);
    // The heartbeat reports it too: STATUS after the reboot carries the new version.
    await expect.poll(async () => (await fw.describe('till-1')).version, { timeout: 5000 }).toBe('2.0.0');
    expect(h.events.some((e) => e.type === 'terminal-alert')).toBe(false);
  });

  it('takes no sale while it updates, and sells again once it is back', async () => {
    const { s, fw } = await setUp();
    const staged = await fw.stage('till-1', vendorImage, run());
    expect(staged.outcome).toBe('staged');
    await expect(s.till().swipe('04A1B2C3', 100)).rejects.toBeInstanceOf(TillUpdatingError);
    expect(await fw.install('till-1', vendorImage, run())).toEqual({
      outcome: 'installed',
      version: '2.0.0',
    });
    expect((await s.till().swipe('04A1B2C3', 100)).decision.outcome).toBe('approved');
  });

  for (const seed of [1, 2, 3]) {
    it(`resumes a transfer cut at a random byte (seed ${seed}) without resending an acknowledged chunk`, async () => {
      const total = vendorImage.manifestBytes.length + vendorImage.manifest.size;
      // A small deterministic PRNG: the cut point differs per seed and is the same on every run.
      const cutAt = Math.floor((((seed * 2654435761) % 2 ** 32) / 2 ** 32) * (total - 1));
      const { fw, terminal, simFw } = await setUp({ faults: { failTransferAt: cutAt } });
      const result = await fw.install('till-1', vendorImage, run());
      expect(result).toEqual({ outcome: 'installed', version: '2.0.0' });
      const log = simFw.chunkLog;
      // The cut chunk was heard, not acked, and heard again after the till came back.
      const cutChunk = log.filter(
        (e) => e.kind === 'chunk' && e.offset <= cutAt && cutAt < e.offset + e.length,
      );
      expect(cutChunk.length).toBeGreaterThanOrEqual(2);
      expect(resentAcknowledged(log)).toBe(0);
      expect(terminal.sessionsOpened).toBeGreaterThanOrEqual(2);
    });
  }

  it('resumes after an agent restart mid-transfer', async () => {
    const { h, fw, simFw } = await setUp();
    const abort = new AbortController();
    const half = vendorImage.manifest.size / 2;
    const first = fw.install('till-1', vendorImage, {
      signal: abort.signal,
      onProgress: (p) => {
        if (p.bytesDone >= half) abort.abort(new Error('agent stopping'));
      },
    });
    await expect(first).rejects.toThrow('agent stopping');
    await h.driver.stop();
    const held = simFw.nextOffset;
    expect(held).toBeGreaterThan(half);
    await h.driver.start();
    await h.waitForEvent((e) => e.type === 'terminal-up', 5000, h.events.length);
    const again = await fw.install('till-1', vendorImage, run());
    expect(again).toEqual({ outcome: 'installed', version: '2.0.0' });
    expect(resentAcknowledged(simFw.chunkLog)).toBe(0);
    const firstAfterRestart = simFw.chunkLog.findLast((e) => e.kind === 'chunk' && e.offset === held);
    expect(firstAfterRestart).toBeDefined();
  });

  it('reports the old version when the new image fails to boot (the till falls back)', async () => {
    const { fw, simFw } = await setUp({ faults: { bootFail: true } });
    expect(await fw.install('till-1', vendorImage, run())).toEqual({
      outcome: 'installed',
      version: '1.0.0',
    });
    expect(simFw.status()).toMatchObject({ version: '1.0.0', lastResult: 'boot-failed', state: 'idle' });
  });

  it('rolls back to the other slot on FW_ROLLBACK, and refuses one with nothing to go back to', async () => {
    const { fw, simFw } = await setUp();
    expect(await fw.rollback('till-1', null, run())).toMatchObject({
      outcome: 'failed',
      code: 'POS_FW_NO_PREVIOUS',
    });
    expect(await fw.install('till-1', vendorImage, run())).toMatchObject({ version: '2.0.0' });
    expect(await fw.rollback('till-1', null, run())).toEqual({ outcome: 'installed', version: '1.0.0' });
    expect(simFw.status()).toMatchObject({
      version: '1.0.0',
      previousVersion: '2.0.0',
      lastResult: 'rolled-back',
    });
  });

  it('refuses an image another vendor signed: the till checks with its own pinned key', async () => {
    const { fw, simFw } = await setUp();
    const foreign = makeTestFirmware({ version: '2.0.0', size: 8 * 1024 });
    const result = await fw.install('till-1', foreign, run());
    expect(result).toMatchObject({ outcome: 'failed', code: 'POS_FW_SIGNATURE_INVALID', retryable: false });
    expect(simFw.status()).toMatchObject({ version: '1.0.0', state: 'idle' });
  });

  it('refuses an image for another model', async () => {
    const { fw } = await setUp();
    const other = makeTestFirmware({ version: '2.0.0', size: 8 * 1024, vendor, models: ['CP-900'] });
    expect(await fw.install('till-1', other, run())).toMatchObject({ code: 'POS_FW_NOT_FOR_THIS_TILL' });
  });

  it('ignores a forged or unauthenticated FW_ACTIVATE: the staged image stays staged', async () => {
    const { fw, terminal, simFw } = await setUp();
    expect(await fw.stage('till-1', vendorImage, run())).toMatchObject({ outcome: 'staged' });
    const digest = Buffer.from(vendorImage.manifest.sm3, 'hex');
    const { command, body } = encodeBody({ type: 'fw-activate', digest });
    expect(command).toBe(Command.FW_ACTIVATE);
    const head = { address: 1, seq: 0x77, command };
    const before = terminal.firmwareFramesRefused;
    // Something on the line: no MAC at all, then a MAC under a key it made up, with a high counter.
    terminal.onFrame({ ...head, body });
    terminal.onFrame({ ...head, body: sealBody(Buffer.alloc(32, 7), head, body, 0xfffffff0) });
    expect(terminal.firmwareFramesRefused - before).toBe(2);
    expect(terminal.reboots).toBe(0);
    expect(simFw.status()).toMatchObject({ version: '1.0.0', state: 'complete' });
    // The genuine one, from the box in its session, does switch: the check above could have failed.
    expect(await fw.install('till-1', vendorImage, run())).toEqual({
      outcome: 'installed',
      version: '2.0.0',
    });
  });
});

describe('POS firmware from a package file', () => {
  it('installs a package opened and verified by the package library', async () => {
    const dir = stateDir();
    const vendorKey = makeTestVendor();
    const image = await verifiedTestFirmware({ dir, vendor: vendorKey, fields: { version: '2.4.1' } });
    const { h, s } = await startTill(
      { decideSale: approve, config: { ackTimeoutMs: 400, silenceTimeoutMs: 1500 } },
      {
        firmwareVersion: '2.3.0',
        firmware: { vendorKeys: [vendorKey.publicKeyHex], stateDir: dir, model: 'SW-POS-200', rebootMs: 200 },
      },
    );
    expect(await h.driver.firmware!.install('till-1', image, run())).toEqual({
      outcome: 'installed',
      version: '2.4.1',
    });
    expect(s.till().terminal.firmware!.status()).toMatchObject({ version: '2.4.1', signed: true });
  });
});
