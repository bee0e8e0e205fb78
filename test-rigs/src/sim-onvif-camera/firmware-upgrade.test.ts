import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FirmwareImage, FirmwareProgress } from '@sceneway/device-drivers';
import { makeTestVendor, testFirmwareImage, verifiedTestFirmware } from '@sceneway/firmware-tools/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { nextCameraEvent, type OnvifDriverRig, startOnvifDriverRig } from './driver-rig.ts';
import { packageOf, testFirmware, vendorKeys } from './firmware-test-image.ts';

/**
 * Firmware by ONVIF StartFirmwareUpgrade, the real onvif-camera driver against the simulated camera
 * over HTTP: the camera hands out a one-time UploadUri, takes the whole .swfw package, checks SM3 and
 * the vendor's signature with its own pinned key, flashes its other slot and reboots; the driver waits
 * for it to come back with a pull point and reports the version it says it runs.
 */
const vendor = vendorKeys();
let rig: OnvifDriverRig | undefined;
afterEach(async () => {
  await rig?.camera.firmwareSettled();
  await rig?.close();
  rig = undefined;
});

async function started(camera: Parameters<typeof startOnvifDriverRig>[0] = {}): Promise<OnvifDriverRig> {
  rig = await startOnvifDriverRig({
    camera: { vendorPublicKeys: [vendor.publicKeyHex], firmwareRebootMs: 150, ...camera.camera },
    config: { firmware: { pollIntervalMs: 20, rebootMarginMs: 8000 } },
  });
  const subscribed = nextCameraEvent(rig.camera, 'subscribed');
  await rig.driver.start();
  await rig.test.waitForEvent((e) => e.type === 'terminal-up');
  await subscribed;
  return rig;
}

function firmwareOf(r: OnvifDriverRig) {
  const fw = r.driver.firmware;
  if (!fw) throw new Error('the onvif-camera driver has no firmware seam');
  return fw;
}

async function install(r: OnvifDriverRig, image: FirmwareImage, progress: FirmwareProgress[] = []) {
  return firmwareOf(r).install('lot-a-entry-cam', image, {
    signal: AbortSignal.timeout(30_000),
    onProgress: (p) => progress.push(p),
  });
}

describe('onvif-camera firmware by StartFirmwareUpgrade', () => {
  it('installs a signed image: whole upload, camera reboots onto the other slot, pull point again, new version', async () => {
    const r = await started();
    const fw = firmwareOf(r);
    expect(await fw.describe('lot-a-entry-cam')).toEqual({
      terminalId: 'lot-a-entry-cam',
      family: 'onvif-camera',
      model: 'LPR-Cam-1',
      hardware: 'sim-onvif-1',
      version: '1.0.0',
    });
    const image = testFirmware({ vendor, version: '2.4.1' });
    const subscriptionsBefore = r.camera.stats.subscriptionsCreated;
    const progress: FirmwareProgress[] = [];
    expect(await install(r, image, progress)).toEqual({ outcome: 'installed', version: '2.4.1' });

    const status = r.camera.firmwareStatus();
    expect(status).toMatchObject({ version: '2.4.1', reportedVersion: '2.4.1', signed: true });
    expect(status.slots).toMatchObject({
      active: 'B',
      lastBoot: 'new-image',
      slots: { A: { version: '1.0.0' } },
    });
    expect(status.uploads).toMatchObject({ urisIssued: 1, uploadsStarted: 1, flashed: 1, transfersCut: 0 });
    expect(r.camera.stats.boots).toBe(2);
    // The install resolved only once the session subscribed again on the rebooted camera.
    expect(r.camera.stats.subscriptionsCreated).toBeGreaterThan(subscriptionsBefore);
    const total = packageOf(image).length;
    expect(status.uploads.bytesReceived).toBe(total);
    const transfer = progress.filter((p) => p.phase === 'transfer');
    expect(transfer.at(-1)).toEqual({ bytesDone: total, bytesTotal: total, phase: 'transfer' });
    expect(progress.map((p) => p.phase).filter((p, i, all) => p !== all[i - 1])).toEqual([
      'transfer',
      'verify',
      'reboot',
    ]);
    expect((await fw.describe('lot-a-entry-cam')).version).toBe('2.4.1');
    // And the lane works on the new firmware.
    r.camera.emitPlate({ plate: '京A12345', likelihood: 0.93 });
    expect((await r.nextSighting()).plate).toBe('京A12345');
  });

  it('uploads a package opened by firmware-tools byte for byte as its .swfw file, and the camera takes it', async () => {
    const fileVendor = makeTestVendor();
    rig = await startOnvifDriverRig({
      camera: { vendorPublicKeys: [fileVendor.publicKeyHex], firmwareRebootMs: 150 },
      config: { firmware: { pollIntervalMs: 20, rebootMarginMs: 8000 } },
    });
    await rig.driver.start();
    const image = await verifiedTestFirmware({
      dir: await mkdtemp(join(tmpdir(), 'onvif-fw-')),
      vendor: fileVendor,
      image: testFirmwareImage(150_000),
      fields: {
        family: 'onvif-camera',
        models: ['LPR-Cam-1'],
        version: '3.0.0',
        minPreviousVersion: '1.0.0',
      },
    });
    expect(await install(rig, image)).toEqual({ outcome: 'installed', version: '3.0.0' });
    const file = await readFile(image.packagePath);
    expect(rig.camera.firmwareStatus().uploads.lastUploadSm3).toBe(
      createHash('sm3').update(file).digest('hex'),
    );
    expect(rig.camera.firmwareStatus()).toMatchObject({ version: '3.0.0', signed: true });
  });

  it('sends the whole package again under a fresh UploadUri when the upload is cut (ONVIF has no resume)', async () => {
    const r = await started();
    const image = testFirmware({ vendor, version: '2.0.0' });
    const total = packageOf(image).length;
    r.camera.setFirmwareFaults({ failTransferAt: 100_000 });
    const progress: FirmwareProgress[] = [];
    expect(await install(r, image, progress)).toEqual({ outcome: 'installed', version: '2.0.0' });
    const { uploads } = r.camera.firmwareStatus();
    expect(uploads).toMatchObject({ urisIssued: 2, uploadsStarted: 2, transfersCut: 1, flashed: 1 });
    // The second upload started at byte 0: what the camera got is the cut stretch plus one whole package.
    expect(uploads.bytesReceived).toBe(100_000 + total);
    const restarted = progress.findIndex((p, i) => i > 0 && p.phase === 'transfer' && p.bytesDone === 0);
    expect(restarted).toBeGreaterThan(0);
    expect(r.camera.firmwareStatus()).toMatchObject({ version: '2.0.0', signed: true });
  });

  it('reports the old version when the new image fails to boot: the camera fell back to its slot', async () => {
    const r = await started();
    r.camera.setFirmwareFaults({ bootFail: true });
    expect(await install(r, testFirmware({ vendor, version: '2.0.0' }))).toEqual({
      outcome: 'installed',
      version: '1.0.0',
    });
    expect(r.camera.firmwareStatus()).toMatchObject({
      version: '1.0.0',
      signed: true,
      slots: { active: 'A', lastBoot: 'fell-back', slots: { B: { version: '2.0.0' } } },
    });
    expect(r.camera.stats.boots).toBe(2);
  });

  it('reports what the camera says, even a wrong version (the health gate judges)', async () => {
    const r = await started();
    r.camera.setFirmwareFaults({ reportVersion: '9.9.9' });
    expect(await install(r, testFirmware({ vendor, version: '2.0.0' }))).toEqual({
      outcome: 'installed',
      version: '9.9.9',
    });
    expect(r.camera.firmwareStatus()).toMatchObject({ version: '2.0.0', reportedVersion: '9.9.9' });
  });

  it('rolls back by uploading the previous package again; without one it cannot', async () => {
    const r = await started();
    const fw = firmwareOf(r);
    const previous = testFirmware({ vendor, version: '1.1.0' });
    expect(await install(r, previous)).toEqual({ outcome: 'installed', version: '1.1.0' });
    expect(await install(r, testFirmware({ vendor, version: '2.0.0' }))).toEqual({
      outcome: 'installed',
      version: '2.0.0',
    });
    const signal = AbortSignal.timeout(30_000);
    expect(await fw.rollback('lot-a-entry-cam', previous, { signal })).toEqual({
      outcome: 'installed',
      version: '1.1.0',
    });
    expect(r.camera.firmwareStatus()).toMatchObject({ version: '1.1.0', signed: true });
    expect(r.camera.firmwareStatus().uploads.flashed).toBe(3);
    // Back to what it ran before, and no further: 1.0.0 (the factory image, no longer in a slot) is refused.
    expect(await install(r, testFirmware({ vendor, version: '1.0.0' }))).toMatchObject({
      outcome: 'failed',
      code: 'ONVIF_FIRMWARE_REFUSED',
    });
    expect(await fw.rollback('lot-a-entry-cam', null, { signal })).toMatchObject({
      outcome: 'failed',
      code: 'ONVIF_FIRMWARE_NO_PREVIOUS',
      retryable: false,
    });
  });

  it('reports signed: false for an image a camera without a pinned vendor key took unverified', async () => {
    const r = await started({ camera: { vendorPublicKeys: [] } });
    expect(await install(r, testFirmware({ vendor: vendorKeys(), version: '2.0.0' }))).toMatchObject({
      outcome: 'installed',
      version: '2.0.0',
    });
    expect(r.camera.firmwareStatus()).toMatchObject({ version: '2.0.0', signed: false });
  });

  it('does not send the image to an UploadUri on another host than the camera', async () => {
    const r = await started({ camera: { uploadUriOrigin: 'http://127.0.0.2:9' } });
    expect(await install(r, testFirmware({ vendor, version: '2.0.0' }))).toMatchObject({
      outcome: 'failed',
      code: 'ONVIF_FIRMWARE_URI_FOREIGN',
      retryable: false,
    });
    expect(r.camera.firmwareStatus().uploads).toMatchObject({ urisIssued: 1, uploadsStarted: 0 });
  });

  it('gives up at once on a camera that faults StartFirmwareUpgrade (no HTTP firmware upgrade)', async () => {
    const r = await started();
    r.camera.setFault('StartFirmwareUpgrade', {
      code: 'Sender',
      subcodes: ['ter:ActionNotSupported'],
      reason: 'StartFirmwareUpgrade is not supported',
    });
    expect(await install(r, testFirmware({ vendor, version: '2.0.0' }))).toMatchObject({
      outcome: 'failed',
      code: 'ONVIF_FIRMWARE_UNSUPPORTED',
      retryable: false,
    });
    expect(r.camera.firmwareStatus().uploads.urisIssued).toBe(0);
  });

  it('stops at once when the campaign aborts mid-upload: the install rejects, the camera runs its old image', async () => {
    const r = await started();
    const abort = new AbortController();
    const image = testFirmware({ vendor, version: '2.0.0', size: 2_000_000 });
    const pending = firmwareOf(r).install('lot-a-entry-cam', image, {
      signal: abort.signal,
      onProgress: (p) => {
        if (p.phase === 'transfer' && p.bytesDone > 500_000) abort.abort(new Error('campaign aborted'));
      },
    });
    await expect(pending).rejects.toThrow('campaign aborted');
    expect(r.camera.firmwareStatus()).toMatchObject({ version: '1.0.0', uploads: { flashed: 0 } });
    expect(r.camera.stats.boots).toBe(1);
  });

  it('keeps its slots across a simulator restart (state dir), and shows them on GET /sim/status', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'sim-onvif-state-'));
    const r = await started({ camera: { stateDir } });
    expect(await install(r, testFirmware({ vendor, version: '2.0.0' }))).toMatchObject({ version: '2.0.0' });
    await r.close();
    rig = await startOnvifDriverRig({ camera: { stateDir, vendorPublicKeys: [vendor.publicKeyHex] } });
    const status = (await (await fetch(`http://127.0.0.1:${rig.camera.port}/sim/status`)).json()) as {
      firmware: { version: string; signed: boolean; slots: { active: string } };
    };
    expect(status.firmware).toMatchObject({ version: '2.0.0', signed: true, slots: { active: 'B' } });
    expect((await firmwareOf(rig).describe('lot-a-entry-cam')).version).toBe('2.0.0');
  });

  it.each([
    [
      'signed by another key under the vendor key id',
      () => testFirmware({ vendor, version: '2.0.0', signWith: vendorKeys() }),
    ],
    [
      'signed by a key the camera does not pin',
      () => testFirmware({ vendor: vendorKeys(), version: '2.0.0' }),
    ],
    [
      'corrupted after signing (digest mismatch)',
      () => testFirmware({ vendor, version: '2.0.0', corrupt: true }),
    ],
    ['built for another model', () => testFirmware({ vendor, version: '2.0.0', models: ['Other-Cam'] })],
    ['older than anything it holds (anti-rollback)', () => testFirmware({ vendor, version: '0.9.0' })],
    [
      'its upgrade path needs a newer running version',
      () => testFirmware({ vendor, version: '3.0.0', minPreviousVersion: '2.0.0' }),
    ],
  ])('is refused by the camera itself when %s: HTTP 415, no reboot, old image runs', async (_name, make) => {
    const r = await started();
    const result = await install(r, make());
    expect(result).toMatchObject({ outcome: 'failed', code: 'ONVIF_FIRMWARE_REFUSED', retryable: false });
    const status = r.camera.firmwareStatus();
    expect(status).toMatchObject({
      version: '1.0.0',
      signed: true,
      uploads: { flashed: 0, refused: { 415: 1 } },
    });
    expect(status.slots.slots.B).toBeNull();
    expect(r.camera.stats.boots).toBe(1);
  });
});
