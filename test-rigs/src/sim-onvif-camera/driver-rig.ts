import {
  type AccessDecision,
  type DriverInstance,
  type DriverLogger,
  onvifCameraConfigSchema,
  onvifCameraDriver,
  type PlateSighting,
} from '@sceneway/device-drivers';
import {
  createTestDriverContext,
  quietDriverLogger,
  type TestDriverContext,
} from '@sceneway/device-drivers/testing';
import { type SimOnvifCamera, type SimOnvifCameraOptions, startSimOnvifCamera } from './sim-camera.ts';

/**
 * TESTS ONLY: the real onvif-camera driver (through its DriverDefinition, on the `onvif` package)
 * against a simulated camera on a loopback port, with the agent's side played by `decide`.
 */
export interface OnvifDriverRig {
  camera: SimOnvifCamera;
  driver: DriverInstance;
  test: TestDriverContext;
  /** Every sighting the driver submitted, in order. */
  sightings: PlateSighting[];
  /** Snapshots the driver sent after its sightings, by event id. */
  snapshots: Map<string, Uint8Array>;
  /** Resolves with the first sighting from `since` on that matches. */
  nextSighting(match?: (s: PlateSighting) => boolean, since?: number): Promise<PlateSighting>;
  close(): Promise<void>;
}

let envCounter = 0;

export async function startOnvifDriverRig(
  options: {
    camera?: SimOnvifCameraOptions;
    /** The password the driver is configured with; the camera's own by default. */
    driverPassword?: string;
    decide?: (sighting: PlateSighting) => AccessDecision | Promise<AccessDecision>;
    config?: Record<string, unknown>;
    logger?: DriverLogger;
  } = {},
): Promise<OnvifDriverRig> {
  const camera = await startSimOnvifCamera({ maxPullWaitMs: 250, ...options.camera });
  const passwordEnv = `SIM_ONVIF_PASSWORD_${process.pid}_${++envCounter}`;
  process.env[passwordEnv] = options.driverPassword ?? options.camera?.password ?? 'camera-pass';
  const sightings: PlateSighting[] = [];
  const snapshots = new Map<string, Uint8Array>();
  const listeners = new Set<() => void>();
  const test = createTestDriverContext({
    transports: { open: () => Promise.reject(new Error('no byte transports in an ONVIF rig')) },
    logger: options.logger ?? quietDriverLogger,
    onPlateSnapshot: (_terminalId, eventId, jpeg) => {
      snapshots.set(eventId, jpeg);
      for (const l of [...listeners]) l();
    },
    decidePlate: (_terminalId, sighting) => {
      sightings.push(sighting);
      for (const l of [...listeners]) l();
      return options.decide ? options.decide(sighting) : { outcome: 'open' };
    },
  });
  const config = onvifCameraConfigSchema.parse({
    id: 'lot-a-entry-cam',
    lane: 'entry',
    deviceUrl: camera.deviceUrl,
    username: options.camera?.username ?? 'admin',
    passwordEnv,
    relayToken: 'relay_barrier',
    silenceTimeoutMs: 2000,
    requestTimeoutMs: 2000,
    reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
    ...options.config,
  });
  const driver = onvifCameraDriver.create(test.ctx, config);
  return {
    camera,
    driver,
    test,
    sightings,
    snapshots,
    nextSighting(match = () => true, since = sightings.length) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = sightings.slice(since).find(match);
          if (!found) return false;
          listeners.delete(check);
          clearTimeout(timer);
          resolve(found);
          return true;
        };
        // A liveness bound for a hung driver, not a speed assertion.
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no matching plate sighting within 10 s; saw ${sightings.length}`));
        }, 10_000);
        if (!check()) listeners.add(check);
      });
    },
    async close() {
      await driver.stop();
      await camera.close();
      delete process.env[passwordEnv];
    },
  };
}

/** Resolves on the camera's next `name` event (relay, subscribed, renewed, auth-refused). */
export function nextCameraEvent<T = unknown>(camera: SimOnvifCamera, name: string): Promise<T> {
  return new Promise((resolve) => camera.once(name, resolve));
}
