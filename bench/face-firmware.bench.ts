import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FirmwareImage } from '../device-drivers/src/driver-api.ts';
import { makeTestVendor, testFirmwareImage, verifiedTestFirmware } from '../firmware-tools/src/testing.ts';
import { startFaceDriverRig } from '../test-rigs/src/sim-face-reader/driver-rig.ts';
import { type SimReader, startSimReader } from '../test-rigs/src/sim-face-reader/sim-reader.ts';

/**
 * Face-reader firmware delivery (docs/protocols/face-reader.md §8), in one process: the face-reader
 * driver on the agent's aedes broker with its image server, and a simulated reader (mqtt.js, HTTP
 * Range windows of 256 KiB written to its state directory, SM2 over the manifest, SM3 of every chunk
 * and the image, then a reboot over MQTT). Baseline in the same run: one plain GET of the whole image
 * from the same image server, discarded. Also: the same install with the link cut once halfway, and
 * the bytes the box served beyond the image for it.
 */
const SIZE = Number(process.env.BENCH_FACE_FW_MIB ?? 16) * 1024 * 1024;
const RUNS = Number(process.env.BENCH_FACE_FW_RUNS ?? 3);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const mibps = (bytes: number, ms: number) => bytes / 1024 / 1024 / (ms / 1000);

function plainGet(url: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { authorization: `Bearer ${token}` }, agent: false }, (res) => {
      let n = 0;
      res.on('data', (b: Buffer) => {
        n += b.length;
      });
      res.on('end', () => resolve(n));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export async function run(): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'sceneway-bench-face-fw-'));
  const rig = await startFaceDriverRig({ decideAccess: () => ({ outcome: 'open' }), firmwareHttp: {} });
  try {
    await rig.driver.start();
    const vendor = makeTestVendor();
    const baseline: number[] = [];
    const install: number[] = [];
    const cut: number[] = [];
    const overServed: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const image: FirmwareImage = await verifiedTestFirmware({
        dir,
        vendor,
        image: testFirmwareImage(SIZE, `bench ${i}`),
        name: `face-${i}.swfw`,
        fields: {
          family: 'face-reader',
          models: ['SFR-200'],
          version: `2.0.${i}`,
          minPreviousVersion: '1.0.0',
          chunkSize: 64 * 1024,
        },
      });
      const server = rig.driver.imageServer;
      if (!server) throw new Error('no image server');
      const token = server.grant({
        readerId: 'gate-2',
        transferId: `base-${i}`,
        image,
        expiresAt: Date.now() + 600_000,
      });
      let t0 = performance.now();
      const got = await plainGet(server.urlOf('gate-2', `base-${i}`), token);
      baseline.push(performance.now() - t0);
      server.revoke(`base-${i}`);
      if (got !== SIZE) throw new Error(`baseline got ${got} bytes`);

      // Alternate which goes first: the first install of a run pays for cold caches.
      const order = [undefined, Math.floor(SIZE / 2) + 12_345];
      for (const failTransferAt of i % 2 === 0 ? order : order.reverse()) {
        const sim: SimReader = await startSimReader({
          ...rig.login(0),
          firmware: {
            stateDir: join(dir, `reader-${i}-${failTransferAt ?? 0}`),
            vendorKeys: [vendor.publicKeyHex],
            model: 'SFR-200',
            factoryVersion: '1.0.0',
            faults: { failTransferAt },
          },
        });
        try {
          for (;;) {
            if ((await rig.driver.firmware.describe('gate-1')).version === '1.0.0') break;
            await new Promise((r) => setTimeout(r, 5));
          }
          t0 = performance.now();
          const result = await rig.driver.firmware.install('gate-1', image, {
            signal: new AbortController().signal,
          });
          const ms = performance.now() - t0;
          if (result.outcome !== 'installed' || result.version !== `2.0.${i}`)
            throw new Error(`install: ${JSON.stringify(result)}`);
          (failTransferAt ? cut : install).push(ms);
          if (failTransferAt) {
            const transferId = sim.firmware?.fetches[0]?.transferId ?? '';
            overServed.push((server.serving(transferId)?.bytesServed ?? 0) - SIZE);
          }
        } finally {
          await sim.close();
        }
      }
    }
    const figures = {
      imageMiB: SIZE / 1024 / 1024,
      runs: RUNS,
      baselineGetMs: median(baseline),
      baselineMiBps: mibps(SIZE, median(baseline)),
      installMs: median(install),
      installMiBps: mibps(SIZE, median(install)),
      installOverBaseline: median(install) / median(baseline),
      installCutOnceMs: median(cut),
      cutOverInstall: median(cut) / median(install),
      bytesServedBeyondImageOnCut: median(overServed),
    };
    console.table({
      'plain GET (baseline)': {
        ms: figures.baselineGetMs.toFixed(0),
        'MiB/s': figures.baselineMiBps.toFixed(1),
      },
      'install (announce → reboot → version)': {
        ms: figures.installMs.toFixed(0),
        'MiB/s': figures.installMiBps.toFixed(1),
        'x baseline': figures.installOverBaseline.toFixed(2),
      },
      'install, link cut once halfway': {
        ms: figures.installCutOnceMs.toFixed(0),
        'x install': figures.cutOverInstall.toFixed(2),
        'bytes beyond image': figures.bytesServedBeyondImageOnCut,
      },
    });
    return figures;
  } finally {
    await rig.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
