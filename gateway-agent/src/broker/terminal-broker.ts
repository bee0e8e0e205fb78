import type { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Aedes, type Client } from 'aedes';
import { GatewayError } from '../gateway-error.ts';
import {
  type BrokerListener,
  type BrokerTlsConfig,
  closeListener,
  createTcpListener,
  createTlsListener,
  type ListenAddress,
  listen,
} from './broker-listeners.ts';
import { createConnectionGate } from './connection-gate.ts';
import { createDropLog } from './drop-log.ts';
import { type FrameViolation, guardFrames } from './frame-guard.ts';
import type { LockoutScope } from './login-throttle.ts';
import { createRefusalHold } from './refusal-hold.ts';
import { type MqttService, serviceMayPublish, serviceMaySubscribe } from './service-acl.ts';
import {
  type BrokerLogger,
  clip,
  createTerminalAuth,
  formatRemote,
  type LoginDefenceStats,
  type LoginRefusal,
  type MqttTerminal,
  remoteAddressOf,
  type TerminalAuthOptions,
} from './terminal-auth.ts';
import {
  isCommandSubtopic,
  maySubscribe,
  publishSubtopic,
  type TerminalAcl,
  terminalPrefix,
} from './terminal-topics.ts';

export type { BrokerLogger, LockoutScope, LoginDefenceStats, LoginRefusal, MqttService, MqttTerminal };

export interface TerminalBrokerOptions {
  terminals: ReadonlyArray<MqttTerminal>;
  /** Service identities granted topics beyond a terminal's prefix (broker.services). */
  services?: ReadonlyArray<MqttService> | undefined;
  tcp: ListenAddress;
  tls?: BrokerTlsConfig | undefined;
  logger: BrokerLogger;
  /** Called for every publish a terminal is allowed to make, with the part after its own prefix. */
  onTerminalMessage?: (terminalId: string, subtopic: string, payload: Buffer) => void;
  /** A terminal's connection came up or went away (the last of its connections). */
  onTerminalConnection?: (terminalId: string, connected: boolean) => void;
  /** Every refused login, by reason (never by username): the agent's auth-failure counter. */
  onLoginRefused?: (reason: LoginRefusal) => void;
  /** An address, username or terminal path was newly locked out after repeated failed logins. */
  onLockout?: (scope: LockoutScope) => void;
  /** No lockout is active any more (the alert raised at onLockout can be cleared). */
  onLockoutsCleared?: () => void;
  /** A socket was dropped before or outside MQTT: connection caps, packet caps. */
  onConnectionDropped?: (reason: ConnectionDrop) => void;
  /** Largest packet a logged-in terminal may send (broker.maxPacketBytes); default 256 KiB. */
  maxPacketBytes?: number;
  /** Sockets at once, all addresses together (broker.maxConnections); default 256. */
  maxConnections?: number;
  /** Sockets at once from one address (broker.maxConnectionsPerAddress); default 16. */
  maxConnectionsPerAddress?: number;
  /** New sockets a second from addresses that never logged in (broker.newAddressConnectsPerSecond); default 20. */
  newAddressConnectsPerSecond?: number;
  /** How refused sockets are held before their reset (tests); the defaults are the production ones. */
  refusalHold?: { maxHeld: number; holdMs: number };
  /** Tuning of the login defences (tests); the defaults are the production ones. */
  login?: Pick<TerminalAuthOptions, 'maxChecksInFlight' | 'maxChecksQueued' | 'throttle' | 'strangerChecks'>;
}

/** Why a socket was dropped without an MQTT answer: a metric label. */
export type ConnectionDrop =
  | 'too_many_connections'
  | 'too_many_from_address'
  | 'too_many_new_addresses'
  | FrameViolation;

/** The CONNECT a terminal sends is small: ids and credentials are capped far below this (LOGIN_LIMITS). */
export const PRE_LOGIN_PACKET_BYTES = 4096;
export const BROKER_DEFAULTS = {
  maxPacketBytes: 256 * 1024,
  maxConnections: 256,
  maxConnectionsPerAddress: 16,
  newAddressConnectsPerSecond: 20,
  /** Refused sockets held before their reset (refusal-hold.ts), and for how long (one to two times). */
  refusalHoldMax: 128,
  refusalHoldMs: 250,
};

export interface TerminalBroker {
  tcpAddress: ListenAddress;
  tlsAddress?: ListenAddress;
  /** QoS 1 to sceneway/t/<id>/cmd; queued for a terminal that holds a persistent session. */
  publishCommand(terminalId: string, payload: Buffer | string): Promise<void>;
  /** QoS 1 to sceneway/t/<id>/<subtopic>, where the terminal's ACL lets it subscribe (its command side). */
  publishTo(terminalId: string, subtopic: string, payload: Buffer | string): Promise<void>;
  connectedTerminals(): string[];
  /** Retained messages the broker holds (the quota says none from terminals). */
  retainedMessages(): Promise<number>;
  /** Password checks in flight and queued, lockouts by scope: the storm tests' seam and the metrics. */
  loginDefence(): LoginDefenceStats;
  close(): Promise<void>;
}

/**
 * The site's MQTT broker for terminals (face/attendance readers and the like): aedes inside the agent,
 * with per-terminal logins and a topic ACL (see terminal-topics.ts). The agent itself talks to the
 * broker in-process through publishCommand and onTerminalMessage, never through a socket.
 */
export async function startTerminalBroker(options: TerminalBrokerOptions): Promise<TerminalBroker> {
  const { logger } = options;
  let lockoutWatch: NodeJS.Timeout | undefined;
  const auth = createTerminalAuth({
    terminals: options.terminals,
    ...(options.services ? { services: options.services } : {}),
    logger,
    ...options.login,
    ...(options.onLoginRefused ? { onLoginRefused: options.onLoginRefused } : {}),
    onLockout(scope) {
      options.onLockout?.(scope);
      // Watched only while a lockout lasts, so a quiet box has no timer.
      lockoutWatch ??= setInterval(() => {
        const locked = auth.defence().lockedOut;
        if (locked.address + locked.username + locked.pair > 0) return;
        clearInterval(lockoutWatch);
        lockoutWatch = undefined;
        options.onLockoutsCleared?.();
      }, 1000).unref();
    },
  });
  const { terminalOf, serviceOf, aclById } = auth;
  const aclOfId = (terminalId: string) =>
    aclById.get(terminalId) ?? { terminalId, publish: [], subscribe: [] };
  const liveClients = new Set<Client>();

  const aedes = await Aedes.createBroker({
    // A socket that sends no CONNECT holds a connection slot; 10 s is ample on a LAN.
    connectTimeout: 10_000,
    preConnect: auth.preConnect,
    authenticate: auth.authenticate,
    authorizePublish(client, packet, callback) {
      const service = client === null ? undefined : serviceOf.get(client);
      if (client !== null && service !== undefined) {
        if (!serviceMayPublish(service, packet.topic)) {
          const reason = 'service publish refused: topic is invalid or not granted to it; disconnecting it';
          const fields = { service: clip(service.username), topic: clip(packet.topic) };
          logger.warn({ ...fields, remoteAddress: remoteAddressOf(client) }, reason);
          callback(new Error(reason));
          return;
        }
        packet.retain = false; // the same quota as terminals: nothing retained
        callback(null);
        return;
      }
      const terminalId = client === null ? undefined : terminalOf.get(client);
      if (client === null || terminalId === undefined) {
        callback(new Error('publish without an authenticated terminal'));
        return;
      }
      if (publishSubtopic(aclOfId(terminalId), packet.topic) === null) {
        // MQTT 3.1.1 has no negative PUBACK: the only answer to a forbidden publish is to disconnect.
        const reason =
          'terminal publish refused: topic is invalid or outside its declared ACL; disconnecting it';
        logger.warn(
          { terminalId, topic: clip(packet.topic), remoteAddress: remoteAddressOf(client) },
          reason,
        );
        callback(new Error(reason));
        return;
      }
      // Quota: terminals keep no retained messages on the box. Nothing of the box reads them, and each
      // would hold up to maxPacketBytes of memory per topic for as long as the agent runs.
      if (packet.retain) {
        logger.debug({ terminalId, topic: clip(packet.topic) }, 'terminal publish: retain flag dropped');
        packet.retain = false;
      }
      callback(null);
    },
    authorizeSubscribe(client, subscription, callback) {
      const service = serviceOf.get(client);
      if (service !== undefined && serviceMaySubscribe(service, subscription.topic)) {
        callback(null, subscription);
        return;
      }
      const terminalId = terminalOf.get(client);
      if (terminalId !== undefined && maySubscribe(aclOfId(terminalId), subscription.topic)) {
        callback(null, subscription);
        return;
      }
      logger.warn(
        { terminalId, topic: clip(subscription.topic), remoteAddress: remoteAddressOf(client) },
        'terminal subscribe refused: only its own declared command topics are allowed',
      );
      callback(null, null); // SUBACK 0x80 for this filter, the connection stays up
    },
    published(packet, client, callback) {
      const terminalId = client === null ? undefined : terminalOf.get(client);
      const subtopic = terminalId === undefined ? null : publishSubtopic(aclOfId(terminalId), packet.topic);
      if (terminalId !== undefined && subtopic !== null && options.onTerminalMessage) {
        const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
        try {
          options.onTerminalMessage(terminalId, subtopic, payload);
        } catch (err) {
          // One faulty consumer must not take the broker, and every other terminal, down with it.
          logger.error({ terminalId, subtopic, err }, 'terminal message handler failed');
        }
      }
      callback(null);
    },
  });

  const connectionsOf = new Map<string, number>();
  const noteConnection = (terminalId: string | undefined, delta: 1 | -1) => {
    if (terminalId === undefined) return;
    const before = connectionsOf.get(terminalId) ?? 0;
    const after = Math.max(0, before + delta);
    connectionsOf.set(terminalId, after);
    if ((before === 0) !== (after === 0)) {
      try {
        options.onTerminalConnection?.(terminalId, after > 0);
      } catch (err) {
        logger.error({ terminalId, err }, 'terminal connection handler failed');
      }
    }
  };
  aedes.on('clientReady', (client) => {
    liveClients.add(client);
    noteConnection(terminalOf.get(client), 1);
    const fields = { terminalId: terminalOf.get(client), clientId: client.id };
    logger.info({ ...fields, remoteAddress: remoteAddressOf(client) }, 'terminal connected');
  });
  aedes.on('clientDisconnect', (client) => {
    if (liveClients.delete(client)) noteConnection(terminalOf.get(client), -1);
    logger.info({ terminalId: terminalOf.get(client), clientId: client.id }, 'terminal disconnected');
  });
  aedes.on('clientError', (client, err) => {
    const fields = { terminalId: terminalOf.get(client), clientId: client.id, err: err.message };
    logger.debug(fields, 'terminal connection error');
  });
  aedes.on('connectionError', (client, err) => {
    logger.debug({ remoteAddress: remoteAddressOf(client), err: err.message }, 'broker connection error');
  });
  // Persistence failures arrive as 'error', which the typings omit; unheard, it would kill the agent.
  (aedes as EventEmitter).on('error', (err: unknown) => logger.error({ err }, 'terminal broker error'));

  const listeners: BrokerListener[] = [];
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    clearInterval(lockoutWatch);
    hold.close();
    const stopping = listeners.map(closeListener);
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await Promise.all(stopping);
    await auth.close();
  };

  const maxConnections = options.maxConnections ?? BROKER_DEFAULTS.maxConnections;
  const gate = createConnectionGate({
    total: maxConnections,
    perAddress: options.maxConnectionsPerAddress ?? BROKER_DEFAULTS.maxConnectionsPerAddress,
    strangersPerSecond: options.newAddressConnectsPerSecond ?? BROKER_DEFAULTS.newAddressConnectsPerSecond,
    isKnownAddress: (address) => auth.isKnownAddress(address),
    now: options.login?.throttle?.now ?? Date.now,
  });
  const maxPacketBytes = options.maxPacketBytes ?? BROKER_DEFAULTS.maxPacketBytes;
  const dropLog = createDropLog(logger, Date.now);
  const hold = createRefusalHold({
    maxHeld: options.refusalHold?.maxHeld ?? BROKER_DEFAULTS.refusalHoldMax,
    holdMs: options.refusalHold?.holdMs ?? BROKER_DEFAULTS.refusalHoldMs,
    reset: refuse,
  });
  const drop = (socket: Socket | null, reason: ConnectionDrop, declaredBytes: number | null = null) => {
    options.onConnectionDropped?.(reason);
    dropLog.dropped(reason, socket === null ? undefined : formatRemote(socket), declaredBytes);
  };
  const accept = (socket: Socket): boolean => {
    const admitted = gate.admit(socket);
    if (admitted !== 'ok') {
      const reason = {
        total: 'too_many_connections',
        per_address: 'too_many_from_address',
        stranger_rate: 'too_many_new_addresses',
      } as const;
      drop(socket, reason[admitted]);
      hold.refuse(socket);
      return false;
    }
    let client: Client | undefined;
    guardFrames(socket, {
      preLoginBytes: PRE_LOGIN_PACKET_BYTES,
      maxPacketBytes,
      loggedIn: () => client !== undefined && (terminalOf.has(client) || serviceOf.has(client)),
      onViolation: (reason, declared) => drop(socket, reason, declared),
    });
    client = aedes.handle(socket);
    return true;
  };
  // Past maxConnections Node refuses on the listener itself, before a socket object exists (D32).
  const droppedByListener = () => drop(null, 'too_many_connections');

  try {
    const tcp = createTcpListener(accept, maxConnections, droppedByListener);
    listeners.push(tcp);
    const tcpAddress = await listen(tcp, options.tcp, 'broker.tcp');
    let tlsAddress: ListenAddress | undefined;
    if (options.tls) {
      const onTlsError = (err: Error, socket: TLSSocket) =>
        logger.warn(
          { remoteAddress: formatRemote(socket), err: err.message },
          'terminal TLS handshake failed',
        );
      const tls = createTlsListener(options.tls, accept, onTlsError);
      listeners.push(tls);
      tlsAddress = await listen(tls, options.tls, 'broker.tls');
    }
    logger.info(
      { tcp: tcpAddress, tls: tlsAddress, terminals: auth.terminalCount },
      'terminal broker listening',
    );
    return {
      tcpAddress,
      ...(tlsAddress ? { tlsAddress } : {}),
      publishCommand: (terminalId, payload) => {
        if (closed) return Promise.reject(new GatewayError('BROKER_CLOSED', 'the terminal broker is closed'));
        return publishTo(aedes, aclById, terminalId, 'cmd', payload);
      },
      publishTo: (terminalId, subtopic, payload) => {
        if (closed) return Promise.reject(new GatewayError('BROKER_CLOSED', 'the terminal broker is closed'));
        return publishTo(aedes, aclById, terminalId, subtopic, payload);
      },
      connectedTerminals: () =>
        [...new Set([...liveClients].map((c) => terminalOf.get(c)))].filter((id) => id !== undefined).sort(),
      loginDefence: () => auth.defence(),
      retainedMessages: () => countRetained(aedes),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

function publishTo(
  aedes: Aedes,
  aclById: ReadonlyMap<string, TerminalAcl>,
  terminalId: string,
  subtopic: string,
  payload: Buffer | string,
): Promise<void> {
  const acl = aclById.get(terminalId);
  if (!acl) {
    const message = `no MQTT terminal ${terminalId} is configured`;
    return Promise.reject(
      new GatewayError('BROKER_UNKNOWN_TERMINAL', message, 'add it to the drivers[] entry of its family'),
    );
  }
  if (!isCommandSubtopic(acl, subtopic)) {
    return Promise.reject(
      new GatewayError(
        'BROKER_TOPIC_REFUSED',
        `the box publishes to ${terminalId} only where it subscribes; ${subtopic} is not one of them`,
      ),
    );
  }
  const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const packet = {
    cmd: 'publish',
    topic: `${terminalPrefix(terminalId)}${subtopic}`,
    payload: bytes,
    qos: 1,
    retain: false,
    dup: false,
  } as const;
  return new Promise((resolve, reject) => {
    aedes.publish(packet, (err) => {
      if (err)
        reject(
          new GatewayError('BROKER_PUBLISH', `message to ${terminalId} failed`, undefined, { cause: err }),
        );
      else resolve();
    });
  });
}

/** aedes' typings omit `persistence`, which aedes 1.x sets on every broker (aedes.js, createBroker). */
interface RetainedStore {
  persistence: { createRetainedStream(pattern: string): AsyncIterable<unknown> };
}

async function countRetained(aedes: Aedes): Promise<number> {
  let n = 0;
  for await (const _ of (aedes as unknown as RetainedStore).persistence.createRetainedStream('#')) n++;
  return n;
}

/**
 * A refused socket is reset, not closed: one RST and the descriptor is gone, where a close would send a
 * FIN, wait for the peer's, and leave the box a TIME_WAIT entry per refused socket (the box closes
 * first), which a storm of thousands a second fills the kernel's table with. MQTT has nothing to say
 * before CONNECT. TLS sockets cannot be reset from JavaScript (resetAndDestroy needs the raw TCP handle).
 */
function refuse(socket: Socket): void {
  if ('encrypted' in socket) socket.destroy();
  else socket.resetAndDestroy();
}
