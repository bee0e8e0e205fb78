import { Socket } from 'node:net';
import type { AedesOptions, AuthErrorCode, AuthenticateError, Client } from 'aedes';
import { GatewayError } from '../gateway-error.ts';
import {
  createCheckBudget,
  createLoginThrottle,
  DEFAULT_THROTTLE,
  type LockoutScope,
  type LoginThrottleOptions,
} from './login-throttle.ts';
import { createPasswordChecker, type PasswordCheckerStats } from './password-checker.ts';
import { decoyPasswordHash } from './password-hash.ts';
import { type MqttService, serviceMayPublish } from './service-acl.ts';
import { publishSubtopic, type TerminalAcl } from './terminal-topics.ts';

/** One terminal the broker admits: its login and topic ACL, as its driver declared them. */
export interface MqttTerminal {
  id: string;
  username: string;
  /** scrypt hash from `sceneway broker hash-password`; the clear password is never in config. */
  passwordHash: string;
  publish?: readonly string[] | undefined;
  subscribe?: readonly string[] | undefined;
}

export const aclOf = (terminal: MqttTerminal) => ({
  terminalId: terminal.id,
  publish: terminal.publish,
  subscribe: terminal.subscribe,
});

type LogFn = (obj: object, msg?: string) => void;
/** The pino methods the broker uses; a pino Logger fits. */
export interface BrokerLogger {
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  debug: LogFn;
}

/** Why a login was refused: a metric label, so never the username or anything the client chose. */
export type LoginRefusal =
  | 'empty_client_id'
  | 'oversized_login'
  | 'no_terminals'
  | 'locked_out'
  | 'busy'
  | 'unknown_username'
  | 'wrong_password'
  | 'client_id_not_own'
  | 'will_topic_outside_prefix';

export interface TerminalAuth {
  preConnect: NonNullable<AedesOptions['preConnect']>;
  authenticate: NonNullable<AedesOptions['authenticate']>;
  /** The terminal a connection logged in as; absent until authenticate accepted it. */
  terminalOf: WeakMap<Client, string>;
  /** The service identity a connection logged in as (broker.services); absent for terminals. */
  serviceOf: WeakMap<Client, MqttService>;
  /** The ACL of each admitted terminal, by terminal id. */
  aclById: ReadonlyMap<string, TerminalAcl>;
  terminalCount: number;
  /** Whether a login ever succeeded from this address (the connection gate's known addresses). */
  isKnownAddress(address: string): boolean;
  /** What the login defences are doing: checks in flight and queued, lockouts by scope. */
  defence(): LoginDefenceStats;
  close(): Promise<void>;
}

export interface LoginDefenceStats extends PasswordCheckerStats {
  lockedOut: Record<LockoutScope, number>;
}

/** What preConnect saw on the wire: aedes replaces an empty client id before authenticate runs. */
interface ConnectFacts {
  emptyClientId: boolean;
  willTopic: string | undefined;
}

const IDENTIFIER_REJECTED = 2 as AuthErrorCode;
const SERVER_UNAVAILABLE = 3 as AuthErrorCode;
const BAD_USERNAME_OR_PASSWORD = 4 as AuthErrorCode;
const NOT_AUTHORIZED = 5 as AuthErrorCode;

/**
 * Bounds on what a client may present before anything is hashed. The username bound is the config's
 * (mqttLoginSchema); a client id is the terminal id (≤ 64) or `<terminalId>:<suffix>`.
 */
export const LOGIN_LIMITS = { usernameChars: 128, passwordBytes: 256, clientIdChars: 128 } as const;

/** Client-chosen strings go to the log cut to this length: a 120 KB username is not a 120 KB line. */
const LOG_FIELD_CHARS = 64;
export function clip(text: string | undefined): string | undefined {
  if (text === undefined || text.length <= LOG_FIELD_CHARS) return text;
  return `${text.slice(0, LOG_FIELD_CHARS)}…(${text.length} chars)`;
}

/**
 * A client id belongs to one terminal: its own id, or `<terminalId>:<anything>` for a terminal that
 * keeps several sessions. `:` cannot occur in a terminal id, so no terminal's ids overlap another's and
 * none can take over (and so lock out) another's session ([MQTT-3.1.4-2] closes the older one).
 */
export function isOwnClientId(terminalId: string, clientId: string): boolean {
  return clientId === terminalId || clientId.startsWith(`${terminalId}:`);
}

export interface TerminalAuthOptions {
  terminals: ReadonlyArray<MqttTerminal>;
  /** Service identities with operator-granted topics (broker.services). */
  services?: ReadonlyArray<MqttService>;
  logger: BrokerLogger;
  onLoginRefused?: (reason: LoginRefusal) => void;
  onLockout?: (scope: LockoutScope) => void;
  /** Password checks at once (one worker thread each); default 1. */
  maxChecksInFlight?: number;
  /** Logins waiting for a check; beyond it CONNACK 3. Default 16. */
  maxChecksQueued?: number;
  throttle?: Partial<Omit<LoginThrottleOptions, 'onLockout'>>;
  /** Checks a second that logins on never-seen paths may start; default 2 a second, burst 4. */
  strangerChecks?: { perSecond: number; burst: number };
}

/**
 * Who may connect: one username and scrypt-hashed password per terminal. The cheapest refusal comes
 * first (DESIGN invariant 8): the id and length rules, then "no terminal is configured" (no scrypt at
 * all), then the failure backoff, then a full queue; only what passes them all costs a scrypt, on a
 * bounded worker (password-checker.ts). Refusals are logged with the (clipped) username and remote
 * address for the operator; the password never is.
 */
export function createTerminalAuth(options: TerminalAuthOptions): TerminalAuth {
  const { logger } = options;
  const byUsername = indexTerminals(options.terminals);
  const serviceByUsername = indexServices(options.services ?? [], byUsername);
  // Unknown usernames are checked against a real hash so both refusals cost one scrypt.
  const decoyHash = options.terminals[0]?.passwordHash ?? decoyPasswordHash();
  const checker = createPasswordChecker({
    maxInFlight: options.maxChecksInFlight ?? 1,
    maxQueued: options.maxChecksQueued ?? 16,
  });
  const throttle = createLoginThrottle({
    ...DEFAULT_THROTTLE,
    now: Date.now,
    ...options.throttle,
    ...(options.onLockout ? { onLockout: options.onLockout } : {}),
  });
  const strangerBudget = createCheckBudget({
    ...(options.strangerChecks ?? { perSecond: 2, burst: 4 }),
    now: options.throttle?.now ?? Date.now,
  });
  const connectFacts = new WeakMap<Client, ConnectFacts>();
  const terminalOf = new WeakMap<Client, string>();
  const serviceOf = new WeakMap<Client, MqttService>();

  const refusal = (
    client: Client,
    returnCode: AuthErrorCode,
    label: LoginRefusal,
    reason: string,
    username?: string,
  ) => {
    options.onLoginRefused?.(label);
    const fields = {
      username: clip(username),
      clientId: clip(client.id),
      remoteAddress: remoteAddressOf(client),
    };
    logger.warn({ ...fields, reason }, reason);
    const err: AuthenticateError = Object.assign(new Error(reason), { returnCode });
    return err;
  };

  return {
    terminalOf,
    serviceOf,
    aclById: new Map(options.terminals.map((t) => [t.id, aclOf(t)])),
    terminalCount: byUsername.size,
    isKnownAddress: (address) => throttle.isKnownAddress(address),
    defence: () => ({ ...checker.stats(), lockedOut: throttle.lockedOut() }),
    close: () => checker.close(),
    preConnect(client, packet, callback) {
      connectFacts.set(client, { emptyClientId: packet.clientId === '', willTopic: packet.will?.topic });
      callback(null, true);
    },
    authenticate(client, username, password, done) {
      const facts = connectFacts.get(client);
      connectFacts.delete(client);
      const emptyClientId = facts?.emptyClientId ?? false;
      const refuse = (code: AuthErrorCode, label: LoginRefusal, reason: string) =>
        done(refusal(client, code, label, `terminal refused: ${reason}`, username), false);
      // [MQTT-3.1.3-8] A zero-length ClientId with CleanSession=0 must be answered with CONNACK 0x02
      // (Identifier rejected) and the connection closed: there is no id to keep the session under.
      // Stock aedes invents an id instead, so the rule is enforced here, the one hook whose refusal
      // carries a return code (a preConnect refusal closes the socket with no CONNACK at all).
      // MQTT 3.1 (protocol level 3) requires a 1-23 character id, so there any empty id is refused.
      if (emptyClientId && (!client.clean || client.version === 3)) {
        refuse(IDENTIFIER_REJECTED, 'empty_client_id', 'zero-length client id without a clean session');
        return;
      }
      if (client.id.length > LOGIN_LIMITS.clientIdChars) {
        refuse(
          IDENTIFIER_REJECTED,
          'oversized_login',
          `client id is longer than ${LOGIN_LIMITS.clientIdChars}`,
        );
        return;
      }
      if (
        (username?.length ?? 0) > LOGIN_LIMITS.usernameChars ||
        (password?.length ?? 0) > LOGIN_LIMITS.passwordBytes
      ) {
        refuse(BAD_USERNAME_OR_PASSWORD, 'oversized_login', 'username or password is too long');
        return;
      }
      // Nothing to log in as: refused at once, and no scrypt ever runs on such a box.
      if (byUsername.size === 0 && serviceByUsername.size === 0) {
        refuse(NOT_AUTHORIZED, 'no_terminals', 'no MQTT terminal is configured on this box');
        return;
      }
      const address = remoteHostOf(client) ?? 'unknown';
      const user = username ?? '';
      const lockedBy = throttle.lockedBy(address, user);
      if (lockedBy !== null) {
        refuse(
          SERVER_UNAVAILABLE,
          'locked_out',
          `too many failed logins (${lockedBy} locked out); try later`,
        );
        return;
      }
      const terminal = username === undefined ? undefined : byUsername.get(username);
      const service = terminal || username === undefined ? undefined : serviceByUsername.get(username);
      const hash = terminal?.passwordHash ?? service?.passwordHash ?? decoyHash;
      const knownPath = throttle.isKnown(address, user);
      if (!knownPath && !strangerBudget.take()) {
        refuse(SERVER_UNAVAILABLE, 'busy', 'too many logins from new addresses right now; try later');
        return;
      }
      const checking = checker.check(password ?? Buffer.alloc(0), hash, knownPath);
      if (checking === 'busy') {
        refuse(SERVER_UNAVAILABLE, 'busy', 'too many logins are waiting for a password check; try later');
        return;
      }
      void checking.then((ok) => {
        // The CONNACK does not say whether the user or the password was wrong (bank standard 004
        // §5.3.2: a failed login gets no precise reason); the log, read only by the operator, does.
        const known = terminal ?? service;
        if (known === undefined || password === undefined || !ok) {
          throttle.failed(address, user);
          const label = known === undefined ? 'unknown_username' : 'wrong_password';
          const reason = known === undefined ? 'unknown username' : 'wrong password';
          refuse(BAD_USERNAME_OR_PASSWORD, label, reason);
          return;
        }
        if (service !== undefined) {
          admitService(service);
          return;
        }
        if (terminal === undefined) return;
        if (!emptyClientId && !isOwnClientId(terminal.id, client.id)) {
          const reason = `client id must be ${terminal.id} or ${terminal.id}:<suffix>`;
          refuse(IDENTIFIER_REJECTED, 'client_id_not_own', reason);
          return;
        }
        const willTopic = facts?.willTopic;
        if (willTopic !== undefined && publishSubtopic(aclOf(terminal), willTopic) === null) {
          refuse(
            NOT_AUTHORIZED,
            'will_topic_outside_prefix',
            `will topic ${clip(willTopic)} is outside its own prefix`,
          );
          return;
        }
        throttle.succeeded(address, user);
        terminalOf.set(client, terminal.id);
        done(null, true);
      });

      // A service's client id is its username (or `<username>:<suffix>`); its will stays in its grants.
      function admitService(svc: MqttService) {
        const name = clip(svc.username);
        if (!emptyClientId && !isOwnClientId(svc.username, client.id)) {
          refuse(IDENTIFIER_REJECTED, 'client_id_not_own', `client id must be ${name} or ${name}:<suffix>`);
          return;
        }
        const willTopic = facts?.willTopic;
        if (willTopic !== undefined && !serviceMayPublish(svc, willTopic)) {
          const reason = `will topic ${clip(willTopic)} is not granted to the service`;
          refuse(NOT_AUTHORIZED, 'will_topic_outside_prefix', reason);
          return;
        }
        throttle.succeeded(address, user);
        serviceOf.set(client, svc);
        done(null, true);
      }
    },
  };
}

function indexServices(
  services: ReadonlyArray<MqttService>,
  terminals: ReadonlyMap<string, MqttTerminal>,
): Map<string, MqttService> {
  const byUsername = new Map<string, MqttService>();
  services.forEach((service, index) => {
    if (byUsername.has(service.username) || terminals.has(service.username)) {
      throw new GatewayError(
        'BROKER_DUPLICATE_TERMINAL',
        `broker.services[${index}].username: ${service.username} is used twice (by another service or a terminal)`,
        'give every MQTT terminal and service its own username',
      );
    }
    byUsername.set(service.username, service);
  });
  return byUsername;
}

function indexTerminals(terminals: ReadonlyArray<MqttTerminal>): Map<string, MqttTerminal> {
  const byUsername = new Map<string, MqttTerminal>();
  const ids = new Set<string>();
  terminals.forEach((terminal, index) => {
    const clash = byUsername.has(terminal.username) ? 'username' : ids.has(terminal.id) ? 'id' : null;
    if (clash !== null) {
      throw new GatewayError(
        'BROKER_DUPLICATE_TERMINAL',
        `mqttTerminals[${index}].${clash}: ${clash === 'id' ? terminal.id : terminal.username} is used twice`,
        'give every MQTT terminal its own id and username',
      );
    }
    byUsername.set(terminal.username, terminal);
    ids.add(terminal.id);
  });
  return byUsername;
}

/** The peer's IP without its port: the key of the per-address backoff and connection cap. */
export function remoteHostOf(client: Client): string | undefined {
  return client.conn instanceof Socket ? client.conn.remoteAddress : undefined;
}

export function remoteAddressOf(client: Client): string | undefined {
  return client.conn instanceof Socket ? formatRemote(client.conn) : undefined;
}

export function formatRemote(socket: Socket): string | undefined {
  if (socket.remoteAddress === undefined) return undefined;
  const host = socket.remoteAddress.includes(':') ? `[${socket.remoteAddress}]` : socket.remoteAddress;
  return `${host}:${socket.remotePort}`;
}
