import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  canteenPosConfigSchema,
  createSerialTransportFactory,
  encodeMessage,
  firmwareChunkBytes,
  sealFrame,
} from '@sceneway/device-drivers';
import { openPtyPair } from '../test-rigs/src/pty/pty-pair.ts';
import { startDriverHarness } from '../test-rigs/src/sim-canteen-pos/driver-harness.ts';
import { startCanteenPosSim } from '../test-rigs/src/sim-canteen-pos/sim.ts';
import { makeTestFirmware } from '../test-rigs/src/sim-canteen-pos/test-firmware-image.ts';

/**
 * Firmware over the canteen POS serial line (docs/protocols/canteen-pos.md §13; issue #15 benchmark):
 * - framing efficiency: payload bytes / bytes on the wire, from real sealed frames (header, TLV, MAC
 *   fields, CRC, ETX), for the chunk frame alone and with its ack (goal >= 0.9);
 * - throughput of a whole 4 MiB install's transfer phase, the real driver to the simulated till over
 *   a socat pty pair (one stop-and-wait chunk per turn, each MAC'd both ways, each made durable in
 *   the till's state dir before its ack), against the raw throughput of a socat pty pair measured in
 *   the same run (4 MiB streamed one way through the same serial transport).
 * `measureFirmwareSerial()` is exported for the combined `firmware` bench.
 */
export interface FirmwareSerialFigures {
  chunkBytes: number;
  chunkFrameBytes: number;
  ackFrameBytes: number;
  /** chunk payload / FW_CHUNK frame bytes. */
  framingEfficiency: number;
  /** chunk payload / (FW_CHUNK + FW_CHUNK_ACK frame bytes): the line's both directions. */
  framingEfficiencyWithAck: number;
  imageBytes: number;
  transferSeconds: number;
  transferBytesPerSecond: number;
  rawPtyBytesPerSecond: number;
  /** transferBytesPerSecond / rawPtyBytesPerSecond. */
  ratioToRawPty: number;
  /** Whole install (transfer, verify, activate, reboot, FW_STATUS), seconds. */
  installSeconds: number;
}

function framing(chunkBytes: number) {
  const key = Buffer.alloc(32, 1);
  const seal = (command: number, fields: Buffer) =>
    sealFrame({ key, address: 1, seq: 1, command, fields, counter: 1 });
  const chunk = encodeMessage({ type: 'fw-chunk', offset: 0x100000, data: Buffer.alloc(chunkBytes) });
  const ack = encodeMessage({ type: 'fw-chunk-ack', nextOffset: 0x100000 + chunkBytes });
  const chunkFrameBytes = seal(chunk.command, chunk.body).length;
  const ackFrameBytes = seal(ack.command, ack.body).length;
  return {
    chunkFrameBytes,
    ackFrameBytes,
    framingEfficiency: chunkBytes / chunkFrameBytes,
    framingEfficiencyWithAck: chunkBytes / (chunkFrameBytes + ackFrameBytes),
  };
}

/** 4 MiB one way through a socat pty pair, by the production serial transport on both ends. */
async function rawPtyBytesPerSecond(bytes: number): Promise<number> {
  const pair = await openPtyPair();
  const serial = createSerialTransportFactory();
  try {
    const a = await serial.open({ kind: 'serial', path: pair.a, baudRate: 115200 });
    const b = await serial.open({ kind: 'serial', path: pair.b, baudRate: 115200 });
    let received = 0;
    const done = new Promise<void>((resolve) =>
      b.onData((chunk) => {
        received += chunk.length;
        if (received >= bytes) resolve();
      }),
    );
    const block = randomBytes(4096);
    const started = performance.now();
    for (let sent = 0; sent < bytes; sent += block.length) await a.write(block);
    await done;
    const seconds = (performance.now() - started) / 1000;
    await a.close();
    await b.close();
    return bytes / seconds;
  } finally {
    await pair.close();
  }
}

export async function measureFirmwareSerial(
  imageBytes = 4 * 1024 * 1024,
  chunkOverride?: number,
): Promise<FirmwareSerialFigures> {
  const image = makeTestFirmware({ version: '2.0.0', size: imageBytes });
  const stateDir = mkdtempSync(join(tmpdir(), 'bench-fw-serial-'));
  const h = await startDriverHarness({
    decideSale: () => ({ outcome: 'approved' }),
    config: {
      ackTimeoutMs: 500,
      silenceTimeoutMs: 2000,
      ...(chunkOverride ? { firmware: { chunkBytes: chunkOverride } } : {}),
    },
  });
  // The line's default (rs232): what the driver sends per FW_CHUNK.
  const chunkBytes = firmwareChunkBytes(
    canteenPosConfigSchema.parse({
      port: { path: '/dev/ttyS0' },
      terminals: [{ id: 't', address: 1 }],
      ...(chunkOverride ? { firmware: { chunkBytes: chunkOverride } } : {}),
    }),
  );
  const sim = await startCanteenPosSim({
    ...h.simLine,
    answerTimeoutMs: 1000,
    firmwareVersion: '1.0.0',
    firmware: { vendorKeys: [image.vendor.publicKeyHex], stateDir, rebootMs: 100 },
  });
  try {
    await h.driver.start();
    await h.waitForEvent((e) => e.type === 'terminal-up', 10_000, 0);
    let transferStarted = 0;
    let transferDone = 0;
    const started = performance.now();
    const result = await h.driver.firmware!.install('till-1', image, {
      signal: new AbortController().signal,
      onProgress: (p) => {
        if (p.phase !== 'transfer') return;
        if (transferStarted === 0) transferStarted = performance.now();
        if (p.bytesDone === p.bytesTotal && transferDone === 0) transferDone = performance.now();
      },
    });
    const installSeconds = (performance.now() - started) / 1000;
    if (result.outcome !== 'installed' || result.version !== '2.0.0') {
      throw new Error(`install did not complete: ${JSON.stringify(result)}`);
    }
    await sim.close();
    await h.close();
    const transferSeconds = (transferDone - transferStarted) / 1000;
    const transferBytesPerSecond = imageBytes / transferSeconds;
    const raw = await rawPtyBytesPerSecond(imageBytes);
    return {
      chunkBytes,
      ...framing(chunkBytes),
      imageBytes,
      transferSeconds,
      transferBytesPerSecond,
      rawPtyBytesPerSecond: raw,
      ratioToRawPty: transferBytesPerSecond / raw,
      installSeconds,
    };
  } finally {
    await sim.close().catch(() => undefined);
    await h.close().catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const f = await measureFirmwareSerial();
  const rows: Array<[string, string]> = [
    ['chunk payload (bytes)', String(f.chunkBytes)],
    ['FW_CHUNK / FW_CHUNK_ACK frame (bytes)', `${f.chunkFrameBytes} / ${f.ackFrameBytes}`],
    ['framing efficiency (chunk frame)', f.framingEfficiency.toFixed(4)],
    ['framing efficiency (with its ack)', f.framingEfficiencyWithAck.toFixed(4)],
    ['4 MiB transfer (s)', f.transferSeconds.toFixed(2)],
    ['transfer throughput (KiB/s)', (f.transferBytesPerSecond / 1024).toFixed(1)],
    ['raw socat pty throughput (KiB/s)', (f.rawPtyBytesPerSecond / 1024).toFixed(1)],
    ['ratio to raw pty', f.ratioToRawPty.toFixed(3)],
    ['whole install (s)', f.installSeconds.toFixed(2)],
  ];
  // The largest chunk a frame holds (firmware.chunkBytes 4060): fewer round trips for the same image.
  const big = await measureFirmwareSerial(4 * 1024 * 1024, 4060);
  rows.push(
    ['with chunkBytes 4060: efficiency (with ack)', big.framingEfficiencyWithAck.toFixed(4)],
    ['with chunkBytes 4060: throughput (KiB/s)', (big.transferBytesPerSecond / 1024).toFixed(1)],
    ['with chunkBytes 4060: ratio to raw pty', big.ratioToRawPty.toFixed(3)],
  );
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(44)} ${v}\n`);
  return {
    ...f,
    largestChunk: big,
    goal: { framingEfficiency: 0.9, met: f.framingEfficiencyWithAck >= 0.9 },
  };
}
