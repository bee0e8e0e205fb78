import { afterEach, describe, expect, it } from 'vitest';
import {
  connectClient,
  connectPacket,
  loginAs,
  READER_1,
  rawLogin,
  rawSocket,
  remainingLength,
  socketClosed,
  startTestBroker,
  waitFor,
} from './broker-test-support.ts';
import type { TerminalBroker } from './terminal-broker.ts';

/**
 * Issue #11: topics with U+0000 or invalid UTF-8 were accepted [MQTT-1.5.3]; no quotas (retained
 * messages, id lengths); 120 KB log lines for long usernames. Each against the real broker.
 */
let broker: TerminalBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

async function start() {
  const started = await startTestBroker();
  broker = started.broker;
  return { ...started, port: started.broker.tcpAddress.port };
}

/** A QoS 0 PUBLISH with the topic given as raw bytes (mqtt.js only sends well-formed strings). */
function publishPacket(topic: Buffer, payload: Buffer): Buffer {
  const length = Buffer.alloc(2);
  length.writeUInt16BE(topic.length);
  const body = Buffer.concat([length, topic, payload]);
  return Buffer.concat([Buffer.from([0x30]), remainingLength(body.length), body]);
}

/** Logs in as reader-1 on a raw socket, sends one PUBLISH and reports whether the broker closed it. */
async function publishRaw(port: number, topic: Buffer): Promise<void> {
  const socket = await rawSocket(port);
  const received: Buffer[] = [];
  socket.on('data', (c) => received.push(c));
  socket.write(
    connectPacket({ clientId: READER_1.id, username: READER_1.username, password: READER_1.password }),
  );
  await waitFor(() => Buffer.concat(received).length >= 4, 'the CONNACK');
  expect(Buffer.concat(received)[3]).toBe(0);
  socket.write(publishPacket(topic, Buffer.from('x')));
  await socketClosed(socket);
}

describe('topic validation', () => {
  it('disconnects a terminal publishing a topic with U+0000, invalid UTF-8 or a wildcard; nothing is delivered', async () => {
    const { port, messages } = await start();
    const prefix = 'sceneway/t/reader-1/';
    await publishRaw(port, Buffer.from(`${prefix}ev\u0000il`, 'utf8')); // [MQTT-1.5.3-2]
    await publishRaw(port, Buffer.concat([Buffer.from(prefix), Buffer.from([0x65, 0xc3, 0x28])])); // [MQTT-1.5.3-1]
    await publishRaw(port, Buffer.from(`${prefix}events/+`)); // [MQTT-3.3.2-2], [MQTT-4.7.3]
    await publishRaw(port, Buffer.from(`${prefix}events/#`));
    // The same socket path with a good topic is delivered: the refusals above were for the topics.
    const client = await connectClient(`mqtt://127.0.0.1:${port}`, loginAs(READER_1));
    await client.publishAsync(`${prefix}events`, 'ok', { qos: 1 });
    await waitFor(() => messages.length === 1, 'the good message');
    client.end(true);
    expect(messages).toEqual([{ terminalId: 'reader-1', subtopic: 'events', payload: 'ok' }]);
  });
});

describe('quotas', () => {
  it('keeps no retained message from a terminal (the message itself is delivered)', async () => {
    const { url, messages } = await start();
    const client = await connectClient(url, loginAs(READER_1));
    for (let i = 0; i < 5; i++) {
      await client.publishAsync(`sceneway/t/reader-1/status/${i}`, 'up', { qos: 1, retain: true });
    }
    await waitFor(() => messages.length === 5, 'the five messages');
    client.end(true);
    expect(await broker!.retainedMessages()).toBe(0);
  });

  it('refuses an over-long client id (CONNACK 2) or username (CONNACK 4) before any scrypt, logging them clipped', async () => {
    const { port, log } = await start();
    const longId = `reader-1:${'i'.repeat(200)}`;
    const longUser = 'u'.repeat(3000);
    const idCode = await rawLogin(
      port,
      connectPacket({ clientId: longId, username: READER_1.username, password: 'p' }),
    );
    const userCode = await rawLogin(
      port,
      connectPacket({ clientId: 'reader-1', username: longUser, password: 'p' }),
    );
    expect([idCode, userCode]).toEqual([2, 4]);
    expect(broker!.loginDefence().started).toBe(0);
    // A 100 KB username does not even fit the pre-login CONNECT cap: dropped, nothing of it logged.
    const hugeCode = await rawLogin(
      port,
      connectPacket({ clientId: 'reader-1', username: 'h'.repeat(60_000), password: 'p' }),
    );
    expect(hugeCode).toBeNull();
    expect(Math.max(...log.lines.map((l) => l.length))).toBeLessThan(600);
    expect(log.lines.join('')).not.toContain('u'.repeat(65));
  });
});
