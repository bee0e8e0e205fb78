import { connect as connectSocket, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  connectClient,
  connectPacket,
  loginAs,
  READER_1,
  startTestBroker,
  waitFor,
} from './broker-test-support.ts';
import type { TerminalBroker } from './terminal-broker.ts';

/**
 * [MQTT-3.1.3-8]: a zero-length ClientId with CleanSession=0 gets CONNACK return code 0x02 and the
 * connection is closed. mqtt.js will not send such a CONNECT, so it is written by hand
 * (broker-test-support.ts connectPacket, MQTT 3.1.1 §3.1) and the CONNACK read straight off the socket.
 *
 * Sends one CONNECT; resolves with every byte the broker sent and whether it closed the socket. */
async function exchange(port: number, packet: Buffer): Promise<{ bytes: number[]; closedByBroker: boolean }> {
  const socket: Socket = connectSocket(port, '127.0.0.1');
  const received: Buffer[] = [];
  socket.on('data', (chunk) => received.push(chunk));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(packet);
  // A refused client is closed by the broker; an accepted one stays open until it has its CONNACK.
  await waitFor(() => Buffer.concat(received).length >= 4 || socket.readableEnded);
  const bytes = [...Buffer.concat(received)];
  if (bytes[3] !== 0x00)
    await new Promise<void>((resolve) => (socket.closed ? resolve() : socket.once('close', resolve)));
  const closedByBroker = socket.readableEnded || socket.destroyed;
  socket.destroy();
  return { bytes, closedByBroker };
}

const credentials = { username: READER_1.username, password: READER_1.password };
let broker: TerminalBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

describe('zero-length client id', () => {
  it('refuses CleanSession=0 with CONNACK 0x02 and closes the connection', async () => {
    const started = await startTestBroker();
    broker = started.broker;
    const packet = connectPacket({ clientId: '', clean: false, ...credentials });
    const { bytes, closedByBroker } = await exchange(broker.tcpAddress.port, packet);
    expect(bytes).toEqual([0x20, 0x02, 0x00, 0x02]); // CONNACK, no session present, identifier rejected
    expect(closedByBroker).toBe(true);
    expect(broker.connectedTerminals()).toEqual([]);
    const warning = started.log.records().find((r) => r.level === 40);
    expect(warning?.reason).toBe('terminal refused: zero-length client id without a clean session');
  });

  it('accepts CleanSession=1 and gives the session an id of its own', async () => {
    const started = await startTestBroker();
    broker = started.broker;
    const raw = await exchange(
      broker.tcpAddress.port,
      connectPacket({ clientId: '', clean: true, ...credentials }),
    );
    expect(raw.bytes).toEqual([0x20, 0x02, 0x00, 0x00]);

    const client = await connectClient(started.url, loginAs(READER_1, { clientId: '', clean: true }));
    try {
      await waitFor(() => broker?.connectedTerminals().length === 1);
      expect(broker.connectedTerminals()).toEqual(['reader-1']);
      await client.subscribeAsync('sceneway/t/reader-1/cmd', { qos: 1 });
    } finally {
      client.end(true);
    }
  });

  it('refuses an empty id under MQTT 3.1, which requires 1-23 characters', async () => {
    broker = (await startTestBroker()).broker;
    const packet = connectPacket({
      clientId: '',
      clean: true,
      ...credentials,
      protocol: { name: 'MQIsdp', level: 3 },
    });
    expect((await exchange(broker.tcpAddress.port, packet)).bytes).toEqual([0x20, 0x02, 0x00, 0x02]);
  });

  it('still checks the password for a non-empty id with CleanSession=0', async () => {
    broker = (await startTestBroker()).broker;
    const wrong = connectPacket({ clientId: 'reader-1', clean: false, ...credentials, password: 'wrong' });
    expect((await exchange(broker.tcpAddress.port, wrong)).bytes).toEqual([0x20, 0x02, 0x00, 0x04]);
    const right = connectPacket({ clientId: 'reader-1', clean: false, ...credentials });
    expect((await exchange(broker.tcpAddress.port, right)).bytes).toEqual([0x20, 0x02, 0x00, 0x00]);
  });
});
