import { readFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { BoxConfig } from '../config/schema.ts';
import { GatewayError } from '../gateway-error.ts';

export type BrokerTlsConfig = NonNullable<BoxConfig['broker']['tls']>;
export interface ListenAddress {
  host: string;
  port: number;
}

/**
 * A listener plus the sockets it accepted, so close() can drop connections that never sent CONNECT
 * (aedes only knows clients after their CONNECT, and server.close() waits for every socket).
 */
export interface BrokerListener {
  server: Server;
  sockets: Set<Socket>;
}

/** Takes an accepted socket, or refuses it (false: the socket was already reset, nothing to track). */
type Accept = (socket: Socket) => boolean;

/**
 * `maxConnections` is also set on the server: past it Node closes the accepted descriptor before a
 * JavaScript socket is made for it (net.js onconnection, the 'drop' event), the cheapest refusal
 * there is once the kernel has accepted. `onDrop` counts those.
 */
export function createTcpListener(
  accept: Accept,
  maxConnections: number,
  onDrop: () => void,
): BrokerListener {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    if (accept(socket)) track(sockets, socket);
  });
  server.maxConnections = maxConnections;
  server.on('drop', onDrop);
  return { server, sockets };
}

/**
 * TLS for terminals on a shared LAN: the channel is secured before the terminal's credentials cross it
 * (bank standard 004 §5.3.1 f, g). With requireClientCert a terminal also needs a certificate signed by
 * broker.tls.caPath, on top of its username and password.
 */
export function createTlsListener(
  config: BrokerTlsConfig,
  accept: Accept,
  onTlsError: (err: Error, socket: TLSSocket) => void,
): BrokerListener {
  if (config.requireClientCert && config.caPath === undefined) {
    throw new GatewayError(
      'BROKER_TLS_CONFIG',
      'broker.tls.requireClientCert is set but broker.tls.caPath is not: there is no CA to check terminal certificates against',
      'set broker.tls.caPath to the CA certificate that signed the terminals’ client certificates',
    );
  }
  const cert = readTlsFile(config.certPath, 'broker.tls.certPath');
  const key = readTlsFile(config.keyPath, 'broker.tls.keyPath');
  const ca = config.caPath === undefined ? undefined : readTlsFile(config.caPath, 'broker.tls.caPath');
  const sockets = new Set<Socket>();
  let server: Server;
  try {
    server = createTlsServer(
      {
        cert,
        key,
        ...(ca === undefined ? {} : { ca }),
        requestCert: config.requireClientCert,
        rejectUnauthorized: config.requireClientCert,
        minVersion: 'TLSv1.2',
      },
      (socket) => {
        if (accept(socket)) track(sockets, socket);
      },
    );
  } catch (err) {
    // Readable but unusable: not PEM, or a key that does not belong to the certificate.
    const files = [config.certPath, config.keyPath, ...(config.caPath ? [config.caPath] : [])].join(', ');
    throw new GatewayError(
      'BROKER_TLS_FILES',
      `cannot use the broker TLS files ${files}: ${err instanceof Error ? err.message : String(err)}`,
      'broker.tls.certPath and keyPath must be a PEM certificate and its private key (caPath: PEM CA certificates)',
      { cause: err },
    );
  }
  server.on('tlsClientError', onTlsError);
  return { server, sockets };
}

function readTlsFile(path: string, field: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new GatewayError(
      'BROKER_TLS_FILES',
      `cannot read ${field} ${path} (${reason})`,
      `check that ${path} exists and is readable by the agent, or fix ${field}`,
      { cause: err },
    );
  }
}

export function listen(
  listener: BrokerListener,
  address: ListenAddress,
  field: string,
): Promise<ListenAddress> {
  const { server } = listener;
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const where = formatHostPort(address);
      const reason = err.code === 'EADDRINUSE' ? 'the address is in use' : (err.code ?? err.message);
      reject(
        new GatewayError(
          'BROKER_LISTEN',
          `terminal broker cannot listen on ${where}: ${reason}; set ${field}.port to a free port`,
          `stop the program holding ${where}, or set ${field}.port (0 picks any free port) and ${field}.host`,
          { cause: err },
        ),
      );
    };
    server.once('error', onError);
    server.listen(address.port, address.host, () => {
      server.removeListener('error', onError);
      const bound = server.address() as AddressInfo;
      resolve({ host: bound.address, port: bound.port });
    });
  });
}

export function closeListener(listener: BrokerListener): Promise<void> {
  return new Promise((resolve) => {
    if (!listener.server.listening) {
      resolve();
      return;
    }
    listener.server.close(() => resolve());
    for (const socket of listener.sockets) socket.destroy();
  });
}

export function formatHostPort({ host, port }: ListenAddress): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function track(sockets: Set<Socket>, socket: Socket): void {
  sockets.add(socket);
  socket.once('close', () => sockets.delete(socket));
}
