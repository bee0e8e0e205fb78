import { z } from 'zod';
import { telemetryHeartbeatSchema, telemetryStatusSchema } from './telemetry-payload.ts';

const INTRO = `# Fleet telemetry

<!-- Generated from gateway-agent/src/telemetry/telemetry-payload.ts by \`npm run docs:telemetry\`; do not edit. -->

A box with a \`telemetry:\` section (docs/configuration.md) keeps one MQTT connection (3.1.1, any broker;
\`mqtts://\` off loopback, or \`insecure.plaintextTelemetry\`) to the fleet broker and publishes:

| topic | QoS | retained | when |
|---|---|---|---|
| \`<topicPrefix>/<box id>/status\` | 1 | yes | \`online\` on every connect; \`offline\` with reason \`last-will\` published by the broker when the connection dies (the will of that session), or \`stopped\` on a clean stop |
| \`<topicPrefix>/<box id>/heartbeat\` | 1 | no | on connect and every \`intervalSeconds\` |

Each connection is a new **session** (an increasing number per box): the fleet server ignores a
message of an older session than the one it holds, so a late last will never marks a box that is back
as offline. Heartbeats are **not queued** while the uplink is down: each missed one is folded into
\`offline\`, a fixed-size summary (counts, first and last time, worst ledger depth and oldest-unsynced
age, terminals seen down) carried by the first heartbeat after the reconnect. Reconnects use
exponential backoff with full jitter (1 s doubling to 2 min).

**No personal data**: every field is a count, an age, a state, a stable code, a version or the id of a
site, box or terminal. Driver texts and error messages are never sent (a terminal's firmware version is
the only thing taken from its status, printable ASCII checked by the codec). The schemas are strict (an
unknown field is refused at both ends), and telemetry-payload.test.ts holds the reviewed list of fields;
the log-scan test scans every payload of a scripted day for card UIDs, QR tokens and keys.

The fleet server (\`sceneway-fleet\`, dashboards/src/fleet-server) subscribes with
\`$share/<group>/<topicPrefix>/+/heartbeat\` and \`.../status\`, so replicas split the load.
`;

/** docs/telemetry.md: the prose above and the JSON Schema of each payload, from the zod schemas. */
export function renderTelemetryDoc(): string {
  const block = (title: string, schema: z.ZodType) =>
    `## ${title}\n\n\`\`\`json\n${JSON.stringify(z.toJSONSchema(schema), null, 2)}\n\`\`\`\n`;
  return `${INTRO}\n${block('Status payload', telemetryStatusSchema)}\n${block('Heartbeat payload', telemetryHeartbeatSchema)}`;
}
