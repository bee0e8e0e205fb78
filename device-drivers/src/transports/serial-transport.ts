import { read } from 'node:fs';
import { promisify } from 'node:util';
import type { SerialPort } from 'serialport';
import { DriverError } from '../driver-error.ts';
import type { ByteTransportFactory, Transport, TransportEndpoint } from '../transport.ts';
import { createTransportEvents } from './transport-events.ts';

/**
 * Serial ports for drivers, through node-serialport. This is the only place a tty is opened: drivers ask
 * for `{ kind: 'serial', path, baudRate }` and get a Transport, whether the path is an RS-485 adapter
 * under /dev/serial/by-id or one end of a socat pty pair in a test.
 *
 * The port is opened with an exclusive lock (TIOCEXCL), so a second agent or a forgotten `screen`
 * session cannot silently steal half the bytes of a till.
 */
type SerialEndpoint = Extract<TransportEndpoint, { kind: 'serial' }>;

/** The parts of @serialport/bindings-cpp's Linux/Darwin port binding the EOF fix below touches. */
interface UnixPortBinding {
  readonly isOpen: boolean;
  fd: number | null;
  poller: { once(event: 'readable', callback: (err: Error | null) => void): unknown };
  read(buffer: Buffer, offset: number, length: number): Promise<{ bytesRead: number; buffer: Buffer }>;
}

function isUnixPortBinding(port: unknown): port is UnixPortBinding {
  return typeof port === 'object' && port !== null && 'poller' in port && 'fd' in port && 'read' in port;
}

const fsRead = promisify(read);

/**
 * bindings-cpp 13's unixRead retries a zero-byte read for ever (serialport/bindings-cpp#162, fix #164
 * not released): when a USB adapter is pulled or a pty's master dies, read() returns 0 (EOF) on the
 * hung-up tty, so the port spins in the thread pool and never reports the disconnect. Seen here on
 * about one unplug in twenty over socat ptys. Zero bytes after "readable" is end of file: report it as
 * the disconnect it is, and let the stream close the port.
 */
async function readUntilData(port: UnixPortBinding, buffer: Buffer, offset: number, length: number) {
  for (;;) {
    if (!port.isOpen || port.fd === null)
      throw Object.assign(new Error('Port is not open'), { canceled: true });
    try {
      const { bytesRead } = await fsRead(port.fd, buffer, offset, length, null);
      if (bytesRead === 0) {
        throw Object.assign(new Error('end of file: the device went away'), { disconnect: true });
      }
      return { bytesRead, buffer };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK' && code !== 'EINTR') throw err;
      // The port may have closed while fs.read was in the thread pool. Polling a closed port's poller
      // re-arms it on an fd number the next open will reuse: two uv_poll handles on one fd, and libuv
      // segfaults on the next close (seen here, every time, on open→close→open→close).
      if (!port.isOpen || port.fd === null)
        throw Object.assign(new Error('Port is not open'), { canceled: true });
      await new Promise<void>((resolve, reject) =>
        port.poller.once('readable', (pollErr) => (pollErr ? reject(pollErr) : resolve())),
      );
    }
  }
}

function eofSafe(detectedBinding: typeof SerialPort.binding) {
  // The detected binding's type is a union of three platforms' open() signatures; only its runtime
  // value matters here, and stream options are validated by SerialPort before they reach it.
  const openDetected = detectedBinding.open.bind(detectedBinding) as (options: unknown) => Promise<unknown>;
  return {
    list: () => detectedBinding.list(),
    async open(options: unknown): Promise<unknown> {
      const port = await openDetected(options);
      if (isUnixPortBinding(port)) {
        port.read = (buffer, offset, length) => readUntilData(port, buffer, offset, length);
      }
      return port;
    },
  };
}

/**
 * serialport and its native binding load at the first open, not with the agent: a box without serial
 * terminals never pays for them, and one with tills pays while its drivers start (≈40 ms and a few MB
 * of a cold start, docs/decisions.md D21).
 */
let serialport: Promise<{ SerialPort: typeof SerialPort; binding: ReturnType<typeof eofSafe> }> | null = null;
function loadSerialport() {
  serialport ??= import('serialport').then(
    (m) => ({ SerialPort: m.SerialPort, binding: eofSafe(m.SerialPort.binding) }),
    (cause: unknown) => {
      throw new DriverError(
        'SERIAL_OPEN_FAILED',
        `serialport's native binding did not load (${message(cause)}): reinstall the agent on this box (npm ci)`,
        { cause },
      );
    },
  );
  return serialport;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function openPort(endpoint: SerialEndpoint): Promise<SerialPort> {
  const { SerialPort, binding } = await loadSerialport();
  return new Promise((resolve, reject) => {
    let port: SerialPort;
    try {
      const options = {
        path: endpoint.path,
        baudRate: endpoint.baudRate,
        dataBits: endpoint.dataBits ?? 8,
        parity: endpoint.parity ?? 'none',
        stopBits: endpoint.stopBits ?? 1,
        autoOpen: false,
        lock: true,
        // SerialPort spreads its options over the detected binding, so this replaces it (see above).
        binding,
      } as const;
      port = new SerialPort(options);
    } catch (cause) {
      // serialport validates options synchronously (e.g. an unsupported baud rate).
      reject(
        new DriverError('SERIAL_OPEN_FAILED', `bad serial options for ${endpoint.path}: ${message(cause)}`, {
          cause,
        }),
      );
      return;
    }
    port.open((err) => {
      if (err) {
        reject(
          new DriverError(
            'SERIAL_OPEN_FAILED',
            `cannot open ${endpoint.path}: ${err.message}. Check the cable and that no other program holds the port.`,
            { cause: err },
          ),
        );
      } else {
        resolve(port);
      }
    });
  });
}

function wrap(port: SerialPort, path: string): Transport {
  const pendingWrites = new Set<(err: Error) => void>();
  const events = createTransportEvents({
    onClosing(error) {
      // A write the closed port will never complete must not leave its caller waiting.
      for (const fail of [...pendingWrites]) fail(error ?? new Error('port closed'));
      pendingWrites.clear();
    },
  });
  const fireClose = (error: Error | null) => events.close(error);

  port.on('data', (bytes: Buffer) => events.pushData(bytes));
  // On unplug the binding's read fails and serialport closes the port with a DisconnectedError.
  port.on('close', (err: Error | null | undefined) => fireClose(err ?? null));
  port.on('error', (err: Error) => {
    // Errors outside a callback (a failed background read): the port is no use any more.
    if (port.isOpen) port.close(() => fireClose(err));
    else fireClose(err);
  });

  return {
    get isOpen() {
      return !events.closed && port.isOpen;
    },
    onData: events.onData,
    onClose: events.onClose,
    write(bytes) {
      return new Promise((resolve, reject) => {
        if (events.closed || !port.isOpen) {
          reject(new DriverError('SERIAL_WRITE_FAILED', `${path} is closed`));
          return;
        }
        const fail = (err: Error) =>
          reject(
            new DriverError('SERIAL_WRITE_FAILED', `write to ${path} failed: ${err.message}`, { cause: err }),
          );
        pendingWrites.add(fail);
        // Resolves when node's stream buffer has drained into the kernel: the write callback fires once
        // the binding's write() has taken every byte, waiting (epoll, not a thread) while the tty buffer
        // is full, so a slow line pushes back on the driver. Deliberately not tcdrain (port.drain): it
        // parks a libuv worker thread until the far end reads, and a peer that stopped reading (a dead pty,
        // a wedged adapter) never does. Measured: 40 KB into a pty whose peer had closed, then tcdrain
        // never returned; four of those starve every fs, crypto and dns call of the agent.
        port.write(Buffer.from(bytes), (err) => {
          pendingWrites.delete(fail);
          if (err) fail(err);
          else resolve();
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        if (events.closed || !port.isOpen) {
          fireClose(null);
          resolve();
          return;
        }
        port.close((err) => {
          fireClose(err ?? null);
          resolve();
        });
      });
    },
  };
}

export function createSerialTransportFactory(): ByteTransportFactory {
  return {
    async open(endpoint, signal) {
      if (endpoint.kind !== 'serial') {
        throw new DriverError(
          'TRANSPORT_KIND_UNSUPPORTED',
          `the serial transport opens serial ports only, not '${endpoint.kind}'`,
        );
      }
      if (signal?.aborted) throw new DriverError('SERIAL_OPEN_ABORTED', `open of ${endpoint.path} cancelled`);
      const port = await openPort(endpoint);
      const transport = wrap(port, endpoint.path);
      if (signal?.aborted) {
        await transport.close();
        throw new DriverError('SERIAL_OPEN_ABORTED', `open of ${endpoint.path} cancelled`);
      }
      return transport;
    },
  };
}
