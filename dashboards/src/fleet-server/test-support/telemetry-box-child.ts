// A box's telemetry part in a process of its own, so a test can SIGKILL it the way a box dies (power
// cut, OOM kill): the broker sees the TCP connection drop and publishes the box's last will.
import { createTelemetryPart, silentLogger } from '@sceneway/gateway-agent';
import { healthOf } from './fleet-test-kit.ts';

const [url, topicPrefix, boxId] = process.argv.slice(2);
if (!url || !topicPrefix || !boxId) throw new Error('usage: telemetry-box-child <url> <topicPrefix> <boxId>');
const part = createTelemetryPart({
  link: { url, intervalSeconds: 3600, topicPrefix },
  boxId,
  siteId: 'site-a',
  agentVersion: '0.1.0-child',
  health: () => healthOf(),
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
