import { DriverError } from '../driver-error.ts';
import type { ByteTransportFactory, Transport, TransportEndpoint } from '../transport.ts';
import { createTransportEvents } from './transport-events.ts';

/**
 * USB HID devices for drivers, through node-hid. This is the only place a HID device is opened:
 * drivers ask for `{ kind: 'hid', vendorId, productId, serialNumber? }` and get a Transport whose
 * every onData call carries exactly one input report (HID is report-framed, unlike a serial line).
 *
 * Only the two node-hid calls below sit behind `HidApi`, so tests pass a fake device list and open
 * call while the same transport and the same decoding run. The device list is read with
 * `devicesAsync()`: enumerating can take tens of milliseconds, and the synchronous `devices()` would
 * stall the event loop that is answering tills.
 *
 * Exclusive open: `nonExclusive: false` makes macOS seize the device; hidraw on Linux has no such
 * lock, so this factory refuses a second open of the same path within the agent (HID_BUSY) and the
 * installer guide's udev rule gives the agent's user alone access to the reader.
 */
export interface HidDeviceInfo {
  vendorId: number;
  productId: number;
  path?: string | undefined;
  serialNumber?: string | undefined;
  product?: string | undefined;
  interface?: number | undefined;
}

/** The part of a node-hid HIDAsync handle the transport uses. */
export interface HidHandle {
  on(event: 'data', listener: (report: Buffer) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  write(values: number[] | Buffer): Promise<number>;
  close(): Promise<void>;
}

/** The part of node-hid the transport uses. */
export interface HidApi {
  devicesAsync(): Promise<HidDeviceInfo[]>;
  HIDAsync: { open(path: string, options?: { nonExclusive?: boolean }): Promise<HidHandle> };
}

type HidEndpoint = Extract<TransportEndpoint, { kind: 'hid' }>;

const hex4 = (n: number) => n.toString(16).padStart(4, '0');
export const describeHid = (e: HidEndpoint) =>
  `${hex4(e.vendorId)}:${hex4(e.productId)}${e.serialNumber ? ` serial ${e.serialNumber}` : ''}`;

async function loadNodeHid(): Promise<HidApi> {
  const hid = await import('node-hid');
  return { devicesAsync: () => hid.devicesAsync(), HIDAsync: hid.HIDAsync };
}

function findPath(devices: HidDeviceInfo[], e: HidEndpoint): string {
  const matches = devices.filter(
    (d) =>
      d.vendorId === e.vendorId &&
      d.productId === e.productId &&
      (e.serialNumber === undefined || d.serialNumber === e.serialNumber) &&
      (e.path === undefined || d.path === e.path),
  );
  const paths = [...new Set(matches.flatMap((d) => (d.path ? [d.path] : [])))];
  if (paths.length === 0) {
    throw new DriverError('HID_NOT_FOUND', `no HID device ${describeHid(e)} is plugged in`);
  }
  if (paths.length > 1) {
    throw new DriverError(
      'HID_AMBIGUOUS',
      `${paths.length} HID devices match ${describeHid(e)} (${paths.join(', ')}): set serialNumber to pick one`,
    );
  }
  return paths[0]!;
}

export function createHidTransportFactory(hidApi?: HidApi): ByteTransportFactory {
  let api: Promise<HidApi> | undefined = hidApi && Promise.resolve(hidApi);
  const openPaths = new Set<string>();

  function wrap(handle: HidHandle, path: string): Transport {
    const events = createTransportEvents({ onClosing: () => openPaths.delete(path) });
    const fireClose = (error: Error | null) => events.close(error);
    handle.on('data', (report) => events.pushData(report));
    // Unplugging makes hidapi's read fail: node-hid emits 'error' and the handle is dead.
    handle.on('error', (cause) => {
      const error = new DriverError('HID_UNPLUGGED', `HID device ${path} stopped: ${cause.message}`, {
        cause,
      });
      handle.close().catch(() => undefined);
      fireClose(error);
    });
    return {
      get isOpen() {
        return !events.closed;
      },
      onData: events.onData,
      onClose: events.onClose,
      async write(bytes) {
        if (events.closed) throw new DriverError('HID_WRITE_FAILED', `${path} is closed`);
        try {
          await handle.write(Buffer.from(bytes));
        } catch (cause) {
          throw new DriverError('HID_WRITE_FAILED', `output report to ${path} failed`, { cause });
        }
      },
      async close() {
        if (events.closed) return;
        fireClose(null);
        await handle.close().catch(() => undefined);
      },
    };
  }

  return {
    async open(endpoint, signal) {
      if (endpoint.kind !== 'hid') {
        throw new DriverError(
          'TRANSPORT_KIND_UNSUPPORTED',
          `the HID transport opens HID devices only, not '${endpoint.kind}'`,
        );
      }
      const aborted = () =>
        new DriverError('HID_OPEN_ABORTED', `open of HID device ${describeHid(endpoint)} cancelled`);
      if (signal?.aborted) throw aborted();
      api ??= loadNodeHid();
      let hid: HidApi;
      try {
        hid = await api;
      } catch (cause) {
        api = undefined; // let a later open try again (e.g. after the libusb package is installed)
        throw new DriverError('HID_UNAVAILABLE', 'node-hid could not be loaded on this box', { cause });
      }
      const path = findPath(await hid.devicesAsync(), endpoint);
      if (openPaths.has(path)) {
        throw new DriverError(
          'HID_BUSY',
          `HID device ${path} is already open in this agent (configured twice?)`,
        );
      }
      openPaths.add(path);
      let handle: HidHandle;
      try {
        handle = await hid.HIDAsync.open(path, { nonExclusive: false });
      } catch (cause) {
        openPaths.delete(path);
        throw new DriverError(
          'HID_BUSY',
          `cannot open HID device ${path} exclusively: another program holds it, or the agent lacks permission (udev rule)`,
          { cause },
        );
      }
      const transport = wrap(handle, path);
      if (signal?.aborted) {
        await transport.close();
        throw aborted();
      }
      return transport;
    },
  };
}
