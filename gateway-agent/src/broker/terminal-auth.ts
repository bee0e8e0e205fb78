import { Socket } from 'node:net';
import type { AedesOptions, AuthErrorCode, AuthenticateError, Client } from 'aedes';
import { GatewayError } from '../gateway-error.ts';
import { decoyPasswordHash, verifyPasswordAsync } from './password-hash.ts';
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
  | 'unknown_username'
  | 'wrong_password'
  | 'client_id_in_use'
  | 'will_topic_outside_prefix';

export interface TerminalAuth {
  preConnect: NonNullable<AedesOptions['preConnect']>;
  authenticate: NonNullable<AedesOptions['authenticate']>;
  /** The terminal a connection logged in as; absent until authenticate accepted it. */
  terminalOf: WeakMap<Client, string>;
  /** The ACL of each admitted terminal, by terminal id. */
  aclById: ReadonlyMap<string, TerminalAcl>;
  terminalCount: number;
}

/** What preConnect saw on the wire: aedes replaces an empty client id before authenticate runs. */
interface ConnectFacts {
  emptyClientId: boolean;
  willTopic: string | undefined;
}

const IDENTIFIER_REJECTED = 2 as AuthErrorCode;
const BAD_USERNAME_OR_PASSWORD = 4 as AuthErrorCode;
const NOT_AUTHORIZED = 5 as AuthErrorCode;

/**
 * Who may connect: one username and scrypt-hashed password per terminal, checked off the event loop.
 * Refusals are logged with username and remote address for the operator; the password never is.
 */
export function createTerminalAuth(options: {
  terminals: ReadonlyArray<MqttTerminal>;
  logger: BrokerLogger;
  onLoginRefused?: (reason: LoginRefusal) => void;
}): TerminalAuth {
  const { logger } = options;
  const byUsername = indexTerminals(options.terminals);
  // Unknown usernames are checked against a real hash so both refusals cost one scrypt.
  const decoyHash = options.terminals[0]?.passwordHash ?? decoyPasswordHash();
  const connectFacts = new WeakMap<Client, ConnectFacts>();
  const terminalOf = new WeakMap<Client, string>();
  // A client id is bound to the first terminal that uses it, so one terminal cannot take over another's
  // session: aedes closes the older connection with the same id ([MQTT-3.1.4-2]).
  const clientIdOwner = new Map<string, string>();

  const refusal = (
    client: Client,
    returnCode: AuthErrorCode,
    label: LoginRefusal,
    reason: string,
    username?: string,
  ) => {
    options.onLoginRefused?.(label);
    logger.warn({ username, clientId: client.id, remoteAddress: remoteAddressOf(client), reason }, reason);
    const err: AuthenticateError = Object.assign(new Error(reason), { returnCode });
    return err;
  };

  return {
    terminalOf,
    aclById: new Map(options.terminals.map((t) => [t.id, aclOf(t)])),
    terminalCount: byUsername.size,
    preConnect(client, packet, callback) {
      connectFacts.set(client, { emptyClientId: packet.clientId === '', willTopic: packet.will?.topic });
      callback(null, true);
    },
    authenticate(client, username, password, done) {
      const facts = connectFacts.get(client);
      connectFacts.delete(client);
      const emptyClientId = facts?.emptyClientId ?? false;
      // [MQTT-3.1.3-8] A zero-length ClientId with CleanSession=0 must be answered with CONNACK 0x02
      // (Identifier rejected) and the connection closed: there is no id to keep the session under.
      // Stock aedes invents an id instead, so the rule is enforced here, the one hook whose refusal
      // carries a return code (a preConnect refusal closes the socket with no CONNACK at all).
      // MQTT 3.1 (protocol level 3) requires a 1-23 character id, so there any empty id is refused.
      if (emptyClientId && (!client.clean || client.version === 3)) {
        const reason = 'terminal refused: zero-length client id without a clean session';
        done(refusal(client, IDENTIFIER_REJECTED, 'empty_client_id', reason, username), false);
        return;
      }
      const terminal = username === undefined ? undefined : byUsername.get(username);
      void verifyPasswordAsync(password ?? Buffer.alloc(0), terminal?.passwordHash ?? decoyHash).then(
        (ok) => {
          // The CONNACK does not say whether the user or the password was wrong (bank standard 004
          // §5.3.2: a failed login gets no precise reason); the log, read only by the operator, does.
          if (terminal === undefined || password === undefined || !ok) {
            const label = terminal === undefined ? 'unknown_username' : 'wrong_password';
            const reason = `terminal refused: ${terminal === undefined ? 'unknown username' : 'wrong password'}`;
            done(refusal(client, BAD_USERNAME_OR_PASSWORD, label, reason, username), false);
            return;
          }
          const owner = emptyClientId ? undefined : clientIdOwner.get(client.id);
          if (owner !== undefined && owner !== terminal.id) {
            const reason = `terminal refused: client id is in use by terminal ${owner}`;
            done(refusal(client, IDENTIFIER_REJECTED, 'client_id_in_use', reason, username), false);
            return;
          }
          const willTopic = facts?.willTopic;
          if (willTopic !== undefined && publishSubtopic(aclOf(terminal), willTopic) === null) {
            const reason = `terminal refused: will topic ${willTopic} is outside its own prefix`;
            done(refusal(client, NOT_AUTHORIZED, 'will_topic_outside_prefix', reason, username), false);
            return;
          }
          if (!emptyClientId) clientIdOwner.set(client.id, terminal.id);
          terminalOf.set(client, terminal.id);
          done(null, true);
        },
      );
    },
  };
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

export function remoteAddressOf(client: Client): string | undefined {
  return client.conn instanceof Socket ? formatRemote(client.conn) : undefined;
}

export function formatRemote(socket: Socket): string | undefined {
  if (socket.remoteAddress === undefined) return undefined;
  const host = socket.remoteAddress.includes(':') ? `[${socket.remoteAddress}]` : socket.remoteAddress;
  return `${host}:${socket.remotePort}`;
}
