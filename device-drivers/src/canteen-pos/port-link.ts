import { type BackoffPolicy, fullJitterDelay, sleep } from '@sceneway/core';
import type { DriverLogger } from '../driver-api.ts';
import { DriverError } from '../driver-error.ts';
import type { Transport, TransportEndpoint, TransportFactory } from '../transport.ts';

/**
 * Keeps one serial port open for as long as the driver runs. A USB-serial adapter pulled out of the box
 * closes the transport; the link then retries with backoff + full jitter until the device node comes
 * back (same /dev/serial/by-id name after a replug), and tells the driver both edges.
 */
export interface PortLinkOptions {
  transports: TransportFactory;
  endpoint: Extract<TransportEndpoint, { kind: 'serial' }>;
  backoff: BackoffPolicy;
  logger: DriverLogger;
  onOpen(): void;
  onClose(reason: string): void;
  onBytes(bytes: Buffer): void;
  random?: () => number;
  now(): number;
}

export interface PortLink {
  /** Starts the open/reopen loop; resolves after the first open attempt, whatever its outcome. */
  start(): Promise<void>;
  stop(): Promise<void>;
  write(bytes: Uint8Array): Promise<void>;
  /** Closes the open transport so the loop opens it afresh (a wedged adapter that reports nothing). */
  recycle(reason: string): void;
  readonly isOpen: boolean;
}

/** An open that then lasts this long counts as recovered: the next failure starts backoff from the bottom. */
const STABLE_AFTER_MS = 5000;

export function createPortLink(options: PortLinkOptions): PortLink {
  const { endpoint, logger } = options;
  let transport: Transport | null = null;
  let controller: AbortController | null = null;
  let loop: Promise<void> | null = null;
  let attempt = 0;

  async function openOnce(signal: AbortSignal): Promise<Transport | null> {
    try {
      const t = await options.transports.open(endpoint, signal);
      if (signal.aborted) {
        await t.close().catch(() => undefined);
        return null;
      }
      return t;
    } catch (cause) {
      if (!signal.aborted) {
        logger.warn(
          { port: endpoint.path, attempt, err: cause instanceof Error ? cause.message : String(cause) },
          'canteen POS port not available; will retry',
        );
      }
      return null;
    }
  }

  /** Resolves when this transport closes; the loop then waits and reopens. */
  function attach(t: Transport, signal: AbortSignal): Promise<string> {
    return new Promise((resolve) => {
      t.onData((bytes) => {
        if (!signal.aborted) options.onBytes(bytes);
      });
      // stop() closes the transport, which fires onClose; the abort listener covers a transport that
      // never does. It is removed when the transport closes: a port that is recycled all day must not
      // pile up listeners on the driver's signal.
      const onAbort = () => resolve('stopped');
      t.onClose((error) => {
        signal.removeEventListener('abort', onAbort);
        resolve(error ? error.message : 'closed');
      });
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  async function run(signal: AbortSignal, firstAttempt: () => void): Promise<void> {
    let first = true;
    while (!signal.aborted) {
      if (!first) {
        attempt++;
        if (!(await sleep(fullJitterDelay(options.backoff, attempt, options.random), signal))) break;
      }
      const t = await openOnce(signal);
      if (first) {
        first = false;
        firstAttempt();
      }
      if (!t) continue;
      transport = t;
      const openedAt = options.now();
      const closed = attach(t, signal);
      logger.info({ port: endpoint.path }, 'canteen POS port open');
      options.onOpen();
      const reason = await closed;
      transport = null;
      if (options.now() - openedAt >= STABLE_AFTER_MS) attempt = 0;
      if (signal.aborted) break;
      logger.warn({ port: endpoint.path, reason }, 'canteen POS port closed; reopening with backoff');
      options.onClose(reason);
    }
  }

  return {
    get isOpen() {
      return transport?.isOpen ?? false;
    },
    start() {
      if (controller) return Promise.resolve();
      controller = new AbortController();
      const { signal } = controller;
      attempt = 0;
      return new Promise<void>((resolve) => {
        loop = run(signal, resolve).finally(() => resolve());
      });
    },
    async stop() {
      if (!controller) return;
      controller.abort();
      controller = null;
      const t = transport;
      transport = null;
      if (t) await t.close().catch(() => undefined);
      await loop;
      loop = null;
    },
    recycle(reason) {
      const t = transport;
      if (!t) return;
      logger.warn({ port: endpoint.path, reason }, 'reopening canteen POS port');
      void t.close().catch(() => undefined);
    },
    async write(bytes) {
      const t = transport;
      if (!t?.isOpen) throw new DriverError('POS_PORT_CLOSED', `port ${endpoint.path} is not open`);
      await t.write(bytes);
    },
  };
}
