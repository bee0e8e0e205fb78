import { EventEmitter } from 'node:events';
import type { HidApi, HidDeviceInfo, HidHandle } from '../transports/hid-transport.ts';

/**
 * TESTS ONLY. USB HID has no pty-like loopback, so this replaces exactly the two node-hid calls the
 * transport makes — the device list and the open — with a scriptable USB bus. Everything above them
 * (transport, driver, decoders) is the production code. Behaviour mirrors node-hid 3: `data` carries
 * one input report as a Buffer; unplugging a device that is open fails its read, which node-hid
 * reports as an `error` event; opening a device another process holds rejects.
 */
class FakeHandle extends EventEmitter {
  closed = false;
  readonly written: Buffer[] = [];
  async write(values: number[] | Buffer): Promise<number> {
    if (this.closed) throw new Error('Cannot write to a closed HID device');
    const b = Buffer.from(values);
    this.written.push(b);
    return b.length;
  }
  async close(): Promise<void> {
    this.closed = true;
    this.removeAllListeners();
  }
}

export interface FakeUsbBus {
  api: HidApi;
  plug(device: HidDeviceInfo & { path: string }): void;
  /** Removes the device; an open handle's read fails as on real hardware. */
  unplug(path: string): void;
  /** The device sends one input report (only delivered while someone has it open). */
  send(path: string, report: ArrayLike<number>): boolean;
  /** Another program holds the device: opens fail until released. */
  holdElsewhere(path: string, held: boolean): void;
  isOpen(path: string): boolean;
  opens(path: string): number;
  /** How often the device list was read (the driver's hotplug polling). */
  enumerations(): number;
}

export function createFakeUsbBus(): FakeUsbBus {
  const devices = new Map<string, HidDeviceInfo>();
  const handles = new Map<string, FakeHandle>();
  const heldElsewhere = new Set<string>();
  const openCount = new Map<string, number>();
  let listed = 0;
  const live = (path: string) => {
    const h = handles.get(path);
    return h && !h.closed ? h : undefined;
  };

  const api: HidApi = {
    devicesAsync: async () => {
      listed++;
      return [...devices.values()].map((d) => ({ ...d }));
    },
    HIDAsync: {
      async open(path: string): Promise<HidHandle> {
        if (!devices.has(path)) throw new Error(`cannot open device with path ${path}`);
        if (heldElsewhere.has(path)) throw new Error(`cannot open device with path ${path}`);
        const handle = new FakeHandle();
        handles.set(path, handle);
        openCount.set(path, (openCount.get(path) ?? 0) + 1);
        return handle;
      },
    },
  };

  return {
    api,
    plug: (device) => void devices.set(device.path, device),
    unplug(path) {
      devices.delete(path);
      const h = live(path);
      if (h) h.emit('error', new Error('could not read from HID device'));
    },
    send(path, report) {
      const h = live(path);
      if (!h) return false;
      h.emit('data', Buffer.from(Uint8Array.from(report)));
      return true;
    },
    holdElsewhere: (path, held) => void (held ? heldElsewhere.add(path) : heldElsewhere.delete(path)),
    isOpen: (path) => live(path) !== undefined,
    opens: (path) => openCount.get(path) ?? 0,
    enumerations: () => listed,
  };
}
