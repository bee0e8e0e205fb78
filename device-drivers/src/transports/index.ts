import { DriverError } from '../driver-error.ts';
import type { Transport, TransportEndpoint, TransportFactory } from '../transport.ts';
import { createHidTransportFactory } from './hid-transport.ts';
import { createSerialTransportFactory } from './serial-transport.ts';

/**
 * The agent's transport layer: one factory that opens each endpoint kind with its own binding.
 * Drivers only ever see this seam (STYLE.md), so a socat pty in a test and a real tty on a box go
 * through exactly the same code.
 */
export function createTransportFactory(
  parts: { serial?: TransportFactory; hid?: TransportFactory } = {},
): TransportFactory {
  const serial = parts.serial ?? createSerialTransportFactory();
  let hid = parts.hid;
  return {
    open(endpoint: TransportEndpoint, signal?: AbortSignal): Promise<Transport> {
      switch (endpoint.kind) {
        case 'serial':
          return serial.open(endpoint, signal);
        case 'hid':
          // node-hid is loaded on first use: a box without HID readers never touches libusb.
          hid ??= createHidTransportFactory();
          return hid.open(endpoint, signal);
        default:
          return Promise.reject(
            new DriverError(
              'TRANSPORT_KIND',
              `no transport for endpoint kind ${(endpoint as { kind: string }).kind}`,
            ),
          );
      }
    },
  };
}
