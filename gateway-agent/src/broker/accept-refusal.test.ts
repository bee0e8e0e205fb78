import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { rawSocket, startTestBroker, waitFor } from './broker-test-support.ts';
import type { TerminalBroker } from './terminal-broker.ts';

/**
 * D29: what a refusal at accept costs the box. A storm is dropped thousands of sockets a second, so a
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

/** How the broker ended a socket: 'reset' (RST) or 'closed' (FIN); undefined while it is open. */
function watchEnding(socket: Socket): { ended?: 'reset' | 'closed' } {
  const seen: { ended?: 'reset' | 'closed' } = {};
  socket.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ECONNRESET') seen.ended ??= 'reset';
  });
  socket.once('end', () => {
    seen.ended ??= 'closed';
  });
  return seen;
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
    const sockets = await Promise.all(
      Array.from({ length: 12 }, (_, i) => rawSocket(port, `127.0.4.${2 + i}`)),
    );
    held.push(...sockets);
    const endings = sockets.map(watchEnding);
    // Two fit the burst and wait for their CONNECT; the other ten are refused.
    await waitFor(() => endings.filter((e) => e.ended !== undefined).length >= 10, 'ten refusals');
    expect(endings.map((e) => e.ended).filter((e) => e === 'reset')).toHaveLength(10);
    expect(drops.filter((d) => d === 'too_many_new_addresses')).toHaveLength(10);
    const lines = started.log.records().filter((r) => r.msg === 'terminal connection dropped');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ reason: 'too_many_new_addresses', droppedUnlogged: 0 });
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
