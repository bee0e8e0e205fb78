import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FirmwareProgress } from '../device-drivers/src/driver-api.ts';
import { makeTestVendor, testFirmwareImage, verifiedTestFirmware } from '../firmware-tools/src/testing.ts';
import { startOnvifDriverRig } from '../test-rigs/src/sim-onvif-camera/driver-rig.ts';

/**
 * ONVIF camera firmware (issue #15): one package of BENCH_ONVIF_FW_MIB MiB installed by the real
 * onvif-camera driver into the simulated camera over loopback HTTP: StartFirmwareUpgrade, the streamed
 * POST of the whole .swfw (read from the package file in 64 KiB slices), the camera's inline SM3 per
 * chunk and whole plus its SM2 check, its reboot and return. Baseline in the same run: the same file
 * POSTed by a bare node:http client to a server that only counts bytes. Both ends share this process
 * (and the machine's 2 cores), so the figures are a floor, not a camera's.
 */
const MIB = Number(process.env.BENCH_ONVIF_FW_MIB ?? 32);
const ROUNDS = Number(process.env.BENCH_ONVIF_FW_ROUNDS ?? 3);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function rawPost(path: string): Promise<number> {
  const server = createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => res.end('ok'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/upload',
        headers: { 'content-type': 'application/octet-stream', 'content-length': statSync(path).size },
      },
      (res) => {
        res.resume();
        res.on('end', resolve);
      },
    );
    req.on('error', reject);
    createReadStream(path, { highWaterMark: 64 * 1024 }).pipe(req);
  });
  const ms = performance.now() - started;
  await new Promise((resolve) => server.close(resolve));
  return ms;
}

export async function run(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'sceneway-bench-onvif-fw-'));
  try {
    const vendor = makeTestVendor();
    const image = await verifiedTestFirmware({
      dir,
      vendor,
      image: testFirmwareImage(MIB * 1024 * 1024),
      fields: {
        family: 'onvif-camera',
        models: ['LPR-Cam-1'],
        version: '2.0.0',
        minPreviousVersion: '0.0.0',
      },
    });
    const bytes = statSync(image.packagePath).size;
    const transferMs: number[] = [];
    const installMs: number[] = [];
    const rawMs: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      rawMs.push(await rawPost(image.packagePath));
      const rig = await startOnvifDriverRig({
        camera: { vendorPublicKeys: [vendor.publicKeyHex], firmwareRebootMs: 200, activateMs: 50 },
        config: { firmware: { pollIntervalMs: 20, rebootMarginMs: 30_000 } },
      });
      try {
        await rig.driver.start();
        const started = performance.now();
        let transferred = Number.NaN;
        const result = await rig.driver.firmware?.install('lot-a-entry-cam', image, {
          signal: AbortSignal.timeout(300_000),
          onProgress: (p: FirmwareProgress) => {
            if (p.phase === 'reboot' && Number.isNaN(transferred)) transferred = performance.now() - started;
          },
        });
        if (result?.outcome !== 'installed' || result.version !== '2.0.0') {
          throw new Error(`install did not succeed: ${JSON.stringify(result)}`);
        }
        transferMs.push(transferred);
        installMs.push(performance.now() - started);
        await rig.camera.firmwareSettled();
      } finally {
        await rig.close();
      }
    }
    const mibPerS = (ms: number) => bytes / (1024 * 1024) / (ms / 1000);
    const table = {
      packageMiB: +(bytes / (1024 * 1024)).toFixed(2),
      rounds: ROUNDS,
      rawPostMs: +median(rawMs).toFixed(1),
      rawPostMiBps: +mibPerS(median(rawMs)).toFixed(1),
      driverUploadAndVerifyMs: +median(transferMs).toFixed(1),
      driverUploadMiBps: +mibPerS(median(transferMs)).toFixed(1),
      uploadVsRawPost: +(median(transferMs) / median(rawMs)).toFixed(2),
      installWithRebootMs: +median(installMs).toFixed(1),
    };
    console.table(table);
    return { ...table, samples: { rawMs, transferMs, installMs } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
