import { once } from 'node:events';
import { createConnection, createServer, type Server } from 'node:net';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { isGatewayError } from '../gateway-error.ts';
import {
  captureLog,
  closeOf,
  connectClient,
  loginAs,
  nextMessage,
  READER_1,
  READER_2,
  startTestBroker,
  terminals,
  waitFor,
} from './broker-test-support.ts';
import { startTerminalBroker, type TerminalBroker } from './terminal-broker.ts';

const clients: MqttClient[] = [];
let broker: TerminalBroker | undefined;
let blocker: Server | undefined;

afterEach(async () => {
  for (const client of clients.splice(0)) client.end(true);
  await broker?.close();
  broker = undefined;
  if (blocker) await new Promise((resolve) => blocker?.close(resolve));
  blocker = undefined;
});

async function start() {
  const started = await startTestBroker();
  broker = started.broker;
  return started;
}

async function connect(url: string, options: Parameters<typeof connectClient>[1]) {
  const client = await connectClient(url, options);
  clients.push(client);
  return client;
}

function refusalCode(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

describe('terminal logins', () => {
  it('accepts a terminal with its own username and password', async () => {
    const { url, log } = await start();
    await connect(url, loginAs(READER_1, { clientId: 'reader-1:session' }));
    await waitFor(() => broker?.connectedTerminals().length === 1);
    expect(broker?.connectedTerminals()).toEqual(['reader-1']);
    const connected = log.records().find((r) => r.msg === 'terminal connected');
    expect(connected).toMatchObject({ terminalId: 'reader-1', clientId: 'reader-1:session' });
  });

  it('refuses a wrong password with CONNACK 4 and logs who tried, never the password', async () => {
    const { url, log } = await start();
    const wrong = 'not-the-right-one-7731';
    const err = await connectClient(url, { ...loginAs(READER_1), password: wrong }).catch((e: unknown) => e);
    expect([4, 5]).toContain(refusalCode(err));
    const warning = log.records().find((r) => r.level === 40);
    expect(warning).toMatchObject({
      username: READER_1.username,
      reason: 'terminal refused: wrong password',
    });
    expect(warning?.remoteAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(log.lines.join('')).not.toContain(wrong);
    expect(broker?.connectedTerminals()).toEqual([]);
  });

  it('refuses an unknown username and a login without credentials', async () => {
    const { url, log } = await start();
    const unknown = await connectClient(url, { username: 'nobody', password: READER_1.password }).catch(
      (e: unknown) => e,
    );
    expect(refusalCode(unknown)).toBe(4);
    const anonymous = await connectClient(url, { protocolVersion: 4 }).catch((e: unknown) => e);
    expect(refusalCode(anonymous)).toBe(4);
    expect(log.records().filter((r) => r.reason === 'terminal refused: unknown username')).toHaveLength(2);
    expect(log.lines.join('')).not.toContain(READER_1.password);
  });

  it("binds client ids to the terminal identity: no terminal can take over another's session", async () => {
    const { url } = await start();
    const first = await connect(url, loginAs(READER_1, { clientId: 'reader-1' }));
    // Squatting: reader-2 logs in properly but under reader-1's id, which would close reader-1's session.
    for (const clientId of ['reader-1', 'reader-1:x', 'shared-id']) {
      const err = await connectClient(url, loginAs(READER_2, { clientId })).catch((e: unknown) => e);
      expect(refusalCode(err)).toBe(2);
    }
    expect(first.connected).toBe(true);
    // The same terminal may come back under its id (e.g. after a reboot): that takes the session over.
    first.end(true);
    await connect(url, loginAs(READER_1, { clientId: 'reader-1' }));
  });

  it('refuses a will message aimed outside the terminal prefix with CONNACK 5', async () => {
    const { url } = await start();
    const will = {
      topic: 'sceneway/t/reader-2/cmd',
      payload: Buffer.from('open'),
      qos: 0 as const,
      retain: false,
    };
    const err = await connectClient(url, loginAs(READER_1, { will })).catch((e: unknown) => e);
    expect(refusalCode(err)).toBe(5);
    const ownWill = { ...will, topic: 'sceneway/t/reader-1/status' };
    await connect(url, loginAs(READER_1, { will: ownWill }));
  });
});

describe('terminal topic ACL', () => {
  it('disconnects a terminal that publishes outside its prefix; nothing reaches the foreign topic', async () => {
    const { url, messages } = await start();
    const victim = await connect(url, loginAs(READER_2));
    expect((await victim.subscribeAsync('sceneway/t/reader-2/cmd', { qos: 1 }))[0]?.qos).toBe(1);

    for (const topic of [
      'sceneway/t/reader-2/cmd',
      'sceneway/t/reader-2/status',
      'sceneway/t/reader-1/cmd',
    ]) {
      const intruder = await connect(url, loginAs(READER_1));
      const outcome = Promise.race([
        closeOf(intruder).then(() => 'disconnected'),
        nextMessage(victim).then((m) => `delivered to ${m.topic}`),
      ]);
      intruder.publish(topic, 'forged');
      expect(await outcome).toBe('disconnected');
    }
    // An allowed publish after the refused ones arrives; the refused ones never did.
    const honest = await connect(url, loginAs(READER_1));
    await honest.publishAsync('sceneway/t/reader-1/status', 'online', { qos: 1 });
    await waitFor(() => messages.length > 0);
    expect(messages).toEqual([{ terminalId: 'reader-1', subtopic: 'status', payload: 'online' }]);

    const received = nextMessage(victim);
    await broker?.publishCommand('reader-2', 'genuine');
    expect(await received).toEqual({ topic: 'sceneway/t/reader-2/cmd', payload: 'genuine' });
  });

  it('answers SUBACK 0x80 to foreign topics and wildcards, and grants only the own command topic', async () => {
    const { url, log } = await start();
    const client = await connect(url, loginAs(READER_1));
    // mqtt.js turns any 0x80 into an error, so the SUBACK is read as it arrived on the wire.
    const suback = new Promise<number[]>((resolve) =>
      client.on('packetreceive', (packet) => packet.cmd === 'suback' && resolve(packet.granted as number[])),
    );
    const requested = {
      'sceneway/t/reader-2/cmd': { qos: 1 as const },
      '#': { qos: 0 as const },
      'sceneway/t/reader-1/#': { qos: 0 as const },
      'sceneway/t/+/cmd': { qos: 0 as const },
      '$SYS/#': { qos: 0 as const },
      'sceneway/t/reader-1/cmd': { qos: 1 as const },
    };
    client.subscribe(requested, () => {});
    expect(await suback).toEqual([0x80, 0x80, 0x80, 0x80, 0x80, 1]);
    expect(client.connected).toBe(true);
    expect(
      log
        .records()
        .filter(
          (r) => r.msg === 'terminal subscribe refused: only its own declared command topics are allowed',
        ),
    ).toHaveLength(5);
  });
});

describe('agent side', () => {
  it('delivers publishCommand to the terminal and terminal publishes to onTerminalMessage', async () => {
    const { url, messages } = await start();
    const client = await connect(url, loginAs(READER_1));
    await client.subscribeAsync('sceneway/t/reader-1/cmd', { qos: 1 });
    const received = nextMessage(client);
    await broker?.publishCommand('reader-1', Buffer.from('{"open":true}'));
    expect(await received).toEqual({ topic: 'sceneway/t/reader-1/cmd', payload: '{"open":true}' });

    await client.publishAsync('sceneway/t/reader-1/events/face', 'match 0.97', { qos: 1 });
    await client.publishAsync('sceneway/t/reader-1/status', 'online', { qos: 0 });
    await waitFor(() => messages.length === 2);
    expect(messages).toEqual([
      { terminalId: 'reader-1', subtopic: 'events/face', payload: 'match 0.97' },
      { terminalId: 'reader-1', subtopic: 'status', payload: 'online' },
    ]);
  });

  it('keeps serving when the message handler throws', async () => {
    const log = captureLog();
    broker = await startTerminalBroker({
      terminals: terminals(),
      tcp: { host: '127.0.0.1', port: 0 },
      logger: log.logger,
      onTerminalMessage: () => {
        throw new Error('consumer bug');
      },
    });
    const client = await connect(`mqtt://127.0.0.1:${broker.tcpAddress.port}`, loginAs(READER_1));
    await client.publishAsync('sceneway/t/reader-1/status', 'one', { qos: 1 });
    await client.publishAsync('sceneway/t/reader-1/status', 'two', { qos: 1 });
    expect(client.connected).toBe(true);
    expect(log.records().filter((r) => r.msg === 'terminal message handler failed')).toHaveLength(2);
  });

  it('rejects commands to unconfigured terminals and after close', async () => {
    await start();
    const unknown = await broker?.publishCommand('reader-9', 'x').catch((e: unknown) => e);
    expect(isGatewayError(unknown, 'BROKER_UNKNOWN_TERMINAL')).toBe(true);
    await broker?.close();
    await broker?.close();
    const late = await broker?.publishCommand('reader-1', 'x').catch((e: unknown) => e);
    expect(isGatewayError(late, 'BROKER_CLOSED')).toBe(true);
  });

  it('close() drops connected terminals and sockets that never sent CONNECT', async () => {
    const { url } = await start();
    const client = await connect(url, loginAs(READER_1));
    const closed = closeOf(client);
    const silent = createConnection(broker?.tcpAddress.port ?? 0);
    await once(silent, 'connect');
    const silentClosed = once(silent, 'close');
    await broker?.close();
    await closed;
    await silentClosed;
  });
});

describe('startup errors', () => {
  it('names host:port and broker.tcp.port when the port is taken', async () => {
    blocker = createServer();
    await new Promise<void>((resolve) => blocker?.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const err = await startTerminalBroker({
      terminals: terminals(),
      tcp: { host: '127.0.0.1', port },
      logger: captureLog().logger,
    }).catch((e: unknown) => e);
    expect(isGatewayError(err, 'BROKER_LISTEN')).toBe(true);
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    expect((err as Error).message).toContain('broker.tcp.port');
  });

  it('refuses two terminals with one username', async () => {
    const [first] = terminals();
    const err = await startTerminalBroker({
      terminals: [first!, { ...first!, id: 'reader-copy' }],
      tcp: { host: '127.0.0.1', port: 0 },
      logger: captureLog().logger,
    }).catch((e: unknown) => e);
    expect(isGatewayError(err, 'BROKER_DUPLICATE_TERMINAL')).toBe(true);
    expect((err as Error).message).toContain('mqttTerminals[1].username');
  });
});
