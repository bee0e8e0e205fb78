import { DriverError } from '../driver-error.ts';
import type { ByteEndpoint, ByteTransportFactory, Transport } from '../transport.ts';
import { createTransportEvents } from './transport-events.ts';

/**
 * An in-memory line for driver tests, zwave-js's MockPort idea: the driver opens its end through the
 * same `ByteTransportFactory` seam a real tty goes through, and the test holds the other end. A port is
 * a wire with two sides: the driver side (`open`) and the device side (`port(key)`, or `devices` for
 * a simulator written against `Transport`). Bytes written on one side reach the other side if it is
 * open and are lost otherwise, as on a serial line nobody listens to. Delivery is on a microtask, not
 * inside the writer's call, so a driver never sees its answer re-enter the write that asked for it.
 *
 * What a test can do to the line: drop it (both sides close with an error, as when socat dies),
 * unplug it (dropped, and opens refused until plug), and hold writes (the driver's write promise stays
 * pending until release: backpressure, the bytes reach the device only then).
 */
export interface MemoryPort {
  readonly key: string;
  readonly present: boolean;
  /** Successful opens of the driver side so far. */
  readonly opens: number;
  /** Whether the driver side is open now. */
  readonly driverOpen: boolean;
  /** Every byte the driver has put on the line (held writes count once released), in order. */
  written(): Buffer;
  /** Each chunk the driver puts on the line from now on; returns the unsubscribe. */
  onWrite(listener: (bytes: Buffer) => void): () => void;
  /** Bytes from the device to the driver; false (and lost) when the driver side is not open. */
  send(bytes: Uint8Array): boolean;
  /** The line dies: both sides close with `error`. The port stays present and opens again. */
  drop(error?: Error): void;
  /** The device goes away: the line drops and every open fails until plug(). */
  unplug(): void;
  plug(): void;
  /** Backpressure on: driver writes are taken but neither delivered nor resolved until release(). */
  hold(): void;
  /** Backpressure off: held writes reach the line in order, then their promises resolve. */
  release(): void;
  /** Driver writes waiting for release(). */
  readonly heldWrites: number;
}

export interface MemoryTransports extends ByteTransportFactory {
  /** The port an endpoint opens (see endpointKey); created present on first use. */
  port(key: string): MemoryPort;
  /** Opens the device side of a port by endpoint: the far end for a simulator's line. */
  readonly devices: ByteTransportFactory;
}

/** serial: its path; hid: vendor:product[:serial]; any other kind: its JSON. */
export function endpointKey(endpoint: ByteEndpoint): string {
  switch (endpoint.kind) {
    case 'serial':
      return endpoint.path;
    case 'hid':
      return [endpoint.vendorId, endpoint.productId, endpoint.serialNumber]
        .filter((p) => p !== undefined)
        .join(':');
    default:
      return JSON.stringify(endpoint);
  }
}

interface HeldWrite {
  bytes: Buffer;
  resolve(): void;
  reject(error: Error): void;
}

interface Side {
  events: ReturnType<typeof createTransportEvents>;
}

function createPort(key: string): MemoryPort & {
  openDriverSide(): Transport;
  openDeviceSide(): Transport;
} {
  let present = true;
  let opens = 0;
  let holding = false;
  let driver: Side | null = null;
  let device: Side | null = null;
  const held: HeldWrite[] = [];
  const chunks: Buffer[] = [];
  const writeListeners = new Set<(bytes: Buffer) => void>();

  const deliver = (to: Side | null, bytes: Buffer) => {
    if (!to) return;
    queueMicrotask(() => to.events.pushData(bytes));
  };
  const putOnLine = (bytes: Buffer) => {
    chunks.push(bytes);
    for (const listener of writeListeners) listener(bytes);
    deliver(device, bytes);
  };
  const absent = () =>
    new DriverError('MEMORY_PORT_ABSENT', `${key} is not present (unplugged); plug it in first`);

  const openSide = (which: 'driver' | 'device'): Transport => {
    if (!present) throw absent();
    if ((which === 'driver' ? driver : device) !== null) {
      throw new DriverError('MEMORY_PORT_BUSY', `the ${which} side of ${key} is already open`);
    }
    const side: Side = {
      events: createTransportEvents({
        onClosing(error) {
          if (which === 'driver') {
            driver = null;
            // A write the closed line will never take must not leave its caller waiting.
            for (const w of held.splice(0))
              w.reject(error ?? new DriverError('MEMORY_PORT_CLOSED', `${key} closed`));
          } else {
            device = null;
          }
        },
      }),
    };
    if (which === 'driver') {
      driver = side;
      opens++;
    } else {
      device = side;
    }
    return {
      get isOpen() {
        return !side.events.closed;
      },
      onData: side.events.onData,
      onClose: side.events.onClose,
      write(bytes) {
        if (side.events.closed) {
          return Promise.reject(new DriverError('MEMORY_PORT_CLOSED', `${key} is closed`));
        }
        const copy = Buffer.from(bytes);
        if (which === 'device') {
          deliver(driver, copy);
          return Promise.resolve();
        }
        if (holding) {
          return new Promise<void>((resolve, reject) => held.push({ bytes: copy, resolve, reject }));
        }
        putOnLine(copy);
        return Promise.resolve();
      },
      async close() {
        side.events.close(null);
      },
    };
  };

  const drop = (error: Error) => {
    driver?.events.close(error);
    device?.events.close(error);
  };

  return {
    key,
    get present() {
      return present;
    },
    get opens() {
      return opens;
    },
    get driverOpen() {
      return driver !== null;
    },
    get heldWrites() {
      return held.length;
    },
    written: () => Buffer.concat(chunks),
    onWrite(listener) {
      writeListeners.add(listener);
      return () => writeListeners.delete(listener);
    },
    send(bytes) {
      if (!driver) return false;
      deliver(driver, Buffer.from(bytes));
      return true;
    },
    drop(error = new DriverError('MEMORY_PORT_DROPPED', `${key}: the line dropped`)) {
      drop(error);
    },
    unplug() {
      present = false;
      drop(new DriverError('MEMORY_PORT_UNPLUGGED', `${key} was unplugged`));
    },
    plug() {
      present = true;
    },
    hold() {
      holding = true;
    },
    release() {
      holding = false;
      for (const w of held.splice(0)) {
        putOnLine(w.bytes);
        w.resolve();
      }
    },
    openDriverSide: () => openSide('driver'),
    openDeviceSide: () => openSide('device'),
  };
}

const aborted = (endpoint: ByteEndpoint) =>
  new DriverError('MEMORY_PORT_ABORTED', `open of ${endpointKey(endpoint)} cancelled`);

export function createMemoryTransports(): MemoryTransports {
  const ports = new Map<string, ReturnType<typeof createPort>>();
  const portOf = (key: string) => {
    let port = ports.get(key);
    if (!port) {
      port = createPort(key);
      ports.set(key, port);
    }
    return port;
  };
  return {
    port: portOf,
    async open(endpoint, signal) {
      if (signal?.aborted) throw aborted(endpoint);
      return portOf(endpointKey(endpoint)).openDriverSide();
    },
    devices: {
      async open(endpoint, signal) {
        if (signal?.aborted) throw aborted(endpoint);
        return portOf(endpointKey(endpoint)).openDeviceSide();
      },
    },
  };
}
