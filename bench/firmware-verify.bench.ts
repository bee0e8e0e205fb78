import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSm2KeyPair, sm2Verify } from '@sceneway/cloud-sync';
import { openFirmwarePackage, packFirmwareFile } from '@sceneway/firmware-tools';

/**
 * Time for a box to verify a firmware package (issue #15 benchmark): a 64 MiB image, SM2 signature
 * over the manifest plus SM3 of every 64 KiB chunk and of the whole image, streamed from the file —
 * against `openssl dgst -sm3` of the same package file in the same run (one SM3 pass in C, plus a
 * process start). Ours runs the whole-image SM3 in a worker beside the chunk digests; the same with
 * both passes on the main thread is measured too. Runs alternate (ours, sequential, openssl, Node's
 * one pass, ours, ...) so load on the shared box falls on all of them.
 * `measureVerify()` is exported for the combined `firmware` bench (with fw-pos's serial figures).
 */

export interface VerifyFigures {
  imageBytes: number;
  chunkSize: number;
  chunks: number;
  runs: number;
  /** openFirmwarePackage, warm (the vendor key's SM2 table already built), per run. */
  oursMs: Stats;
  /** The same with both SM3 passes on the main thread, one after the other (parallelDigestFrom: Infinity). */
  oursSequentialMs: Stats;
  /** The first openFirmwarePackage of the run: includes building the pinned key's SM2 table. */
  oursFirstMs: number;
  /** `openssl dgst -sm3 <package>`, spawn included. */
  opensslSm3Ms: Stats;
  /** Node's SM3 in one streaming pass over the same file: what the chunk digests cost on top. */
  nodeSm3OnePassMs: Stats;
  /** sm2Verify of the manifest alone, warm. */
  sm2VerifyMs: number;
  /** oursMs.median / opensslSm3Ms.median. */
  ratioToOpenssl: number;
  oursMBps: number;
  opensslMBps: number;
}

interface Stats {
  median: number;
  min: number;
  all: number[];
}

function stats(all: number[]): Stats {
  const sorted = [...all].sort((a, b) => a - b);
  return {
    median: round(sorted[Math.floor(sorted.length / 2)] ?? Number.NaN),
    min: round(sorted[0] ?? 0),
    all: all.map(round),
  };
}
const round = (n: number) => Math.round(n * 10) / 10;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function opensslSm3(path: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('openssl', ['dgst', '-sm3', '-r', path], (err, stdout) =>
      err ? reject(err) : resolve(stdout.split(' ')[0] ?? ''),
    ),
  );
}

async function nodeSm3(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const hash = createHash('sm3');
    const block = Buffer.allocUnsafe(1024 * 1024);
    for (let pos = 0; ; ) {
      const { bytesRead } = await handle.read(block, 0, block.length, pos);
      if (bytesRead === 0) break;
      hash.update(block.subarray(0, bytesRead));
      pos += bytesRead;
    }
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}

export async function measureVerify(
  options: { imageBytes?: number; runs?: number } = {},
): Promise<VerifyFigures> {
  const imageBytes = options.imageBytes ?? 64 * 1024 * 1024;
  const runs = options.runs ?? 5;
  const dir = mkdtempSync(join(tmpdir(), 'sceneway-bench-fw-'));
  try {
    const vendor = generateSm2KeyPair();
    const imagePath = join(dir, 'image.bin');
    writeFileSync(imagePath, randomBytes(imageBytes));
    const packagePath = join(dir, 'image.swfw');
    const packed = await packFirmwareFile({
      imagePath,
      outPath: packagePath,
      fields: {
        family: 'onvif-camera',
        models: ['SW-CAM-4K'],
        version: '5.2.0',
        minPreviousVersion: '5.0.0',
      },
      vendorPrivateKeyHex: vendor.privateKeyHex,
    });
    rmSync(imagePath);
    const open = () => openFirmwarePackage(packagePath, { vendorPublicKeys: [vendor.publicKeyHex] });
    const openSequential = () =>
      openFirmwarePackage(packagePath, {
        vendorPublicKeys: [vendor.publicKeyHex],
        parallelDigestFrom: Infinity,
      });
    const oursFirstMs = await timed(open);
    const ours: number[] = [];
    const sequential: number[] = [];
    const openssl: number[] = [];
    const node: number[] = [];
    for (let i = 0; i < runs; i++) {
      ours.push(await timed(open));
      sequential.push(await timed(openSequential));
      openssl.push(await timed(opensslSm3.bind(null, packagePath)));
      node.push(await timed(nodeSm3.bind(null, packagePath)));
    }
    const sigRuns = 50;
    const sigStart = process.hrtime.bigint();
    for (let i = 0; i < sigRuns; i++) sm2Verify(packed.manifestBytes, packed.signature, vendor.publicKeyHex);
    const sm2VerifyMs = Number(process.hrtime.bigint() - sigStart) / 1e6 / sigRuns;
    const oursMs = stats(ours);
    const opensslSm3Ms = stats(openssl);
    return {
      imageBytes,
      chunkSize: packed.manifest.chunkSize,
      chunks: packed.manifest.chunks.length,
      runs,
      oursMs,
      oursSequentialMs: stats(sequential),
      oursFirstMs: round(oursFirstMs),
      opensslSm3Ms,
      nodeSm3OnePassMs: stats(node),
      sm2VerifyMs: Math.round(sm2VerifyMs * 1000) / 1000,
      ratioToOpenssl: Math.round((oursMs.median / opensslSm3Ms.median) * 100) / 100,
      oursMBps: round(imageBytes / 1e6 / (oursMs.median / 1000)),
      opensslMBps: round(imageBytes / 1e6 / (opensslSm3Ms.median / 1000)),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printVerifyTable(f: VerifyFigures): void {
  const mib = f.imageBytes / 1048576;
  const rows = [
    ['verify a package (ours: SM2 + SM3 of chunks and image), warm', f.oursMs.median, f.oursMs.min],
    ['  the same, both SM3 passes on the main thread', f.oursSequentialMs.median, f.oursSequentialMs.min],
    ['  the first verify (builds the pinned key SM2 table)', f.oursFirstMs, f.oursFirstMs],
    ['openssl dgst -sm3 of the package file (baseline)', f.opensslSm3Ms.median, f.opensslSm3Ms.min],
    ["Node's SM3, one streaming pass over the file", f.nodeSm3OnePassMs.median, f.nodeSm3OnePassMs.min],
  ] as const;
  process.stdout.write(
    `firmware verify, ${mib} MiB image, ${f.chunks} chunks of ${f.chunkSize / 1024} KiB, ${f.runs} alternating runs\n`,
  );
  process.stdout.write(`${'step'.padEnd(64)} ${'median ms'.padStart(10)} ${'min ms'.padStart(8)}\n`);
  for (const [label, median, min] of rows)
    process.stdout.write(`${label.padEnd(64)} ${String(median).padStart(10)} ${String(min).padStart(8)}\n`);
  process.stdout.write(
    `SM2 verify of the manifest alone: ${f.sm2VerifyMs} ms; ours ${f.oursMBps} MB/s, openssl ${f.opensslMBps} MB/s; ratio ours/openssl ${f.ratioToOpenssl}\n`,
  );
}

export async function run(): Promise<Record<string, unknown>> {
  const figures = await measureVerify();
  printVerifyTable(figures);
  return { ...figures };
}
