// A box's telemetry part in a process of its own, so a test can SIGKILL it the way a box dies (power
// cut, OOM kill): the broker sees the TCP connection drop and publishes the box's last will.
import { createTelemetryPart, silentLogger, type TelemetryHealth } from '@sceneway/gateway-agent';
import { healthOf } from './fleet-test-kit.ts';

const [url, topicPrefix, boxId, boxJson] = process.argv.slice(2);
if (!url || !topicPrefix || !boxId)
  throw new Error(
    'usage: telemetry-box-child <url> <topicPrefix> <boxId> [{"health": {...}, "siteId": "..."}]',
  );
const box = JSON.parse(boxJson ?? '{}') as {
  health?: Partial<TelemetryHealth>;
  siteId?: string;
  intervalSeconds?: number;
};
const part = createTelemetryPart({
  link: { url, intervalSeconds: box.intervalSeconds ?? 3600, topicPrefix },
  boxId,
  siteId: box.siteId ?? 'site-a',
  agentVersion: '0.1.0-child',
  health: () => healthOf(box.health),
  clock: { now: () => Date.now() },
  logger: silentLogger,
  onEvent: (e) => {
    if (e.type === 'heartbeat-sent') process.stdout.write(`heartbeat ${e.session}\n`);
  },
});
await part.start();
process.once('SIGTERM', () => {
  Promise.resolve(part.stop()).then(() => process.exit(0));
});
