import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeTestVendor } from '@sceneway/firmware-tools/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimOnvifCamera } from '../sim-onvif-camera/sim-camera.ts';
import { type CampaignRig, startCampaignRig, stateOf } from './campaign-rig.ts';
import { cameraEntry, closeCameras, PARKING_SCENARIO, startFirmwareCameras } from './onvif-cameras.ts';

/**
 * The campaign engine with a real family's firmware delivery: the onvif-camera driver (StartFirmwareUpgrade,
 * whole-package upload) against three simulated cameras over HTTP, in a real agent, driven through the
 * admin API. The canary boot-fails: gate fails, the camera is rolled back (re-upload of the package it ran
 * before, kept in the repository), the campaign pauses with the reason and an alert; fault cleared,
 * resume, the campaign goes on stage by stage to the end, every camera on the new signed image.
 */
const BIN = fileURLToPath(new URL('../../../gateway-agent/bin/sceneway.js', import.meta.url));
/** The `sceneway` command as an operator runs it; async, since the agent it asks runs in this process. */
const sceneway = (args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
const vendor = makeTestVendor();
const ids = ['cam-a', 'cam-b', 'cam-c'];
let cams: SimOnvifCamera[] = [];
let rig: CampaignRig;

beforeAll(async () => {
  cams = await startFirmwareCameras(ids.length, vendor.publicKeyHex);
  rig = await startCampaignRig({
    vendor,
    drivers: ids.map((id, i) => cameraEntry(id, cams[i]!)),
    terminals: ids,
    scenarios: PARKING_SCENARIO,
    healthDeadlineSeconds: 5,
  });
}, 90_000);

afterAll(async () => {
  await rig?.close();
  await closeCameras(cams);
});

const fields = (version: string, minPreviousVersion = '1.0.0') => ({
  family: 'onvif-camera' as const,
  models: ['LPR-Cam-1'],
  version,
  minPreviousVersion,
});

describe('firmware campaign through the onvif-camera driver and simulated cameras', () => {
  it('canary boot-fails: gate fails, rolled back, paused with an alert; resumed, it completes on signed images', async () => {
    const factory = await rig.addPackage(fields('1.0.0', '0.0.0'));
    const next = await rig.addPackage(fields('2.0.0'));
    cams[0]!.setFirmwareFaults({ bootFail: true });

    const created = await rig.start({
      packageId: next,
      target: { family: 'onvif-camera' },
      canary: 1,
      waves: [100],
    });
    expect(created.stages).toEqual([['cam-a'], ['cam-b', 'cam-c']]);

    const paused = await rig.until(created.id, 'the canary gate to fail', (c) => c.status === 'paused');
    expect(stateOf(paused, 'cam-a')).toMatchObject({
      state: 'rolled-back',
      code: 'FIRMWARE_HEALTH_GATE',
      previousVersion: '1.0.0',
      previousPackageId: factory,
      reportedVersion: '1.0.0',
    });
    expect(paused.reason).toMatch(
      /^cam-a is rolled-back \(FIRMWARE_HEALTH_GATE\): health gate failed .*reports version 1\.0\.0 instead of 2\.0\.0; rolled back to 1\.0\.0 \(the terminal fell back/,
    );
    // The wave after the canary never started: not a byte to cam-b or cam-c.
    expect(paused.terminals.filter((t) => t.stage === 1).map((t) => t.state)).toEqual(['pending', 'pending']);
    expect(cams[1]!.firmwareStatus().uploads.uploadsStarted).toBe(0);
    expect(cams[2]!.firmwareStatus().uploads.uploadsStarted).toBe(0);
    // The camera fell back to its old slot by itself: no second flash of the old image for nothing.
    expect(cams[0]!.firmwareStatus()).toMatchObject({ version: '1.0.0', signed: true });
    expect(cams[0]!.firmwareStatus().uploads.flashed).toBe(1);
    // The agent's alert path, and `sceneway status`'s source.
    const status = rig.agent.status();
    expect(status.alerts.map((a) => a.code)).toContain('FIRMWARE_HEALTH_GATE:cam-a');
    expect(status.firmwareCampaigns).toEqual([
      expect.objectContaining({
        id: created.id,
        status: 'paused',
        byState: { 'rolled-back': 1, pending: 2 },
      }),
    ]);

    cams[0]!.setFirmwareFaults({ bootFail: false });
    const resumed = await rig.post(`/api/firmware/campaigns/${created.id}/resume`);
    expect(resumed.status).toBe(200);
    const done = await rig.until(created.id, 'the campaign to complete', (c) => c.status === 'completed');
    expect(done.terminals.map((t) => [t.terminalId, t.state, t.reportedVersion])).toEqual([
      ['cam-a', 'healthy', '2.0.0'],
      ['cam-b', 'healthy', '2.0.0'],
      ['cam-c', 'healthy', '2.0.0'],
    ]);
    for (const cam of cams) expect(cam.firmwareStatus()).toMatchObject({ version: '2.0.0', signed: true });
    expect(rig.agent.status().alerts.map((a) => a.code)).not.toContain('FIRMWARE_HEALTH_GATE:cam-a');

    // The operator's view: `sceneway status` and `sceneway firmware campaign status <id>` (no TTY: plain lines).
    const statusCli = await sceneway(['status', '--url', rig.agent.adminUrl]);
    expect(statusCli.stdout).toContain(
      `firmware campaigns:\n  ${created.id} onvif-camera → 2.0.0 COMPLETED: 3 healthy`,
    );
    const one = await sceneway(['firmware', 'campaign', 'status', created.id, '--url', rig.agent.adminUrl]);
    expect(one.code).toBe(0);
    expect(one.stdout.split('\n').slice(0, 4)).toEqual([
      expect.stringMatching(
        new RegExp(`^${created.id} onvif-camera → 2\\.0\\.0 COMPLETED stage 2/2: 3 healthy`),
      ),
      expect.stringMatching(/^ {2}stage 1 cam-a +healthy \(runs 2\.0\.0\)$/),
      expect.stringMatching(/^ {2}stage 2 cam-b +healthy \(runs 2\.0\.0\)$/),
      expect.stringMatching(/^ {2}stage 2 cam-c +healthy \(runs 2\.0\.0\)$/),
    ]);
  }, 120_000);

  it('a camera that reports a wrong version is rolled back by re-upload of the package it ran; abort stops the rest', async () => {
    const before = cams.map((c) => c.firmwareStatus().uploads.bytesReceived);
    const flashedBefore = cams[0]!.firmwareStatus().uploads.flashed;
    const next = await rig.addPackage(fields('2.1.0', '2.0.0'));
    // From the upload on (before it, the camera would be refused as a downgrade and never sent a byte).
    cams[0]!.once('firmware-upgrade-started', () => cams[0]!.setFirmwareFaults({ reportVersion: '9.9.9' }));
    const created = await rig.start({
      packageId: next,
      target: { family: 'onvif-camera' },
      canary: 1,
      waves: [50],
    });
    const paused = await rig.until(created.id, 'the canary gate to fail', (c) => c.status === 'paused');
    expect(stateOf(paused, 'cam-a')).toMatchObject({
      state: 'rolled-back',
      previousVersion: '2.0.0',
      previousPackageId: expect.stringMatching(/^onvif-camera-2\.0\.0-/),
    });
    // No slot revert on ONVIF: the 2.0.0 package kept in the repository was uploaded and flashed again.
    expect(cams[0]!.firmwareStatus()).toMatchObject({ version: '2.0.0', signed: true });
    expect(cams[0]!.firmwareStatus().uploads.flashed).toBe(flashedBefore + 2); // 2.1.0, then 2.0.0 again

    const aborted = await rig.post<{ status: string; terminals: Array<{ state: string }> }>(
      `/api/firmware/campaigns/${created.id}/abort`,
    );
    expect(aborted.status).toBe(200);
    expect(aborted.body.status).toBe('aborted');
    expect((await rig.post(`/api/firmware/campaigns/${created.id}/resume`)).body).toMatchObject({
      code: 'FIRMWARE_CAMPAIGN_STATE',
    });
    expect(cams[1]!.firmwareStatus().uploads.bytesReceived).toBe(before[1]);
    expect(cams[2]!.firmwareStatus().uploads.bytesReceived).toBe(before[2]);
    cams[0]!.setFirmwareFaults({ reportVersion: '' });
  }, 120_000);
});
