import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPtyPair, type PtyPair } from '@sceneway/test-rigs';
import { afterEach, describe, expect, it } from 'vitest';
import { DriverError } from '../driver-error.ts';
import { runTransportContract } from '../test-support/transport-contract.ts';
import type { Transport } from '../transport.ts';
import { createSerialTransportFactory } from './serial-transport.ts';

/** Over a real socat pty pair, both ends opened through the factory the agent uses. */
const factory = createSerialTransportFactory();
let pair: PtyPair | undefined;
const opened: Transport[] = [];

afterEach(async () => {
  for (const t of opened.splice(0)) await t.close();
  await pair?.close();
  pair = undefined;
});

async function openBoth(): Promise<[Transport, Transport]> {
  pair = await openPtyPair();
  const a = await factory.open({ kind: 'serial', path: pair.a, baudRate: 9600 });
  const b = await factory.open({ kind: 'serial', path: pair.b, baudRate: 9600 });
  opened.push(a, b);
  return [a, b];
}

function collect(t: Transport, bytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  return new Promise((resolve) => {
    t.onData((chunk) => {
      chunks.push(chunk);
      const all = Buffer.concat(chunks);
      if (all.length >= bytes) resolve(all);
    });
  });
}

describe('serial transport', () => {
  it('carries bytes both ways, each write resolving once the kernel has the bytes', async () => {
    const [a, b] = await openBoth();
    const payload = Buffer.from(Array.from({ length: 3000 }, (_, i) => i & 0xff));
    const atB = collect(b, payload.length);
    await a.write(payload);
    expect(await atB).toEqual(payload);
    const atA = collect(a, 3);
    await b.write(new Uint8Array([1, 2, 3]));
    expect([...(await atA)]).toEqual([1, 2, 3]);
    expect(a.isOpen && b.isOpen).toBe(true);
  });

  it('fires onClose exactly once when the device vanishes (unplug), then refuses writes', async () => {
    const [a] = await openBoth();
    const closes: Array<Error | null> = [];
    const closed = new Promise<void>((resolve) =>
      a.onClose((err) => {
        closes.push(err);
        resolve();
      }),
    );
    await pair?.close();
    await closed;
    await a.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closes).toHaveLength(1);
    expect(closes[0]).toBeInstanceOf(Error);
    expect(a.isOpen).toBe(false);
    await expect(a.write(new Uint8Array([1]))).rejects.toMatchObject({ code: 'SERIAL_WRITE_FAILED' });
  });

  it('rejects a write the line can no longer take when the port closes, so no caller hangs', async () => {
    const [a, b] = await openBoth();
    await b.close(); // the far end stops reading: socat backs up, then the kernel buffer of a fills
    let stuck: Promise<void> | undefined;
    for (let i = 0; i < 1000 && !stuck; i++) {
      const write = a.write(Buffer.alloc(4096, 0x55));
      const done = await Promise.race([
        write.then(() => true),
        new Promise((r) => setTimeout(() => r(false), 300)),
      ]);
      if (!done) stuck = write;
    }
    expect(stuck).toBeDefined();
    const outcome = stuck!.then(
      () => 'resolved',
      (err: unknown) => (err instanceof DriverError ? err.code : 'other error'),
    );
    await a.close();
    expect(await outcome).toBe('SERIAL_WRITE_FAILED');
  });

  it('fires onClose once with null on close(), also for a listener added afterwards', async () => {
    const [a] = await openBoth();
    const seen: Array<Error | null> = [];
    a.onClose((err) => seen.push(err));
    await a.close();
    await a.close();
    await new Promise<void>((resolve) => a.onClose(() => resolve()));
    expect(seen).toEqual([null]);
  });

  it('refuses other transport kinds, missing devices and a port already held', async () => {
    await expect(factory.open({ kind: 'hid', vendorId: 1, productId: 2 })).rejects.toMatchObject({
      name: 'DriverError',
      code: 'TRANSPORT_KIND_UNSUPPORTED',
    });
    const missing = join(mkdtempSync(join(tmpdir(), 'no-port-')), 'ttyUSB9');
    const err = await factory
      .open({ kind: 'serial', path: missing, baudRate: 9600 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DriverError);
    expect(err).toMatchObject({ code: 'SERIAL_OPEN_FAILED' });
    const [a] = await openBoth();
    expect(a.isOpen).toBe(true);
    // The exclusive lock: a second open of the same tty fails instead of sharing the bytes.
    await expect(factory.open({ kind: 'serial', path: pair!.a, baudRate: 9600 })).rejects.toMatchObject({
      code: 'SERIAL_OPEN_FAILED',
    });
    const aborted = new AbortController();
    aborted.abort();
    await expect(
      factory.open({ kind: 'serial', path: pair!.b, baudRate: 9600 }, aborted.signal),
    ).rejects.toMatchObject({
      code: 'SERIAL_OPEN_ABORTED',
    });
  });
});

runTransportContract({
  name: 'serial on a socat pty pair',
  async setup() {
    const line = await openPtyPair();
    const noPortDir = mkdtempSync(join(tmpdir(), 'no-port-'));
    return {
      factory,
      endpoint: { kind: 'serial', path: line.a, baudRate: 9600 },
      missing: { kind: 'serial', path: join(noPortDir, 'ttyUSB9'), baudRate: 9600 },
      openFar: () => factory.open({ kind: 'serial', path: line.b, baudRate: 9600 }),
      unplug: () => line.close(),
      async stallWrite(near, far) {
        // The far end stops reading: socat backs up, then the kernel buffer of the near end fills.
        await far.close();
        for (let i = 0; i < 1000; i++) {
          const write = near.write(Buffer.alloc(4096, 0x55));
          const done = await Promise.race([
            write.then(() => true),
            new Promise((r) => setTimeout(() => r(false), 300)),
          ]);
          if (!done) return { pending: write };
        }
        throw new Error('the pty never pushed back');
      },
      async close() {
        await line.close();
        rmSync(noPortDir, { recursive: true, force: true });
      },
    };
  },
});
