import { type SimOnvifCamera, startSimOnvifCamera } from '../sim-onvif-camera/sim-camera.ts';
import { pause } from './pause.ts';

/**
 * The demo site's parking lot: an entry and an exit camera (simulated ONVIF, on loopback ports), the
 * config entries that point the agent's onvif-camera driver at them, and a scripted traffic of cars
 * that come in and leave a little later. Each car's stay is a few seconds of demo time; the fee rules
 * are the lot's, so a short stay is free and the printed fee appears once the demo has run a while.
 */
export const DEMO_CAMERA_PASSWORD_ENV = 'SCENEWAY_DEMO_CAMERA_PASSWORD';
const DEMO_CAMERA_PASSWORD = 'demo-camera-only';
const PLATES = ['京A12345', '京B6Q7R8', '沪C55555', '粤B99999', '浙A8R8R8', '苏E12121'];

export interface DemoParking {
  drivers: Array<{ driver: string; scenario: string; config: Record<string, unknown> }>;
  /** `scenarios.parking`: a staff car, one blacklisted plate, minutes priced as hours for the demo. */
  scenario: Record<string, unknown>;
  play(options: { log(line: string): void; signal: AbortSignal }): Promise<void>;
  stop(): Promise<void>;
}

export async function startDemoParking(): Promise<DemoParking> {
  process.env[DEMO_CAMERA_PASSWORD_ENV] = DEMO_CAMERA_PASSWORD;
  const entry = await startSimOnvifCamera({ password: DEMO_CAMERA_PASSWORD });
  const exit = await startSimOnvifCamera({ password: DEMO_CAMERA_PASSWORD });
  const camera = (id: string, lane: 'entry' | 'exit', cam: SimOnvifCamera) => ({
    driver: 'onvif-camera',
    scenario: 'parking',
    config: {
      id,
      lane,
      deviceUrl: cam.deviceUrl,
      username: 'admin',
      passwordEnv: DEMO_CAMERA_PASSWORD_ENV,
      relayToken: 'relay_barrier',
      relayPulseMs: 2000,
    },
  });
  const relayLog = (lane: string, log: (line: string) => void) => (c: { state: string }) => {
    if (c.state === 'active') log(`parking ${lane} barrier opened`);
  };
  return {
    drivers: [camera('lot-entry-cam', 'entry', entry), camera('lot-exit-cam', 'exit', exit)],
    scenario: {
      fees: { freeMinutes: 0, perHourFen: 500, dailyCapFen: 4000 },
      whitelist: [{ plate: '苏E12121', kind: 'staff' }],
      blacklist: [{ plate: '粤B99999', note: 'demo: unpaid fees' }],
    },
    async play({ log, signal }) {
      // Whether the entry barrier opened for the car at the lane: a refused car turns back instead of
      // driving to the exit (which the lot would rightly queue for review as an exit without entry).
      let entryOpened = false;
      entry.on('relay', (c: { state: string }) => {
        if (c.state === 'active') entryOpened = true;
      });
      entry.on('relay', relayLog('entry', log));
      exit.on('relay', relayLog('exit', log));
      // A camera only tells subscribers: the first car waits until the agent's drivers have subscribed.
      for (const cam of [entry, exit]) {
        if (cam.stats.liveSubscriptions === 0)
          await new Promise((resolve) => cam.once('subscribed', resolve));
      }
      for (let i = 0; !signal.aborted; i++) {
        const plate = PLATES[i % PLATES.length] as string;
        log(`parking: a car (plate hidden) arrives at the entry camera`);
        entryOpened = false;
        entry.emitPlate({ plate, likelihood: 0.95, flavour: i % 2 === 0 ? 'onvif' : 'hikvision' });
        if (!(await pause(4000, signal))) break;
        if (!entryOpened) {
          log('parking: the entry barrier stayed shut; the car turns back');
          continue;
        }
        log(`parking: a car leaves by the exit camera`);
        exit.emitPlate({ plate, likelihood: 0.93 });
        if (!(await pause(6000, signal))) break;
      }
    },
    async stop() {
      await entry.close();
      await exit.close();
    },
  };
}
