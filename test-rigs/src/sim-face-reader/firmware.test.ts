import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sm2Sign } from '@sceneway/cloud-sync';
import type { FirmwareImage, FirmwareInstallResult, FirmwareProgress } from '@sceneway/device-drivers';
import { makeTestVendor, testFirmwareImage, verifiedTestFirmware } from '@sceneway/firmware-tools/testing';
import { waitFor } from '@sceneway/gateway-agent/testing';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { type FaceDriverRig, startFaceDriverRig } from './driver-rig.ts';
import type { SimFirmwareFaults } from './sim-firmware.ts';
import { type SimReader, startSimReader } from './sim-reader.ts';

/**
 * Face-reader firmware end to end: the production driver on the agent's real broker (aedes) and its
 * real image server, a simulated reader as a real mqtt.js client fetching with real HTTP Range
 * requests into a state directory on disk. Images are real .swfw packages opened and verified by
 * firmware-tools (what the agent hands the driver); forgeries are made from them by replacing a part.
 * Every wait is on an event (a report, a status, a promise).
 */
const VENDOR = makeTestVendor();
const WINDOW = 64 * 1024;

let rig: FaceDriverRig | undefined;
const sims: SimReader[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const s of sims.splice(0)) await s.close();
  await rig?.close();
  rig = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const stateDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-face-fw-'));
  dirs.push(dir);
  return dir;
};

async function firmwareRig() {
  rig = await startFaceDriverRig({ decideAccess: () => ({ outcome: 'open' }), firmwareHttp: {} });
  await rig.driver.start();
  return rig;
}

async function reader(
  r: FaceDriverRig,
  dir: string,
  faults: Partial<SimFirmwareFaults> = {},
  i = 0,
): Promise<SimReader> {
  const sim = await startSimReader({
    ...r.login(i),
    firmware: {
      stateDir: dir,
      vendorKeys: [VENDOR.publicKeyHex],
      model: 'SFR-200',
      hardware: 'rev-b',
      factoryVersion: '1.0.0',
      windowBytes: WINDOW,
      faults,
    },
  });
  sims.push(sim);
  // The driver knows the reader's firmware from its first status.
  await waitForVersion(r, sim.readerId, '1.0.0');
  return sim;
}

/** The driver knows a reader's firmware from its `status` (a message on the broker, so: polled). */
const waitForVersion = (r: FaceDriverRig, readerId: string, version: string) =>
  waitFor(
    async () => (await r.driver.firmware.describe(readerId)).version === version,
    `${readerId} reporting ${version}`,
  );

function install(r: FaceDriverRig, readerId: string, image: FirmwareImage) {
  const progress: FirmwareProgress[] = [];
  const signal = new AbortController().signal;
  const result = r.driver.firmware.install(readerId, image, { signal, onProgress: (p) => progress.push(p) });
  return { result, progress };
}

let packages = 0;
/** A verified face-reader package of `size` fresh bytes (what the campaign would hand install()). */
async function image(
  version: string,
  size = 400_000,
  fields: { models?: string[] } = {},
  vendor = VENDOR,
): Promise<FirmwareImage> {
  const dir = stateDir();
  return verifiedTestFirmware({
    dir,
    vendor,
    image: testFirmwareImage(size, `face ${version} ${++packages} ${Math.random()}`),
    name: `face-${packages}.swfw`,
    fields: {
      family: 'face-reader',
      models: fields.models ?? ['SFR-200'],
      version,
      minPreviousVersion: '1.0.0',
      chunkSize: 16 * 1024,
    },
  });
}

const servingOf = (r: FaceDriverRig, sim: SimReader) => {
  const transferId = sim.firmware?.fetches[0]?.transferId ?? '';
  return r.driver.imageServer?.serving(transferId);
};

describe('face-reader firmware: install', () => {
  it('installs into the other slot: announce, Range fetch, verify, reboot, new version reported', async () => {
    const r = await firmwareRig();
    const dir = stateDir();
    const sim = await reader(r, dir);
    expect(await r.driver.firmware.describe('gate-1')).toEqual({
      terminalId: 'gate-1',
      family: 'face-reader',
      model: 'SFR-200',
      hardware: 'rev-b',
      version: '1.0.0',
    });
    const v2 = await image('2.0.0');
    const { result, progress } = install(r, 'gate-1', v2);
    expect(await result).toEqual({ outcome: 'installed', version: '2.0.0' });
    expect(sim.reboots).toBe(1);
    expect(sim.firmware?.status()).toMatchObject({ version: '2.0.0', signed: true, slot: 'b' });
    expect(new Set(progress.map((p) => p.phase))).toEqual(
      new Set(['transfer', 'verify', 'activate', 'reboot']),
    );
    expect(progress.at(-1)?.phase).toBe('reboot');
    // Exactly the image's bytes left the box, in windows, and they are what slot b holds.
    const serving = servingOf(r, sim);
    expect(serving?.bytesServed).toBe(v2.manifest.size);
    expect(serving?.responses.every((x) => x.status === 206)).toBe(true);
    expect(
      readFileSync(join(dir, 'slot-b.bin')).equals(Buffer.from(await v2.read(0, v2.manifest.size))),
    ).toBe(true);
    // The token is gone once the reader has the image: the same request again is refused.
    const announced = sim.firmware?.announcements[0];
    expect(announced?.url).toBe(r.driver.imageServer?.urlOf('gate-1', announced?.transferId ?? ''));
    const again = await fetch(announced?.url ?? '', {
      headers: { authorization: `Bearer ${announced?.token}`, range: 'bytes=0-9' },
    });
    expect(again.status).toBe(403);
    expect(r.driver.imageServer?.refusals()['bad-token']).toBe(1);
    expect((await r.driver.firmware.describe('gate-1')).version).toBe('2.0.0');
  });

  it('resumes with Range after the link drops at random offsets, never refetching a byte it kept', async () => {
    const r = await firmwareRig();
    const size = 500_000;
    const offsets = [
      1 + Math.floor(Math.random() * (size - 2)),
      1 + Math.floor(Math.random() * (size - 2)),
      WINDOW,
    ];
    for (const [i, offset] of offsets.entries()) {
      const sim = await reader(r, stateDir(), { failTransferAt: offset });
      const v = await image(`2.0.${i}`, size);
      expect(await install(r, 'gate-1', v).result, `cut at ${offset}`).toEqual({
        outcome: 'installed',
        version: `2.0.${i}`,
      });
      const fetches = sim.firmware?.fetches ?? [];
      // Each request starts where the bytes kept so far end; the cut one kept exactly `offset` in total.
      let kept = 0;
      for (const f of fetches) {
        expect(f.start, `cut at ${offset}`).toBe(kept);
        kept += f.received;
      }
      expect(kept).toBe(size);
      const cut = fetches.findIndex((f) => f.start + f.received === offset && f.start + f.received < size);
      expect(cut, `a request ended at the cut ${offset}`).toBeGreaterThanOrEqual(0);
      expect(fetches[cut + 1]?.start).toBe(offset);
      // The box saw the same requests; what it served beyond the image is only what was in flight at the
      // cut (less than one window), never bytes the reader had already kept.
      const serving = servingOf(r, sim);
      expect(serving?.responses.map((x) => x.start)).toEqual(fetches.map((f) => f.start));
      expect((serving?.bytesServed ?? 0) - size).toBeLessThan(WINDOW);
      expect((serving?.bytesServed ?? 0) - size).toBeGreaterThanOrEqual(0);
      await sim.close();
      sims.splice(sims.indexOf(sim), 1);
    }
  });

  it('resumes after a power cut of the reader: a new simulator on the same state directory carries on', async () => {
    const r = await firmwareRig();
    const dir = stateDir();
    const size = 450_000;
    const cutAt = 200_000 + Math.floor(Math.random() * 100_000);
    const first = await reader(r, dir, { powerCutAt: cutAt });
    const v2 = await image('2.0.0', size);
    const { result } = install(r, 'gate-1', v2);
    await first.halted;
    await first.close();
    const second = await startSimReader({
      ...r.login(0),
      firmware: {
        stateDir: dir,
        vendorKeys: [VENDOR.publicKeyHex],
        model: 'SFR-200',
        hardware: 'rev-b',
        windowBytes: WINDOW,
      },
    });
    sims.push(second);
    expect(await result).toEqual({ outcome: 'installed', version: '2.0.0' });
    expect(second.firmware?.fetches[0]?.start).toBe(cutAt); // from the part file, not from 0
    const received = (first.firmware?.fetches ?? []).concat(second.firmware?.fetches ?? []);
    expect(received.reduce((n, f) => n + f.received, 0)).toBe(size);
    expect(readFileSync(join(dir, 'slot-b.bin')).equals(Buffer.from(await v2.read(0, size)))).toBe(true);
  });
});

describe('face-reader firmware: resume across an agent restart', () => {
  it('a new announcement of the same image, with a new token, resumes from the bytes the reader holds', async () => {
    const r = await firmwareRig();
    const dir = stateDir();
    const sim = await reader(r, dir);
    const size = 400_000;
    const v2 = await image('2.0.0', size);
    // The box stalls past 3 windows: the reader holds those when the agent goes down.
    let release: () => void = () => undefined;
    const stalled = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reachedStall: () => void = () => undefined;
    const atStall = new Promise<void>((resolve) => {
      reachedStall = resolve;
    });
    const held = 3 * WINDOW;
    const stalling: FirmwareImage = {
      ...v2,
      read: async (offset, length) => {
        if (offset >= held) {
          reachedStall();
          await stalled;
        }
        return v2.read(offset, length);
      },
    };
    const first = r.driver.firmware.install('gate-1', stalling, { signal: new AbortController().signal });
    await atStall;
    await r.restartDriver();
    release();
    expect(await first).toMatchObject({ outcome: 'failed', code: 'FACE_FW_DRIVER_STOPPED', retryable: true });
    await sim.publishStatus(); // its periodic status: the new driver learns what it runs
    await waitForVersion(r, 'gate-1', '1.0.0');
    expect(await install(r, 'gate-1', v2).result).toEqual({ outcome: 'installed', version: '2.0.0' });
    const fetches = sim.firmware?.fetches ?? [];
    const ids = [...new Set(fetches.map((f) => f.transferId))];
    expect(ids).toHaveLength(2);
    const second = fetches.filter((f) => f.transferId === ids[1]);
    expect(second[0]?.start).toBe(held); // not from 0: the staged bytes of the same image were kept
    expect(fetches.reduce((n, f) => n + f.received, 0)).toBe(size);
    expect(r.driver.imageServer?.serving(ids[1] as string)?.bytesServed).toBe(size - held);
  });
});

describe('face-reader firmware: boot failure, rollback, wrong version', () => {
  it('a new image that does not boot leaves the old version running and reported; rollback keeps it', async () => {
    const r = await firmwareRig();
    const sim = await reader(r, stateDir(), { bootFail: true });
    expect(await install(r, 'gate-1', await image('2.0.0')).result).toEqual({
      outcome: 'installed',
      version: '1.0.0',
    });
    expect(sim.firmware?.status()).toMatchObject({
      version: '1.0.0',
      slot: 'a',
      last: { result: 'boot-failed' },
    });
    const signal = new AbortController().signal;
    expect(await r.driver.firmware.rollback('gate-1', null, { signal })).toEqual({
      outcome: 'installed',
      version: '1.0.0',
    });
    // Fault cleared: the same image now boots.
    if (sim.firmware) sim.firmware.faults.bootFail = false;
    expect(await install(r, 'gate-1', await image('2.0.0')).result).toEqual({
      outcome: 'installed',
      version: '2.0.0',
    });
  });

  it('rolls back to the slot it ran before', async () => {
    const r = await firmwareRig();
    const sim = await reader(r, stateDir());
    expect(await install(r, 'gate-1', await image('2.0.0')).result).toMatchObject({ version: '2.0.0' });
    const signal = new AbortController().signal;
    expect(await r.driver.firmware.rollback('gate-1', null, { signal })).toEqual({
      outcome: 'installed',
      version: '1.0.0',
    });
    expect(sim.firmware?.status()).toMatchObject({
      version: '1.0.0',
      slot: 'a',
      last: { result: 'rolled-back' },
    });
    expect(sim.reboots).toBe(2);
  });

  it('passes on the version the reader reports, even a wrong one (the campaign judges)', async () => {
    const r = await firmwareRig();
    const sim = await reader(r, stateDir());
    if (sim.firmware) sim.firmware.faults.reportVersion = '9.9.9';
    expect(await install(r, 'gate-1', await image('2.0.0')).result).toEqual({
      outcome: 'installed',
      version: '9.9.9',
    });
  });
});

describe('face-reader firmware: the reader refuses what its pinned key did not sign', () => {
  const refusedBeforeAnyByte = async (img: FirmwareImage, code: string) => {
    const r = await firmwareRig();
    const sim = await reader(r, stateDir());
    const result: FirmwareInstallResult = await install(r, 'gate-1', img).result;
    expect(result).toMatchObject({ outcome: 'failed', code, retryable: false });
    expect(sim.firmware?.fetches).toEqual([]);
    expect(sim.reboots).toBe(0);
    expect(sim.firmware?.status()).toMatchObject({ version: '1.0.0', signed: true });
  };

  it('an image of a vendor key it does not pin', async () => {
    await refusedBeforeAnyByte(await image('2.0.0', 10_000, {}, makeTestVendor()), 'FW_UNKNOWN_VENDOR_KEY');
  });

  it('a signature by another key under the pinned key id', async () => {
    const good = await image('2.0.0', 10_000);
    const forged = { ...good, signature: sm2Sign(good.manifestBytes, makeTestVendor().privateKeyHex) };
    await refusedBeforeAnyByte(forged, 'FW_SIGNATURE_INVALID');
  });

  it('manifest bytes altered after signing (a version raised)', async () => {
    const good = await image('2.0.0', 10_000);
    const text = Buffer.from(good.manifestBytes).toString('utf8');
    expect(text).toContain('"version":"2.0.0"');
    const manifestBytes = Buffer.from(text.replace('"version":"2.0.0"', '"version":"2.0.1"'));
    await refusedBeforeAnyByte({ ...good, manifestBytes }, 'FW_SIGNATURE_INVALID');
  });

  it('an image for another model', async () => {
    await refusedBeforeAnyByte(await image('2.0.0', 10_000, { models: ['SFR-900'] }), 'FW_WRONG_MODEL');
  });

  it('image bytes that are not the signed ones: fetched, refused on the digest, the old slot runs on', async () => {
    const r = await firmwareRig();
    const dir = stateDir();
    const sim = await reader(r, dir);
    const good = await image('2.0.0', 100_000);
    // What a box with a corrupted store or a man in the middle would serve: one bit off at 70 000.
    const forged: FirmwareImage = {
      ...good,
      read: async (offset, length) => {
        const bytes = Buffer.from(await good.read(offset, length));
        if (offset <= 70_000 && 70_000 < offset + length)
          bytes[70_000 - offset] = (bytes[70_000 - offset] ?? 0) ^ 1;
        return bytes;
      },
    };
    expect(await install(r, 'gate-1', forged).result).toMatchObject({
      outcome: 'failed',
      code: 'FW_DIGEST_MISMATCH',
      retryable: false,
    });
    expect(sim.firmware?.fetches.length).toBeGreaterThan(0);
    expect(sim.reboots).toBe(0);
    expect(sim.firmware?.status()).toMatchObject({ version: '1.0.0', slot: 'a' });
    expect(() => readFileSync(join(dir, 'slot-b.bin'))).toThrow(); // nothing was activated
  });
});

describe('face-reader firmware: the broker keeps the token to its reader', () => {
  it("refuses another reader's subscription to a reader's firmware topic, and a reader's own announcement", async () => {
    const r = await firmwareRig();
    const login = r.login(1);
    const thief = await mqtt.connectAsync(login.url, {
      clientId: login.readerId,
      username: login.username,
      password: login.password,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    try {
      // SUBACK 0x80 for gate-1's topic (mqtt.js rejects on it); its own is granted.
      await expect(thief.subscribeAsync('sceneway/t/gate-1/firmware', { qos: 1 })).rejects.toThrow(
        /Subscribe error/,
      );
      expect(
        (await thief.subscribeAsync('sceneway/t/gate-2/firmware', { qos: 1 })).map((g) => g.qos),
      ).toEqual([1]);
      // A reader may not announce an image to itself (or to anyone): the broker drops it.
      const gone = new Promise<void>((resolve) => thief.once('close', () => resolve()));
      void thief
        .publishAsync('sceneway/t/gate-2/firmware', '{"v":1,"op":"rollback","transferId":"x"}', { qos: 1 })
        .catch(() => undefined);
      await gone;
    } finally {
      await thief.endAsync(true);
    }
  });
});

describe('face-reader firmware: the driver side', () => {
  it('answers offline and unknown readers without a token, and an abort revokes the transfer', async () => {
    const r = await firmwareRig();
    expect(await r.driver.firmware.describe('gate-2')).toMatchObject({ version: null });
    const v2 = await image('2.0.0', 10_000);
    const signal = new AbortController().signal;
    expect(await r.driver.firmware.install('gate-9', v2, { signal })).toMatchObject({
      code: 'FACE_FW_UNKNOWN_READER',
      retryable: false,
    });
    expect(await r.driver.firmware.install('gate-2', v2, { signal })).toMatchObject({
      code: 'FACE_FW_READER_OFFLINE',
      retryable: true,
    });
    const sim = await reader(r, stateDir(), { powerCutAt: 5_000 });
    const abort = new AbortController();
    const pending = r.driver.firmware.install('gate-1', v2, { signal: abort.signal });
    await sim.halted;
    abort.abort(new Error('campaign aborted'));
    await expect(pending).rejects.toThrow('campaign aborted');
  });
});
