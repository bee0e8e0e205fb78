import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { connectPacket, rawSocket, startTestBroker, waitFor } from './broker-test-support.ts';
import type { TerminalBroker } from './terminal-broker.ts';

/**
 * D32: what a refusal at accept costs the box. A storm is dropped thousands of sockets a second, so a
 * refused socket is reset (one RST, no FIN exchange, no TIME_WAIT entry on the box), the log says so
 * once per reason and window instead of once per socket, and past maxConnections the listener itself
 * refuses, before a JavaScript socket exists.
 */
let broker: TerminalBroker | undefined;
const held: Socket[] = [];
afterEach(async () => {
  for (const s of held.splice(0)) s.destroy();
  await broker?.close();
  broker = undefined;
});

interface Watched {
  socket: Socket;
  /** How the broker ended it: 'reset' (RST) or 'closed' (FIN); undefined while it is open. */
  ended?: 'reset' | 'closed';
}

/** A raw socket from `localAddress`, watched from before it connects (a reset can come at once). */
async function openWatched(port: number, localAddress: string): Promise<Watched> {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  const watched: Watched = { socket };
  socket.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ECONNRESET') watched.ended ??= 'reset';
  });
  socket.once('end', () => {
    watched.ended ??= 'closed';
  });
  // A reset may even reach the client before its connect completes: then it is over as well.
  await new Promise<void>((resolve) => {
    socket.once('connect', resolve);
    socket.once('close', () => resolve());
  });
  return watched;
}

describe('refusing at accept', () => {
  it('resets refused sockets and logs one line for a burst of them, counting every drop', async () => {
    const drops: string[] = [];
    const started = await startTestBroker({
      login: { throttle: { now: () => 1_000_000 } },
      newAddressConnectsPerSecond: 1, // burst 2
      onConnectionDropped: (reason) => drops.push(reason),
    });
    broker = started.broker;
    const { port } = broker.tcpAddress;
    const endings = await Promise.all(
      Array.from({ length: 12 }, (_, i) => openWatched(port, `127.0.4.${2 + i}`)),
    );
    held.push(...endings.map((e) => e.socket));
    // Two fit the burst and wait for their CONNECT; the other ten are refused.
    await waitFor(() => endings.filter((e) => e.ended !== undefined).length >= 10, 'ten refusals');
    expect(endings.map((e) => e.ended).filter((e) => e === 'reset')).toHaveLength(10);
    expect(drops.filter((d) => d === 'too_many_new_addresses')).toHaveLength(10);
    const lines = started.log.records().filter((r) => r.msg === 'terminal connection dropped');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ reason: 'too_many_new_addresses', droppedUnlogged: 0 });
  });

  it('holds refused sockets before the reset, at most maxHeld of them; the rest are reset at once', async () => {
    const started = await startTestBroker({
      login: { throttle: { now: () => 1_000_000 } },
      newAddressConnectsPerSecond: 1, // burst 2
      // Held for longer than the test runs: which sockets are held is then not a matter of timing.
      refusalHold: { maxHeld: 3, holdMs: 600_000 },
    });
    broker = started.broker;
    const { port } = broker.tcpAddress;
    const endings: Watched[] = [];
    // One at a time, so which ones fit the burst and the hold is fixed: 2 admitted, 3 held, 7 reset.
    for (let i = 0; i < 12; i++) {
      const watched = await openWatched(port, `127.0.6.${2 + i}`);
      endings.push(watched);
      held.push(watched.socket);
      if (i >= 5) await waitFor(() => watched.ended !== undefined, `socket ${i} to be reset`);
    }
    expect(endings.map((e) => e.ended)).toEqual([...Array(5).fill(undefined), ...Array(7).fill('reset')]);
    // A peer resetting a held socket is no error of the broker's (unheard, it would crash the agent):
    // the broker still answers a CONNECT on an admitted socket after it.
    endings[4]?.socket.resetAndDestroy();
    const admitted = endings[0]!.socket;
    const answer = new Promise<Buffer>((resolve) => admitted.once('data', resolve));
    admitted.write(connectPacket({ clientId: 'late-1', username: 'nobody-late', password: 'wrong' }));
    expect((await answer)[0]).toBe(0x20); // CONNACK
    // Stopping the broker resets the held ones too (the admitted ones are closed).
    await broker.close();
    broker = undefined;
    const brokerEnded = endings.filter((_, i) => i !== 4);
    await waitFor(() => brokerEnded.every((e) => e.ended !== undefined), 'every socket to end');
    expect(endings.slice(2, 4).map((e) => e.ended)).toEqual(['reset', 'reset']);
  });

  it('past maxConnections, drops the socket and counts it once', async () => {
    const drops: string[] = [];
    const started = await startTestBroker({
      maxConnections: 2,
      newAddressConnectsPerSecond: 10_000,
      onConnectionDropped: (reason) => drops.push(reason),
    });
    broker = started.broker;
    const { port } = broker.tcpAddress;
    held.push(await rawSocket(port, '127.0.5.2'), await rawSocket(port, '127.0.5.3'));
    const third = await rawSocket(port, '127.0.5.4');
    held.push(third);
    await new Promise<void>((resolve) => (third.closed ? resolve() : third.once('close', () => resolve())));
    expect(drops).toEqual(['too_many_connections']);
  });
});
