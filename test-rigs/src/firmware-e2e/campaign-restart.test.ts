import { makeTestVendor } from '@sceneway/firmware-tools/testing';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimOnvifCamera } from '../sim-onvif-camera/sim-camera.ts';
import { type CampaignRig, startCampaignRig } from './campaign-rig.ts';
import { cameraEntry, closeCameras, PARKING_SCENARIO, startFirmwareCameras } from './onvif-cameras.ts';

/**
 * Restart survival: the agent is stopped while the canary's transfer is under way (the camera has just
 * handed out its upload URI); the campaign's per-terminal rows are on disk as they were (`transferring`
 * for the canary, `pending` for the rest); the agent starts again on the same data dir and the campaign
 * goes on by itself from that row: the transfer is driven again (ONVIF has no resume: a whole upload)
 * and every camera ends on the new signed image.
 */
const vendor = makeTestVendor();
const ids = ['cam-1', 'cam-2'];
let cams: SimOnvifCamera[] = [];
let rig: CampaignRig;

beforeAll(async () => {
  cams = await startFirmwareCameras(ids.length, vendor.publicKeyHex);
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

const rowsOnDisk = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return db
      .prepare<[], { terminal_id: string; state: string }>(
        'SELECT terminal_id, state FROM campaign_terminals ORDER BY terminal_id',
      )
      .all();
  } finally {
    db.close();
  }
};

describe('campaign state survives an agent restart', () => {
  it('stopped mid-transfer, started again: the transfer is driven again and the campaign completes', async () => {
    const pkg = await rig.addPackage(
      { family: 'onvif-camera', models: ['LPR-Cam-1'], version: '2.1.0', minPreviousVersion: '1.0.0' },
      2 * 1024 * 1024,
    );
    const uploading = new Promise<void>((resolve) =>
      cams[0]!.once('firmware-upgrade-started', () => resolve()),
    );
    const created = await rig.start({
      packageId: pkg,
      target: { family: 'onvif-camera' },
      canary: 1,
      waves: [100],
    });
    await uploading;
    await rig.agent.stop();

    const statePath = `${rig.dataDir}/firmware.db`;
    expect(rowsOnDisk(statePath)).toEqual([
      { terminal_id: 'cam-1', state: 'transferring' },
      { terminal_id: 'cam-2', state: 'pending' },
    ]);
    expect(cams[0]!.firmwareStatus().uploads.flashed).toBe(0);

    await rig.restart();
    const done = await rig.until(
      created.id,
      'the campaign to complete after the restart',
      (c) => c.status === 'completed',
    );
    expect(done.terminals.map((t) => [t.terminalId, t.state, t.reportedVersion, t.attempts])).toEqual([
      ['cam-1', 'healthy', '2.1.0', 1],
      ['cam-2', 'healthy', '2.1.0', 1],
    ]);
    // One upload URI before the stop, one more when the restarted agent drove the row again; one flash.
    expect(cams[0]!.firmwareStatus().uploads).toMatchObject({ urisIssued: 2, flashed: 1 });
    for (const cam of cams) expect(cam.firmwareStatus()).toMatchObject({ version: '2.1.0', signed: true });
  }, 180_000);
});
