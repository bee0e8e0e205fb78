import { DriverError } from '../driver-error.ts';
import type {
  ByteTransportFactory,
  HttpTransportFactory,
  MqttTransportFactory,
  TransportEndpoint,
  TransportFactory,
  TransportOf,
} from '../transport.ts';
import { createHidTransportFactory } from './hid-transport.ts';
import { createHttpTransportFactory } from './http-transport.ts';
import { createSerialTransportFactory } from './serial-transport.ts';

export interface TransportParts {
  serial?: ByteTransportFactory;
  hid?: ByteTransportFactory;
  /** The embedded broker's per-terminal topics; absent where no broker runs (then mqtt opens fail). */
  mqtt?: MqttTransportFactory;
  http?: HttpTransportFactory;
}

/**
 * The agent's transport layer: one factory that opens each endpoint kind with its own binding.
 * Drivers only ever see this seam (STYLE.md), so a socat pty in a test and a real tty on a box go
 * through exactly the same code.
 */
export function createTransportFactory(parts: TransportParts = {}): TransportFactory {
  const serial = parts.serial ?? createSerialTransportFactory();
  let hid = parts.hid;
  const http = parts.http ?? createHttpTransportFactory();
  const open = (endpoint: TransportEndpoint, signal?: AbortSignal): Promise<unknown> => {
    switch (endpoint.kind) {
      case 'serial':
        return serial.open(endpoint, signal);
      case 'hid':
        // node-hid is loaded on first use: a box without HID readers never touches libusb.
        hid ??= createHidTransportFactory();
        return hid.open(endpoint, signal);
      case 'mqtt':
        if (!parts.mqtt) {
          return Promise.reject(
            new DriverError(
              'TRANSPORT_KIND',
              'no MQTT broker runs in this agent: mqtt transports are unavailable',
            ),
          );
        }
        return parts.mqtt.open(endpoint, signal);
      case 'http':
        return http.open(endpoint, signal);
      default:
        return Promise.reject(
          new DriverError(
            'TRANSPORT_KIND',
            `no transport for endpoint kind ${(endpoint as { kind: string }).kind}`,
          ),
        );
    }
  };
  return {
    // One switch serves every kind; TransportOf<E> ties each endpoint to the transport its branch returns.
    open: <E extends TransportEndpoint>(endpoint: E, signal?: AbortSignal) =>
      open(endpoint, signal) as Promise<TransportOf<E>>,
  };
}
