import { connect as connectSocket, type Socket } from 'node:net';
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
  // A client id is the terminal's own (terminal-auth.ts isOwnClientId); mqtt.js would invent one.
  return {
    clientId: terminal.id,
    username: terminal.username,
    password: terminal.password,
    protocolVersion: 4,
    ...extra,
  };
}

/** Resolves with the next message on this client, in arrival order. */
export function nextMessage(client: MqttClient): Promise<{ topic: string; payload: string }> {
  return new Promise((resolve) => {
    client.once('message', (topic, payload) => resolve({ topic, payload: payload.toString('utf8') }));
  });
}

import { waitFor } from '../test-support/wait-for.ts';

export { waitFor };

export function closeOf(client: MqttClient): Promise<void> {
  return new Promise((resolve) => client.once('close', () => resolve()));
}

/** A CONNECT written by hand (MQTT 3.1.1 §3.1), for what mqtt.js will not send or to send many at once. */
export function connectPacket(options: {
  clientId: string;
  clean?: boolean;
  username: string;
  password: string;
  protocol?: { name: string; level: number };
}): Buffer {
  const { name, level } = options.protocol ?? { name: 'MQTT', level: 4 };
  const utf8 = (text: string) => {
    const bytes = Buffer.from(text, 'utf8');
    const length = Buffer.alloc(2);
    length.writeUInt16BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };
  const flags = 0x80 | 0x40 | ((options.clean ?? true) ? 0x02 : 0x00); // username, password, clean session
  const body = Buffer.concat([
    utf8(name),
    Buffer.from([level, flags, 0x00, 0x3c]), // keep alive 60 s
    utf8(options.clientId),
    utf8(options.username),
    utf8(options.password),
  ]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

/** [MQTT-2.2.3] variable-length encoding, 7 bits a byte, high bit = more. */
export function remainingLength(length: number): Buffer {
  const bytes: number[] = [];
  let n = length;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    bytes.push(byte);
  } while (n > 0);
  return Buffer.from(bytes);
}

/** Opens a raw socket from `localAddress` (any 127.x.y.z is loopback on Linux) and waits until it is up. */
export async function rawSocket(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  const socket = connectSocket({ port, host: '127.0.0.1', localAddress });
  socket.on('error', () => {}); // a broker that drops the socket may reset it
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  return socket;
}

/**
 * Sends one CONNECT; resolves with the CONNACK return code (null when the broker closed the socket
 * without one) once the broker answered.
 */
export async function rawLogin(port: number, packet: Buffer, localAddress?: string): Promise<number | null> {
  const socket = await rawSocket(port, localAddress);
  const received: Buffer[] = [];
  socket.on('data', (chunk) => received.push(chunk));
  let closed = false;
  socket.once('close', () => {
    closed = true;
  });
  socket.write(packet);
  await waitFor(() => closed || Buffer.concat(received).length >= 4, 'a CONNACK or a close');
  const bytes = Buffer.concat(received);
  socket.destroy();
  return bytes.length >= 4 ? bytes[3]! : null;
}

export function socketClosed(socket: Socket): Promise<void> {
  return new Promise((resolve) => (socket.closed ? resolve() : socket.once('close', () => resolve())));
}
