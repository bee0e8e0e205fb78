import { FIRMWARE_FAMILIES } from '@sceneway/core';
import { z } from 'zod';
import { CAMPAIGN_STATUSES, TERMINAL_STATES } from '../firmware/campaign-types.ts';

/**
 * What a box tells the fleet (issue #14), one zod schema per topic: the agent builds its messages through
 * these and the fleet server parses what it receives with the same ones, so the two cannot drift apart.
 * docs/telemetry.md documents them. Every field is a count, an age, a state, a code or an id of a box or
 * terminal: never a card, a QR token, a holder, an amount or a free-text detail that a driver or the bank
 * wrote (those could carry personal data); telemetry-payload.test.ts holds the allow-list of fields.
 */
export const TELEMETRY_VERSION = 1;

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'expected an identifier');
const count = z.number().int().nonnegative();
const seconds = z.number().nonnegative();

export const telemetryStatusSchema = z
  .strictObject({
    v: z.literal(TELEMETRY_VERSION).describe('Payload version.'),
    boxId: id.describe('Box id (the topic names it too).'),
    siteId: id.describe('Site id of the box.'),
    state: z
      .enum(['online', 'offline'])
      .describe('online on connect; offline as the last will or on a clean stop.'),
    reason: z
      .enum(['connected', 'last-will', 'stopped'])
      .describe(
        'Why: connected, last-will (the broker lost the box), stopped (the agent shut down cleanly).',
      ),
    session: count.describe(
      'Connection session, increasing per box: a late message of an older session is stale.',
    ),
    at: count.describe(
      'Box clock (ms since the epoch) when the message was made; for a last will, when the session began.',
    ),
    agentVersion: z.string().max(64).describe('Agent version.'),
  })
  .describe('Retained on <prefix>/<box>/status.');

export type TelemetryStatus = z.infer<typeof telemetryStatusSchema>;

export const terminalHealthSchema = z.strictObject({
  id: id.describe('Terminal id from the box config.'),
  driver: id.describe('Driver id.'),
  up: z.boolean().describe('The terminal answers.'),
  firmware: z
    .string()
    .regex(/^[\x21-\x7e]{1,32}$/, 'expected printable ASCII')
    .nullable()
    .describe('Firmware version the terminal reported (STATUS FIRMWARE_VERSION), null if unknown.'),
});

/** Terminals of a campaign in each state: every state named, 0 when none (a fixed shape for the fleet). */
const campaignStatesSchema = z.strictObject(
  Object.fromEntries(TERMINAL_STATES.map((state) => [state, count])) as Record<
    (typeof TERMINAL_STATES)[number],
    typeof count
  >,
);

export const campaignHealthSchema = z
  .strictObject({
    id: id.describe('Campaign id (fw-<date>-<random>).'),
    family: z.enum(FIRMWARE_FAMILIES).describe('Terminal family the campaign updates.'),
    targetVersion: z
      .string()
      .regex(/^\d{1,9}\.\d{1,9}\.\d{1,9}$/, 'expected M.m.p')
      .describe('The version the campaign installs.'),
    status: z
      .enum(CAMPAIGN_STATUSES)
      .describe('running, paused (a health gate failed, or by hand), completed, aborted.'),
    terminals: count.describe('Terminals the campaign targets.'),
    byState: campaignStatesSchema.describe(
      'How many of them are in each state (pending … rolled-back, refused).',
    ),
  })
  .describe(
    "A firmware campaign on the box (gateway-agent/src/firmware): counts only, never the pause reason's text.",
  );

export type CampaignHealth = z.infer<typeof campaignHealthSchema>;

export const offlineSummarySchema = z
  .strictObject({
    missedHeartbeats: count.describe('Heartbeats not sent while the uplink was down.'),
    firstMissedAt: count.describe('Box clock of the first missed heartbeat.'),
    lastMissedAt: count.describe('Box clock of the last missed heartbeat.'),
    maxLedgerDepth: count.describe('Largest ledger depth seen while offline.'),
    maxOldestUnsyncedAgeSeconds: seconds
      .nullable()
      .describe('Largest oldest-unsynced age seen while offline.'),
    terminalsDownSeen: z.array(id).max(256).describe('Terminals seen down at any missed heartbeat.'),
  })
  .describe('What the box saw while its uplink was down, instead of the heartbeats themselves.');

export type OfflineSummary = z.infer<typeof offlineSummarySchema>;

export const telemetryHealthSchema = z.strictObject({
  uptimeSeconds: seconds,
  ledger: z.strictObject({
    depth: count.describe('Records not yet acknowledged by the bank.'),
    oldestUnsyncedAgeSeconds: seconds
      .nullable()
      .describe('Age of the oldest unacknowledged record; null when none.'),
    headSeq: count,
    lastSyncedSeq: count,
  }),
  sync: z.strictObject({
    state: z.enum(['idle', 'sending', 'backoff', 'stopped']),
    consecutiveFailures: count,
    lastErrorCode: z
      .string()
      .regex(/^[A-Z][A-Z0-9_]{0,63}$/, 'expected an error code')
      .nullable()
      .describe('Stable code of the last failure (never its message).'),
    stoppedByRejectedBatch: z
      .boolean()
      .describe('The bank refused a batch for good: uploads stopped (an alert on the box).'),
  }),
  terminals: z.array(terminalHealthSchema).max(256),
  firmwareCampaigns: z
    .array(campaignHealthSchema)
    .max(16)
    .optional()
    .describe('Unfinished campaigns and the last finished ones; absent from boxes before #15.'),
  diskFreeMb: seconds.nullable().describe('Free space on the ledger filesystem (MiB).'),
  clockDriftMs: z
    .number()
    .nullable()
    .describe("Box clock minus the bank's, as last measured; null before any ack."),
  cpu: z.strictObject({
    load1: seconds.describe('1-minute load average.'),
    cores: count,
    processPercent: seconds.describe(
      'CPU the agent process used since the previous heartbeat (% of one core).',
    ),
  }),
  memory: z.strictObject({
    rssMb: seconds,
    systemFreeMb: seconds,
    systemTotalMb: seconds,
  }),
});

export type TelemetryHealth = z.infer<typeof telemetryHealthSchema>;

export const telemetryHeartbeatSchema = z
  .strictObject({
    v: z.literal(TELEMETRY_VERSION),
    boxId: id,
    siteId: id,
    session: count,
    seq: count.describe('Heartbeat number within the session.'),
    sentAt: count.describe('Box clock (ms since the epoch).'),
    agentVersion: z.string().max(64),
    health: telemetryHealthSchema,
    offline: offlineSummarySchema
      .nullable()
      .describe('Set on the first heartbeat after the uplink came back.'),
  })
  .describe('Sent (QoS 1, not retained) on <prefix>/<box>/heartbeat every intervalSeconds.');

export type TelemetryHeartbeat = z.infer<typeof telemetryHeartbeatSchema>;

export const telemetryTopics = (prefix: string, boxId: string) => ({
  status: `${prefix}/${boxId}/status`,
  heartbeat: `${prefix}/${boxId}/heartbeat`,
});
