/**
 * The transport seam. A driver never opens a port or socket itself: it asks its context for a
 * transport by endpoint, and the agent's transport layer decides what that means (a real tty, a
 * socat pty in tests, a USB HID device, a terminal's topics on the embedded broker, an HTTP peer).
 * Production and tests run the same driver code; only the endpoint differs.
 */
export interface SerialEndpoint {
  kind: 'serial';
  path: string;
  baudRate: number;
  dataBits?: 7 | 8;
  parity?: 'none' | 'even' | 'odd';
  stopBits?: 1 | 2;
}

export interface HidEndpoint {
  kind: 'hid';
  vendorId: number;
  productId: number;
  serialNumber?: string | undefined;
  path?: string | undefined;
}

/**
 * One MQTT terminal's topics on the agent's embedded broker. The terminal itself logs in with the
 * credentials its driver declared (DriverDefinition.mqttTerminals); the driver gets this in-process view.
 */
export interface MqttEndpoint {
  kind: 'mqtt';
  terminalId: string;
}

/** An HTTP peer on the site network (ONVIF cameras): the agent bounds time and size of every exchange. */
export interface HttpEndpoint {
  kind: 'http';
  /** e.g. http://192.0.2.10:80 — the device's own address, from the driver's config. */
  baseUrl: string;
  /** Per-request deadline; default 5 s. */
  timeoutMs?: number;
  /** Largest response body accepted; default 1 MiB. */
  maxResponseBytes?: number;
}

export type TransportEndpoint = SerialEndpoint | HidEndpoint | MqttEndpoint | HttpEndpoint;
export type ByteEndpoint = SerialEndpoint | HidEndpoint;

/** A byte stream: a serial line, or a HID device (one input report per onData call). */
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

/** A terminal's messages on the embedded broker, scoped to its own topic prefix. */
export interface MqttTransport {
  /** Every publish the terminal was allowed to make; `subtopic` is relative to its prefix. */
  onMessage(listener: (subtopic: string, payload: Buffer) => void): void;
  /** The terminal's session came up (true) or went away (false). */
  onConnection(listener: (connected: boolean) => void): void;
  /**
   * QoS 1 to `sceneway/t/<terminalId>/<subtopic>`; only subtopics the terminal may subscribe to. Queued
   * by the broker for a terminal that holds a persistent session.
   */
  publish(subtopic: string, payload: Buffer | string): Promise<void>;
  readonly connected: boolean;
  close(): Promise<void>;
  readonly isOpen: boolean;
}

export interface HttpExchange {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** One HTTP peer. Paths are relative to the endpoint's baseUrl; a peer can never redirect us elsewhere. */
export interface HttpTransport {
  request(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    options?: {
      headers?: Record<string, string>;
      /** An async iterable is streamed (a firmware upload): never the whole body in memory. */
      body?: Buffer | string | AsyncIterable<Uint8Array>;
      signal?: AbortSignal;
      /** This exchange's deadline instead of the endpoint's (a long upload). */
      timeoutMs?: number;
    },
  ): Promise<HttpExchange>;
  close(): Promise<void>;
  readonly isOpen: boolean;
}

/** Which transport an endpoint opens. */
export type TransportOf<E extends TransportEndpoint> = E extends MqttEndpoint
  ? MqttTransport
  : E extends HttpEndpoint
    ? HttpTransport
    : Transport;

export interface TransportFactory {
  open<E extends TransportEndpoint>(endpoint: E, signal?: AbortSignal): Promise<TransportOf<E>>;
}

/** Opens byte streams only (the serial and HID bindings, and the in-memory transport of tests). */
export interface ByteTransportFactory {
  open(endpoint: ByteEndpoint, signal?: AbortSignal): Promise<Transport>;
}

/** Opens one terminal's topics (the agent's embedded broker provides it). */
export interface MqttTransportFactory {
  open(endpoint: MqttEndpoint, signal?: AbortSignal): Promise<MqttTransport>;
}

export interface HttpTransportFactory {
  open(endpoint: HttpEndpoint, signal?: AbortSignal): Promise<HttpTransport>;
}
