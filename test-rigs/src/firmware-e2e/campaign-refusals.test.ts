import { makeTestVendor } from '@sceneway/firmware-tools/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimOnvifCamera } from '../sim-onvif-camera/sim-camera.ts';
import { type CampaignRig, startCampaignRig } from './campaign-rig.ts';
import { cameraEntry, closeCameras, PARKING_SCENARIO, startFirmwareCameras } from './onvif-cameras.ts';

/**
 * Refusals before any byte (issue #15 item 4): each camera reports itself over ONVIF (GetDeviceInformation)
 * and the campaign checks the package against that before a StartFirmwareUpgrade: a wrong model, a
 * downgrade (anti-rollback) and a terminal below the upgrade path are refused with their code, and the
 * camera never even hands out an upload URI. A fitting one in the same campaign is updated.
 */
const vendor = makeTestVendor();
const ids = ['cam-model', 'cam-newer', 'cam-old', 'cam-fits'];
const identities = [
  { model: 'OTHER-CAM' },
  { firmwareVersion: '3.1.0' },
  { firmwareVersion: '0.9.0' },
  { firmwareVersion: '1.2.0' },
];
let cams: SimOnvifCamera[] = [];
let rig: CampaignRig;

beforeAll(async () => {
  cams = await startFirmwareCameras(ids.length, vendor.publicKeyHex, (i) => ({ identity: identities[i]! }));
  rig = await startCampaignRig({
    vendor,
    drivers: ids.map((id, i) => cameraEntry(id, cams[i]!)),
    terminals: ids,
    scenarios: PARKING_SCENARIO,
  });
}, 90_000);

afterAll(async () => {
  await rig?.close();
  await closeCameras(cams);
});

describe('campaign refusals before any byte reaches a terminal', () => {
  it('wrong model, downgrade and too-old terminals are refused by code; the fitting one is updated', async () => {
    const pkg = await rig.addPackage({
      family: 'onvif-camera',
      models: ['LPR-Cam-1'],
      version: '2.0.0',
      minPreviousVersion: '1.0.0',
    });
    const created = await rig.start({
      packageId: pkg,
      target: { family: 'onvif-camera' },
      canary: 0,
      waves: [100],
    });
    const done = await rig.until(created.id, 'the campaign to settle', (c) => c.status === 'completed');
    const row = (id: string) => done.terminals.find((t) => t.terminalId === id);
    expect(row('cam-model')).toMatchObject({ state: 'refused', code: 'FW_WRONG_MODEL', attempts: 0 });
    expect(row('cam-newer')).toMatchObject({
      state: 'refused',
      code: 'FW_DOWNGRADE',
      previousVersion: '3.1.0',
    });
    expect(row('cam-old')).toMatchObject({
      state: 'refused',
      code: 'FW_PREVIOUS_TOO_OLD',
      previousVersion: '0.9.0',
    });
    expect(row('cam-fits')).toMatchObject({ state: 'healthy', reportedVersion: '2.0.0' });
    for (const i of [0, 1, 2]) {
      // Not an upload URI asked for, not a byte received: the refusal came before StartFirmwareUpgrade.
      expect(cams[i]!.firmwareStatus().uploads).toMatchObject({
        urisIssued: 0,
        bytesReceived: 0,
        flashed: 0,
      });
    }
    expect(cams[3]!.firmwareStatus()).toMatchObject({ version: '2.0.0', signed: true });
  }, 120_000);

  it('refuses a campaign change without the bearer token, before reading the body', async () => {
    const res = await fetch(new URL('/api/firmware/campaigns', rig.agent.adminUrl), {
      method: 'POST',
      headers: { authorization: 'Bearer wrong-token-wrong-token', 'content-type': 'application/json' },
      body: '{"not":"even checked"}',
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ code: 'ADMIN_UNAUTHORIZED' });
    const bad = await rig.post('/api/firmware/campaigns', { packageId: 'x', target: { family: 'toaster' } });
    expect(bad).toMatchObject({ status: 400, body: { code: 'ADMIN_BAD_REQUEST' } });
  });
});
