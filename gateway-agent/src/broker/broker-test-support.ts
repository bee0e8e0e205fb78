import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { hashPassword } from './password-hash.ts';
import { startTerminalBroker, type TerminalBroker, type TerminalBrokerOptions } from './terminal-broker.ts';

/**
 * Shared by the broker's tests (not production code): a real pino logger whose lines are kept, two
 * configured terminals, and an mqtt.js connect that reports a refused CONNACK as a rejection.
 */
export const READER_1 = { id: 'reader-1', username: 'reader-1-user', password: 'correct horse 1' };
export const READER_2 = { id: 'reader-2', username: 'reader-2-user', password: 'battery staple 2' };

let cachedTerminals: TerminalBrokerOptions['terminals'] | undefined;
export function terminals(): TerminalBrokerOptions['terminals'] {
  cachedTerminals ??= [READER_1, READER_2].map(({ id, username, password }) => ({
    id,
    username,
    passwordHash: hashPassword(password),
  }));
  return cachedTerminals;
}

export interface LogCapture {
  logger: pino.Logger;
  lines: string[];
  records(): Array<Record<string, unknown>>;
}

/** No redaction here on purpose: the test must see anything the broker code itself hands to the log. */
export function captureLog(): LogCapture {
  const lines: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) });
  return { logger, lines, records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

export interface TerminalMessage {
  terminalId: string;
  subtopic: string;
  payload: string;
}

export async function startTestBroker(
  extra: Partial<TerminalBrokerOptions> = {},
): Promise<{ broker: TerminalBroker; log: LogCapture; messages: TerminalMessage[]; url: string }> {
  const log = captureLog();
  const messages: TerminalMessage[] = [];
  const broker = await startTerminalBroker({
    terminals: terminals(),
    tcp: { host: '127.0.0.1', port: 0 },
    logger: log.logger,
    onTerminalMessage: (terminalId, subtopic, payload) =>
      messages.push({ terminalId, subtopic, payload: payload.toString('utf8') }),
    ...extra,
  });
  return { broker, log, messages, url: `mqtt://127.0.0.1:${broker.tcpAddress.port}` };
}

/** Error with the CONNACK return code in `code` when the broker refuses. */
export function connectClient(url: string, options: IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 30_000, ...options });
    const onError = (err: Error) => {
      cleanup();
      client.end(true);
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(new Error('connection closed before CONNACK'));
    };
    const onConnect = () => {
      cleanup();
      resolve(client);
    };
    const cleanup = () => {
      client.off('error', onError);
      client.off('close', onClose);
      client.off('connect', onConnect);
    };
    client.on('error', onError);
    client.on('close', onClose);
    client.on('connect', onConnect);
  });
}

export function loginAs(terminal: typeof READER_1, extra: IClientOptions = {}): IClientOptions {
  return { username: terminal.username, password: terminal.password, protocolVersion: 4, ...extra };
}

/** Resolves with the next message on this client, in arrival order. */
export function nextMessage(client: MqttClient): Promise<{ topic: string; payload: string }> {
  return new Promise((resolve) => {
    client.once('message', (topic, payload) => resolve({ topic, payload: payload.toString('utf8') }));
  });
}

export { waitFor } from '../test-support/wait-for.ts';

export function closeOf(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.once('close', () => resolve()));
}
