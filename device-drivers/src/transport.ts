/**
 * The transport seam. A driver never opens a port or socket itself: it asks its context for a
 * transport by endpoint, and the agent's transport layer decides what that means (a real tty, a
 * socat pty in tests, a USB HID device). Production and tests run the same driver code.
 */
export type TransportEndpoint =
  | {
      kind: 'serial';
      path: string;
      baudRate: number;
      dataBits?: 7 | 8;
      parity?: 'none' | 'even' | 'odd';
      stopBits?: 1 | 2;
    }
  | {
      kind: 'hid';
      vendorId: number;
      productId: number;
      serialNumber?: string | undefined;
      path?: string | undefined;
    };

export interface Transport {
  /** Sends bytes; resolves once handed to the OS (drained), so callers respect backpressure. */
  write(bytes: Uint8Array): Promise<void>;
  /** Registers the byte sink. Exactly one consumer: the driver's framer. */
  onData(listener: (bytes: Buffer) => void): void;
  /** Called once when the transport closes for any reason (unplug, error, close()). */
  onClose(listener: (error: Error | null) => void): void;
  close(): Promise<void>;
  readonly isOpen: boolean;
}

export interface TransportFactory {
  open(endpoint: TransportEndpoint, signal?: AbortSignal): Promise<Transport>;
}
