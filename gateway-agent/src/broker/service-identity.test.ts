import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { boxConfigSchema } from '../config/schema.ts';
import {
  closeOf,
  connectClient,
  loginAs,
  nextMessage,
  READER_1,
  startTestBroker,
} from './broker-test-support.ts';
import { hashPassword } from './password-hash.ts';
import type { TerminalBroker } from './terminal-broker.ts';

/**
 * ACL rules are data per identity: a terminal gets its driver's grant (its own prefix), and a service
 * identity (broker.services) exactly the filters the operator listed, nothing more.
 */
let broker: TerminalBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

/** mqtt.js turns any 0x80 into an error, so the SUBACK is read as it arrived on the wire. */
function subackOf(client: MqttClient, filters: string[]): Promise<number[]> {
  const suback = new Promise<number[]>((resolve) =>
    client.on('packetreceive', (packet) => packet.cmd === 'suback' && resolve(packet.granted as number[])),
  );
  client.subscribe(Object.fromEntries(filters.map((f) => [f, { qos: 1 as const }])), () => {});
  return suback;
}

const MONITOR = { id: 'monitor', username: 'monitor', password: 'site monitor 42 pw' };

describe('service identities', () => {
  it('get exactly their granted topics; terminals keep their own prefix', async () => {
    const started = await startTestBroker({
      services: [
        {
          username: MONITOR.username,
          passwordHash: hashPassword(MONITOR.password),
          publish: ['sceneway/monitor/heartbeat'],
          subscribe: ['sceneway/t/+/status'],
        },
      ],
    });
    broker = started.broker;
    const monitor = await connectClient(started.url, loginAs(MONITOR));
    expect(await subackOf(monitor, ['sceneway/t/+/status', 'sceneway/t/+/cmd', '#'])).toEqual([
      1, 0x80, 0x80,
    ]);

    // A terminal asking for the same wider filter is refused: its grant is its own prefix.
    const reader = await connectClient(started.url, loginAs(READER_1));
    expect(await subackOf(reader, ['sceneway/t/+/status'])).toEqual([0x80]);

    const seen = nextMessage(monitor);
    await reader.publishAsync('sceneway/t/reader-1/status', 'up', { qos: 1 });
    expect(await seen).toEqual({ topic: 'sceneway/t/reader-1/status', payload: 'up' });
    await monitor.publishAsync('sceneway/monitor/heartbeat', 'ok', { qos: 1 });
    expect(broker.connectedTerminals()).toEqual(['reader-1']);

    // Publishing outside its grant (a terminal's command topic) disconnects the service.
    const closed = closeOf(monitor);
    monitor.publish('sceneway/t/reader-1/cmd', 'open the gate', { qos: 1 });
    await closed;
    reader.end(true);
    monitor.end(true);
    expect(started.messages.map((m) => m.subtopic)).toEqual(['status']);
  });

  it('are validated by the config schema', () => {
    const base = { username: 'monitor', passwordHash: 'scrypt$32768$8$1$a$b' };
    const parse = (service: object) => boxConfigSchema.shape.broker.safeParse({ services: [service] });
    expect(parse({ ...base, subscribe: ['sceneway/t/+/status', 'sceneway/#'] }).success).toBe(true);
    for (const filter of ['sceneway/#/x', 'sceneway/t+/status', 'a\u0000b', '']) {
      expect(parse({ ...base, subscribe: [filter] }).success, filter).toBe(false);
    }
    expect(parse({ ...base, passwordHash: 'plain' }).success).toBe(false);
    expect(parse({ ...base, extra: 1 }).success).toBe(false);
    const defaults = parse(base);
    expect(defaults.success && defaults.data.services[0]).toMatchObject({ publish: [], subscribe: [] });
  });
});
