import type { DriverLogger } from '@sceneway/device-drivers';
import { waitFor } from '@sceneway/gateway-agent/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { nextCameraEvent, type OnvifDriverRig, startOnvifDriverRig } from './driver-rig.ts';
import type { RelayCommand } from './sim-camera.ts';

/**
 * The onvif-camera driver, on the unmodified `onvif` client, against the simulated camera over HTTP:
 * plates in both topics, the barrier only on `open`, a reboot that forgets the subscription, renewals
 * before the lease ends, unknown topics, refused credentials.
 */
let rig: OnvifDriverRig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

async function started(options: Parameters<typeof startOnvifDriverRig>[0] = {}): Promise<OnvifDriverRig> {
  rig = await startOnvifDriverRig(options);
  const subscribed = nextCameraEvent(rig.camera, 'subscribed');
  await rig.driver.start();
  await rig.test.waitForEvent((e) => e.type === 'terminal-up');
  await subscribed;
  return rig;
}

function recordingLogger() {
  const lines: Array<{ level: string; msg: string; fields: Record<string, unknown> }> = [];
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, msg = '') =>
      lines.push({ level, msg, fields });
  const logger: DriverLogger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

describe('onvif-camera driver against the simulated camera', () => {
  it('turns a standard LicensePlate event into a sighting with its snapshot, and opens the barrier on open', async () => {
    const r = await started();
    const relay = nextCameraEvent<RelayCommand>(r.camera, 'relay');
    const objectId = r.camera.emitPlate({ plate: '京A12345', likelihood: 0.93, countryCode: 'CN' });
    const sighting = await r.nextSighting();
    expect(sighting).toMatchObject({
      eventId: `lot-a-entry-cam:${objectId}`,
      plate: '京A12345',
      confidence: 0.93,
      lane: 'entry',
      countryCode: 'CN',
    });
    expect(await relay).toMatchObject({ token: 'relay_barrier', state: 'active' });
    // The snapshot follows the sighting: the camera's JPEG (SOI marker), fetched through GetSnapshotUri.
    await waitFor(() => r.snapshots.has(sighting.eventId), 'the snapshot of the sighting');
    expect(Buffer.from(r.snapshots.get(sighting.eventId) ?? []).subarray(0, 2)).toEqual(
      Buffer.from([0xff, 0xd8]),
    );
  });

  it('reads the Hikvision Vehicle flavour (Confidence in percent)', async () => {
    const r = await started();
    r.camera.emitPlate({ plate: '沪B7Q2X9', likelihood: 0.87, flavour: 'hikvision' });
    expect(await r.nextSighting()).toMatchObject({ plate: '沪B7Q2X9', confidence: 0.87 });
  });

  it('leaves the barrier closed on deny: only the allowed car moves the relay', async () => {
    const relays: RelayCommand[] = [];
    const { logger, lines } = recordingLogger();
    const r = await started({
      logger,
      decide: (s) =>
        s.plate === '京A00001' ? { outcome: 'deny', reason: 'BLACKLISTED' } : { outcome: 'open' },
    });
    r.camera.on('relay', (c: RelayCommand) => relays.push(c));
    r.camera.emitPlate({ plate: '京A00001', likelihood: 0.95 });
    // The driver has finished with the refused car once it says so; only then does the next one come.
    await waitFor(
      () => lines.some((l) => l.msg === 'onvif camera: barrier stays closed'),
      'the refusal handled',
    );
    expect(relays).toEqual([]);
    const opened = nextCameraEvent<RelayCommand>(r.camera, 'relay');
    r.camera.emitPlate({ plate: '京A00002', likelihood: 0.95 });
    await opened;
    expect(relays).toHaveLength(1);
  });

  it('logs an unknown topic once, and goes on reading plates', async () => {
    const { logger, lines } = recordingLogger();
    const r = await started({ logger });
    const unknown = {
      topic: 'tns1:VideoSource/MotionAlarm',
      utcTime: Date.now(),
      source: { Source: 'video_src_1' },
      key: {},
      data: { State: 'true' },
    };
    r.camera.emitEvent(unknown);
    r.camera.emitEvent(unknown);
    r.camera.emitPlate({ plate: '粤C55555', likelihood: 0.9 });
    await r.nextSighting((s) => s.plate === '粤C55555');
    r.camera.emitEvent(unknown);
    r.camera.emitPlate({ plate: '粤C55556', likelihood: 0.9 });
    await r.nextSighting((s) => s.plate === '粤C55556');
    expect(lines.filter((l) => l.msg === 'onvif camera: topic ignored')).toHaveLength(1);
    expect(r.test.events.some((e) => e.type === 'terminal-down')).toBe(false);
  });

  it('subscribes again after a camera reboot forgot the subscription, and the next plate arrives', async () => {
    const r = await started();
    r.camera.emitPlate({ plate: '京A12345', likelihood: 0.93 });
    await r.nextSighting();
    const resubscribed = nextCameraEvent(r.camera, 'subscribed');
    await r.camera.reboot(30);
    await resubscribed;
    expect(r.camera.stats.boots).toBe(2);
    expect(r.camera.stats.liveSubscriptions).toBe(1);
    r.camera.emitPlate({ plate: '京A12345', likelihood: 0.93 });
    const after = await r.nextSighting(() => true, 1);
    expect(after.plate).toBe('京A12345');
  });

  it('renews before the termination time: one subscription over several leases', async () => {
    // The camera grants 2 s whatever is asked; pulls return after 250 ms.
    const r = await started({ camera: { maxLeaseMs: 2000 } });
    for (let i = 0; i < 3; i++) await nextCameraEvent(r.camera, 'renewed');
    r.camera.emitPlate({ plate: '浙A8R8R8', likelihood: 0.9 });
    await r.nextSighting();
    expect(r.camera.stats.subscriptionsCreated).toBe(1);
    expect(r.camera.stats.renewals).toBeGreaterThanOrEqual(3);
  });

  it('subscribes again when the camera faults the pull point, and keeps reading', async () => {
    const r = await started();
    r.camera.setFault('PullMessages', { code: 'Receiver', subcodes: [], reason: 'pull point gone' });
    await nextCameraEvent(r.camera, 'subscribed');
    r.camera.setFault('PullMessages', null);
    r.camera.emitPlate({ plate: '苏E12121', likelihood: 0.9 });
    expect((await r.nextSighting()).plate).toBe('苏E12121');
    // Resubscribed in place, on the same connection: the camera was never reported down.
    expect(r.test.events.filter((e) => e.type === 'terminal-down')).toEqual([]);
  });

  it('rides out a slow camera: answers late but within the timeouts still open the barrier, never down', async () => {
    const r = await started();
    r.camera.setSlow(300);
    const relay = nextCameraEvent<RelayCommand>(r.camera, 'relay');
    r.camera.emitPlate({ plate: '闽D10101', likelihood: 0.9 });
    expect((await r.nextSighting()).plate).toBe('闽D10101');
    expect(await relay).toMatchObject({ state: 'active' });
    expect(r.test.events.filter((e) => e.type === 'terminal-down')).toEqual([]);
  });

  it('is refused with a wrong password: reported down as ONVIF_AUTH_REFUSED, no plate, no relay', async () => {
    rig = await startOnvifDriverRig({ driverPassword: 'not-the-password' });
    const refused = nextCameraEvent<string>(rig.camera, 'auth-refused');
    await rig.driver.start();
    const down = await rig.test.waitForEvent((e) => e.type === 'terminal-down');
    expect(await refused).toBe('bad-digest');
    expect(down).toMatchObject({ reason: expect.stringContaining('ONVIF_AUTH_REFUSED') });
    expect(rig.camera.stats.subscriptionsCreated).toBe(0);
    expect(rig.sightings).toEqual([]);
  });

  it('refuses a pull point on another host than the camera: the box is not sent elsewhere', async () => {
    rig = await startOnvifDriverRig({ camera: { pullPointOrigin: 'http://127.0.0.2:9' } });
    const subscribed = nextCameraEvent(rig.camera, 'subscribed');
    await rig.driver.start();
    await subscribed;
    const down = await rig.test.waitForEvent((e) => e.type === 'terminal-down');
    expect(down).toMatchObject({ reason: expect.stringContaining("is not the camera's own address") });
    expect(rig.test.events.some((e) => e.type === 'terminal-up')).toBe(false);
  });
});
