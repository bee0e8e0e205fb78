import type { FirmwareFamily } from '@sceneway/core';
import { makeTestVendor } from '@sceneway/firmware-tools/testing';
import type { CampaignDetail } from '@sceneway/gateway-agent';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimOnvifCamera } from '../sim-onvif-camera/sim-camera.ts';
import { type CampaignRig, startCampaignRig, stateOf } from './campaign-rig.ts';
import { FACE_MODEL, faceReaderEntry, faceReaderFleet, gatesScenario } from './face-readers.ts';
import { cameraEntry, closeCameras, PARKING_SCENARIO, startFirmwareCameras } from './onvif-cameras.ts';
import { POS_MODEL, posTillFleet } from './pos-tills.ts';

/**
 * THE firmware e2e (issue #15, "what must be shown"): one real agent, terminals of every family that has
 * firmware delivery on their real transports: canteen POS tills on socat pty pairs (chunked frames
 * with per-chunk acks, resume from the till's own staging), face readers as mqtt.js clients of the agent's broker
 * fetching by HTTP Range from the driver's image server, ONVIF cameras over SOAP/HTTP taking a whole
 * upload. One campaign per family (a package is for one family), each with a canary whose simulator
 * boot-fails the new image: every gate fails, every canary is rolled back, every campaign pauses with
 * the reason and an alert, and nothing reaches the other terminals. The fault is cleared, the campaigns
 * are resumed and complete; every terminal ends on the new version with a signed image, as each
 * simulator itself says.
 */
const vendor = makeTestVendor();
const CAMERAS = ['cam-1', 'cam-2'];
const READERS = ['gate-1', 'gate-2'];
const TILLS = ['till-1', 'till-2', 'till-3'];
let cams: SimOnvifCamera[] = [];
const faces = faceReaderFleet(READERS, vendor.publicKeyHex);
let tills: Awaited<ReturnType<typeof posTillFleet>>;
let rig: CampaignRig;

/** What the e2e needs of each family: its terminals, its model, a boot fault, and the sim's own word. */
interface FamilyUnderTest {
  family: FirmwareFamily;
  ids: string[];
  model: string;
  setBootFail(id: string, on: boolean): void;
  /** Asked of the simulator, not of the agent: what it runs and whether that image was signed. */
  running(id: string): { version: string; signed: boolean };
  /** Bytes of firmware the simulator took so far (nothing may reach a terminal after a failed canary). */
  bytesTaken(id: string): number;
}

const camera = (id: string) => cams[CAMERAS.indexOf(id)]!;
const reader = (id: string) => faces.readers.get(id)!;
const FAMILIES: FamilyUnderTest[] = [
  {
    family: 'canteen-pos',
    ids: TILLS,
    model: POS_MODEL,
    setBootFail: (id, on) => {
      tills.firmwareOf(id).faults.bootFail = on;
    },
    running: (id) => tills.firmwareOf(id).status(),
    bytesTaken: (id) =>
      tills.firmwareOf(id).chunkLog.reduce((n, e) => n + (e.kind === 'chunk' ? e.length : 0), 0),
  },
  {
    family: 'onvif-camera',
    ids: CAMERAS,
    model: 'LPR-Cam-1',
    setBootFail: (id, on) => camera(id).setFirmwareFaults({ bootFail: on }),
    running: (id) => camera(id).firmwareStatus(),
    bytesTaken: (id) => camera(id).firmwareStatus().uploads.bytesReceived,
  },
  {
    family: 'face-reader',
    ids: READERS,
    model: FACE_MODEL,
    setBootFail: (id, on) => {
      reader(id).firmware!.faults.bootFail = on;
    },
    running: (id) => reader(id).firmware!.status(),
    bytesTaken: (id) => reader(id).firmware!.fetches.reduce((n, f) => n + f.received, 0),
  },
];

beforeAll(async () => {
  cams = await startFirmwareCameras(CAMERAS.length, vendor.publicKeyHex);
  tills = await posTillFleet(TILLS, vendor.publicKeyHex);
  rig = await startCampaignRig({
    vendor,
    canteenLines: tills.canteenLines,
    drivers: [...CAMERAS.map((id) => cameraEntry(id, camera(id))), faceReaderEntry(READERS)],
    scenarios: { ...PARKING_SCENARIO, ...gatesScenario(READERS) },
    terminals: [...TILLS, ...CAMERAS, ...READERS],
    prepare: (config, secrets) => tills.provision(config, secrets),
    afterBoot: async (agent) => {
      await tills.start();
      await faces.connect(agent);
    },
    healthDeadlineSeconds: 5,
  });
}, 120_000);

afterAll(async () => {
  await rig?.close();
  await faces.close();
  await tills?.close();
  await closeCameras(cams);
});

describe('firmware campaigns across every family on its real transport', () => {
  it('canaries boot-fail: gates fail, rolled back, campaigns paused; fault cleared, resumed, all complete on signed images', async () => {
    const campaigns = new Map<FirmwareFamily, CampaignDetail>();
    for (const f of FAMILIES) {
      // The package a terminal ran before stays in the repository: ONVIF's rollback is its re-upload.
      await rig.addPackage({
        family: f.family,
        models: [f.model],
        version: '1.0.0',
        minPreviousVersion: '0.0.0',
        chunkSize: 16 * 1024,
      });
      const next = await rig.addPackage(
        {
          family: f.family,
          models: [f.model],
          version: '2.0.0',
          minPreviousVersion: '1.0.0',
          chunkSize: 16 * 1024,
        },
        300_000,
      );
      f.setBootFail(f.ids[0]!, true);
      campaigns.set(
        f.family,
        await rig.start({ packageId: next, target: { family: f.family }, canary: 1, waves: [100] }),
      );
    }

    for (const f of FAMILIES) {
      const id = campaigns.get(f.family)!.id;
      const paused = await rig.until(
        id,
        `${f.family}: the canary gate to fail`,
        (c) => c.status === 'paused',
      );
      const [canary, ...rest] = f.ids;
      expect(stateOf(paused, canary!), f.family).toMatchObject({
        state: 'rolled-back',
        code: 'FIRMWARE_HEALTH_GATE',
      });
      expect(paused.reason, f.family).toMatch(
        new RegExp(`^${canary} is rolled-back .*instead of 2\\.0\\.0; rolled back to 1\\.0\\.0`),
      );
      for (const other of rest) {
        expect(stateOf(paused, other)?.state, `${f.family} ${other}`).toBe('pending');
        expect(f.bytesTaken(other), `${f.family} ${other}: no byte after a failed canary`).toBe(0);
      }
      expect(f.running(canary!), f.family).toEqual(
        expect.objectContaining({ version: '1.0.0', signed: true }),
      );
    }
    const alerts = rig.agent.status().alerts.map((a) => a.code);
    for (const f of FAMILIES) expect(alerts).toContain(`FIRMWARE_HEALTH_GATE:${f.ids[0]}`);

    for (const f of FAMILIES) {
      f.setBootFail(f.ids[0]!, false);
      const { status } = await rig.post(`/api/firmware/campaigns/${campaigns.get(f.family)!.id}/resume`);
      expect(status).toBe(200);
    }
    for (const f of FAMILIES) {
      const id = campaigns.get(f.family)!.id;
      const done = await rig.until(
        id,
        `${f.family}: the campaign to complete`,
        (c) => c.status === 'completed',
      );
      expect(done.terminals.map((t) => [t.terminalId, t.state, t.reportedVersion])).toEqual(
        f.ids.map((t) => [t, 'healthy', '2.0.0']),
      );
      // Every terminal ends on the new version with a signed image: each simulator's own word.
      for (const t of f.ids)
        expect(f.running(t), `${f.family} ${t}`).toEqual(
          expect.objectContaining({ version: '2.0.0', signed: true }),
        );
    }
    expect(
      rig.agent
        .status()
        .alerts.map((a) => a.code)
        .filter((c) => c.startsWith('FIRMWARE_')),
    ).toEqual([]);
  }, 240_000);
});
