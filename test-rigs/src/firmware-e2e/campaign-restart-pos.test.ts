import { join } from 'node:path';
import { makeTestVendor } from '@sceneway/firmware-tools/testing';
import { waitFor } from '@sceneway/gateway-agent/testing';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readChunkLog, resentAcknowledged } from '../sim-canteen-pos/sim-firmware.ts';
import { type CampaignRig, startCampaignRig } from './campaign-rig.ts';
import { POS_MODEL, posTillFleet } from './pos-tills.ts';

/**
 * Restart survival where resume is the terminal's knowledge: the agent is stopped while a till is
 * taking chunks over its pty; the campaign row stays `transferring`; the restarted agent drives it
 * again and the driver asks the till which chunks of this image it holds, so not one acknowledged
 * chunk is sent twice (the till's own chunk log says so), and the till ends on the new signed image.
 */
const vendor = makeTestVendor();
const TILLS = ['till-1'];
let tills: Awaited<ReturnType<typeof posTillFleet>>;
let rig: CampaignRig;

beforeAll(async () => {
  tills = await posTillFleet(TILLS, vendor.publicKeyHex);
  rig = await startCampaignRig({
    vendor,
    canteenLines: tills.canteenLines,
    drivers: [],
    terminals: TILLS,
    prepare: (config, secrets) => tills.provision(config, secrets),
    afterBoot: () => tills.start(),
  });
}, 90_000);

afterAll(async () => {
  await rig?.close();
  await tills?.close();
});

describe('campaign restart mid-transfer over the POS line', () => {
  it('resumes from the chunks the till holds: no acknowledged chunk sent again', async () => {
    const pkg = await rig.addPackage(
      {
        family: 'canteen-pos',
        models: [POS_MODEL],
        version: '2.2.0',
        minPreviousVersion: '1.0.0',
        chunkSize: 4096,
      },
      96 * 1024,
    );
    const created = await rig.start({
      packageId: pkg,
      target: { family: 'canteen-pos' },
      canary: 1,
      waves: [],
    });
    // The till's chunk log as it writes it under its state dir: it spans the power cycle below.
    const log = () => readChunkLog(tills.stateDirOf('till-1'));
    await waitFor(() => log().filter((e) => e.kind === 'ack').length >= 4, 'a few chunks acknowledged');
    await rig.agent.stop(); // the till stays powered: it keeps its staged chunks and its old session
    const ackedBeforeStop = log().filter((e) => e.kind === 'ack').length;
    const db = new Database(join(rig.dataDir, 'firmware.db'), { readonly: true });
    expect(db.prepare('SELECT state FROM campaign_terminals').all()).toEqual([{ state: 'transferring' }]);
    db.close();

    await rig.restart();
    const done = await rig.until(
      created.id,
      'the campaign to complete after the restart',
      (c) => c.status === 'completed',
    );
    expect(done.terminals).toEqual([
      expect.objectContaining({
        terminalId: 'till-1',
        state: 'healthy',
        reportedVersion: '2.2.0',
        attempts: 1,
      }),
    ]);
    expect(log().filter((e) => e.kind === 'ack').length).toBeGreaterThan(ackedBeforeStop);
    expect(resentAcknowledged(log())).toBe(0);
    expect(tills.firmwareOf('till-1').status()).toMatchObject({ version: '2.2.0', signed: true });
  }, 180_000);
});
