import {
  type SimOnvifCamera,
  type SimOnvifCameraOptions,
  startSimOnvifCamera,
} from '../sim-onvif-camera/sim-camera.ts';

export const CAMERA_PASSWORD_ENV = 'SCENEWAY_FW_CAM_PASSWORD';

/** Simulated cameras pinning the test vendor's key, with short reboots; the password is set for the driver. */
export async function startFirmwareCameras(
  count: number,
  vendorPublicKeyHex: string,
  each: (i: number) => SimOnvifCameraOptions = () => ({}),
): Promise<SimOnvifCamera[]> {
  process.env[CAMERA_PASSWORD_ENV] = 'camera-pass';
  return Promise.all(
    Array.from({ length: count }, (_, i) =>
      startSimOnvifCamera({
        maxPullWaitMs: 250,
        vendorPublicKeys: [vendorPublicKeyHex],
        firmwareRebootMs: 150,
        ...each(i),
      }),
    ),
  );
}

/** The drivers[] entry of one camera: the onvif-camera driver feeding the parking scenario. */
export function cameraEntry(id: string, cam: SimOnvifCamera) {
  return {
    driver: 'onvif-camera',
    scenario: 'parking',
    config: {
      id,
      lane: 'entry',
      deviceUrl: cam.deviceUrl,
      username: 'admin',
      passwordEnv: CAMERA_PASSWORD_ENV,
      relayToken: 'relay_barrier',
      silenceTimeoutMs: 3000,
      requestTimeoutMs: 3000,
      reconnect: { initialDelayMs: 20, maxDelayMs: 200 },
      firmware: { pollIntervalMs: 20, rebootMarginMs: 8000 },
    },
  };
}

export const PARKING_SCENARIO = {
  parking: { fees: { freeMinutes: 15, perHourFen: 500, dailyCapFen: 4000 } },
};

export async function closeCameras(cams: readonly SimOnvifCamera[]): Promise<void> {
  for (const c of cams) await c.firmwareSettled();
  await Promise.all(cams.map((c) => c.close()));
  delete process.env[CAMERA_PASSWORD_ENV];
}
