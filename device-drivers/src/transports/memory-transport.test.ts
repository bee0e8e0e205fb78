import { describe, expect, it } from 'vitest';
import { DriverError } from '../driver-error.ts';
import { runTransportContract } from '../test-support/transport-contract.ts';
import type { Transport } from '../transport.ts';
import { createMemoryTransports, endpointKey } from './memory-transport.ts';

const TTY = { kind: 'serial', path: '/dev/ttyMEM0', baudRate: 9600 } as const;

/** Resolves with the bytes a transport receives until `length` have arrived. */
function collect(t: Transport, length: number): Promise<Buffer> {
  const got: Buffer[] = [];
  return new Promise((resolve) => {
    t.onData((bytes) => {
      got.push(bytes);
      if (Buffer.concat(got).length >= length) resolve(Buffer.concat(got));
    });
  });
}

const closeOf = (t: Transport) => new Promise<Error | null>((resolve) => t.onClose(resolve));

describe('memory transport', () => {
  it('carries bytes both ways in order, and records what the driver wrote', async () => {
    const memory = createMemoryTransports();
    const driver = await memory.open(TTY);
    const device = await memory.devices.open(TTY);
    const port = memory.port(endpointKey(TTY));
    const atDevice = collect(device, 6);
    await driver.write(Buffer.from('abc'));
    await driver.write(Buffer.from('def'));
    expect((await atDevice).toString()).toBe('abcdef');
    expect(port.written().toString()).toBe('abcdef');

    // Bytes that arrive before the driver's framer registers are kept for it.
    expect(port.send(Buffer.from('12'))).toBe(true);
    await device.write(Buffer.from('34'));
    await new Promise<void>((resolve) => queueMicrotask(resolve));
    expect((await collect(driver, 4)).toString()).toBe('1234');
    expect(port.opens).toBe(1);
  });

  it('refuses opens while unplugged and closes both sides with an error on unplug', async () => {
    const memory = createMemoryTransports();
    const port = memory.port(TTY.path);
    port.unplug();
    await expect(memory.open(TTY)).rejects.toMatchObject({ code: 'MEMORY_PORT_ABSENT' });
    port.plug();
    const driver = await memory.open(TTY);
    const device = await memory.devices.open(TTY);
    const closes = Promise.all([closeOf(driver), closeOf(device)]);
    port.unplug();
    const [driverError, deviceError] = await closes;
    expect(driverError).toBeInstanceOf(DriverError);
    expect((driverError as DriverError).code).toBe('MEMORY_PORT_UNPLUGGED');
    expect(deviceError).toBe(driverError);
    expect(driver.isOpen).toBe(false);
    await expect(driver.write(Buffer.from('x'))).rejects.toMatchObject({ code: 'MEMORY_PORT_CLOSED' });
    expect(port.send(Buffer.from('lost'))).toBe(false);
    await expect(memory.open(TTY)).rejects.toMatchObject({ code: 'MEMORY_PORT_ABSENT' });
  });

  it('drops the line with the given error; the port stays present and opens again', async () => {
    const memory = createMemoryTransports();
    const driver = await memory.open(TTY);
    await expect(memory.open(TTY)).rejects.toMatchObject({ code: 'MEMORY_PORT_BUSY' });
    const closed = closeOf(driver);
    const cut = new Error('EIO');
    memory.port(TTY.path).drop(cut);
    expect(await closed).toBe(cut);
    const again = await memory.open(TTY);
    expect(again.isOpen).toBe(true);
    expect(memory.port(TTY.path).opens).toBe(2);
    // A clean close reports no error.
    const clean = closeOf(again);
    await again.close();
    expect(await clean).toBeNull();
  });

  it('holds writes under backpressure: pending until release, then delivered in order', async () => {
    const memory = createMemoryTransports();
    const port = memory.port(TTY.path);
    const driver = await memory.open(TTY);
    port.hold();
    let settled = 0;
    const writes = [driver.write(Buffer.from('A')), driver.write(Buffer.from('B'))].map((w) =>
      w.then(() => settled++),
    );
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(settled).toBe(0);
    expect(port.heldWrites).toBe(2);
    expect(port.written().length).toBe(0);
    port.release();
    await Promise.all(writes);
    expect(settled).toBe(2);
    expect(port.written().toString()).toBe('AB');

    // A held write fails, not hangs, when the line closes under it.
    port.hold();
    const stuck = driver.write(Buffer.from('C'));
    port.drop();
    await expect(stuck).rejects.toMatchObject({ code: 'MEMORY_PORT_DROPPED' });
  });

  it('honours an aborted signal and keys HID endpoints by vendor, product and serial', async () => {
    const memory = createMemoryTransports();
    const abort = new AbortController();
    abort.abort();
    await expect(memory.open(TTY, abort.signal)).rejects.toMatchObject({ code: 'MEMORY_PORT_ABORTED' });
    const hid = { kind: 'hid', vendorId: 0x1a86, productId: 0xe026, serialNumber: 'R-42' } as const;
    expect(endpointKey(hid)).toBe(`${0x1a86}:${0xe026}:R-42`);
    await memory.open(hid);
    expect(memory.port(endpointKey(hid)).driverOpen).toBe(true);
  });
});

runTransportContract({
  name: 'memory',
  async setup() {
    const memory = createMemoryTransports();
    const port = memory.port(TTY.path);
    const missing = { ...TTY, path: '/dev/ttyMEM-missing' };
    memory.port(missing.path).unplug();
    return {
      factory: memory,
      endpoint: TTY,
      missing,
      openFar: () => memory.devices.open(TTY),
      unplug: async () => port.unplug(),
      async stallWrite(near) {
        port.hold();
        return { pending: near.write(Buffer.from('held')) };
      },
      close: async () => port.unplug(),
    };
  },
});
