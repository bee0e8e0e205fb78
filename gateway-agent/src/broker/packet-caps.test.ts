import { afterEach, describe, expect, it } from 'vitest';
import {
  closeOf,
  connectClient,
  loginAs,
  READER_1,
  rawSocket,
  remainingLength,
  socketClosed,
  startTestBroker,
  waitFor,
} from './broker-test-support.ts';
import type { ConnectionDrop, TerminalBroker } from './terminal-broker.ts';

/**
 * Issue #11: four sockets that never logged in, each declaring a 250 MiB CONNECT, took the agent from
 * 300 MiB to 1.1 GiB; a terminal could publish 100 MiB; nothing capped connections. Each attack is
 * run here against the real broker on an ephemeral loopback port.
 */
let broker: TerminalBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

async function start(extra: Parameters<typeof startTestBroker>[0] = {}) {
  const drops: ConnectionDrop[] = [];
  const started = await startTestBroker({ onConnectionDropped: (reason) => drops.push(reason), ...extra });
  broker = started.broker;
  return { ...started, drops, port: started.broker.tcpAddress.port };
}

/** Writes `header` then junk, 1 MiB at a time, until the broker closes the socket or `limit` is written. */
async function pour(port: number, header: Buffer, limit: number): Promise<{ closed: boolean }> {
  const socket = await rawSocket(port);
  const junk = Buffer.alloc(1024 * 1024, 0x41);
  let written = 0;
  socket.write(header);
  while (!socket.destroyed && written < limit) {
    written += junk.length;
    if (!socket.write(junk)) {
      await new Promise<void>((resolve) => {
        socket.once('drain', resolve);
        socket.once('close', resolve);
      });
    }
  }
  await waitFor(() => socket.destroyed, 'the broker to close the socket', 10_000).catch(() => {});
  const closed = socket.destroyed;
  socket.destroy();
  return { closed };
}

describe('packet size caps', () => {
  it('closes sockets declaring a 250 MiB CONNECT after their header, without growing the heap', async () => {
    const { port, drops } = await start();
    const header = Buffer.concat([Buffer.from([0x10]), remainingLength(250 * 1024 * 1024)]);
    const heapBefore = process.memoryUsage().heapUsed;
    const results = await Promise.all([1, 2, 3, 4].map(() => pour(port, header, 64 * 1024 * 1024)));
    expect(results.every((r) => r.closed)).toBe(true);
    expect(drops.filter((d) => d === 'pre_login_packet_too_large')).toHaveLength(4);
    // Unguarded, mqtt-packet buffered every byte the kernel let through (tens of MiB per socket).
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(24 * 1024 * 1024);
  });

  it('closes a socket whose first packet is not a CONNECT', async () => {
    const { port, drops } = await start();
    const socket = await rawSocket(port);
    socket.write(Buffer.from([0x30, 0x05, 0x00, 0x01, 0x61, 0x62, 0x63])); // a PUBLISH before CONNECT
    await socketClosed(socket);
    expect(drops).toEqual(['first_packet_not_connect']);
  });

  it('disconnects a logged-in terminal that publishes more than maxPacketBytes; smaller ones pass', async () => {
    const { url, drops, messages } = await start();
    const client = await connectClient(url, loginAs(READER_1));
    await client.publishAsync('sceneway/t/reader-1/events', Buffer.alloc(200 * 1024, 0x61), { qos: 1 });
    await waitFor(() => messages.length === 1, 'the 200 KiB message');
    const closed = closeOf(client);
    client.publish('sceneway/t/reader-1/events', Buffer.alloc(1024 * 1024, 0x62), { qos: 0 });
    await closed;
    client.end(true);
    expect(drops).toEqual(['packet_too_large']);
    expect(messages).toHaveLength(1);
  });
});

describe('connection caps', () => {
  it('refuses the (N+1)th socket from one address, not the next address', async () => {
    const { port, drops } = await start({ maxConnectionsPerAddress: 3 });
    const mine = await Promise.all([1, 2, 3].map(() => rawSocket(port, '127.0.0.5')));
    const extra = await rawSocket(port, '127.0.0.5');
    await socketClosed(extra);
    const neighbour = await rawSocket(port, '127.0.0.6');
    // Accepts run in order: had the first three been refused, they would be closed by now.
    await waitFor(() => drops.length === 1, 'the refusal');
    expect(mine.some((s) => s.destroyed || s.readableEnded)).toBe(false);
    expect(drops).toEqual(['too_many_from_address']);
    for (const s of [...mine, neighbour]) s.destroy();
  });

  it('refuses sockets beyond maxConnections, whatever their address', async () => {
    const { port, drops } = await start({ maxConnections: 4 });
    const held = await Promise.all([2, 3, 4, 5].map((n) => rawSocket(port, `127.0.0.${n}`)));
    const extra = await rawSocket(port, '127.0.0.9');
    await socketClosed(extra);
    expect(drops).toEqual(['too_many_connections']);
    for (const s of held) s.destroy();
  });
});
