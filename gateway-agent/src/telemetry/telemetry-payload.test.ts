import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { telemetryHeartbeatSchema, telemetryStatusSchema } from './telemetry-payload.ts';
import { healthOf } from './test-support.ts';

/** Every field path a payload may carry, read off the schema itself (arrays as []). */
function fieldPaths(schema: z.ZodType, prefix = ''): string[] {
  const inner = schema instanceof z.ZodNullable || schema instanceof z.ZodOptional ? schema.unwrap() : schema;
  if (inner instanceof z.ZodObject)
    return Object.entries(inner.shape as Record<string, z.ZodType>).flatMap(([key, child]) => [
      `${prefix}${key}`,
      ...fieldPaths(child, `${prefix}${key}.`),
    ]);
  if (inner instanceof z.ZodArray) return fieldPaths(inner.element as z.ZodType, `${prefix.slice(0, -1)}[].`);
  return [];
}

/**
 * Issue #14: telemetry never carries personal data. The list below is reviewed by hand: a new field
 * fails this test until someone decides it is not personal (no card, QR, holder, amount or free text).
 */
const HEARTBEAT_FIELDS = [
  'v',
  'boxId',
  'siteId',
  'session',
  'seq',
  'sentAt',
  'agentVersion',
  'health',
  'health.uptimeSeconds',
  'health.ledger',
  'health.ledger.depth',
  'health.ledger.oldestUnsyncedAgeSeconds',
  'health.ledger.headSeq',
  'health.ledger.lastSyncedSeq',
  'health.sync',
  'health.sync.state',
  'health.sync.consecutiveFailures',
  'health.sync.lastErrorCode',
  'health.sync.stoppedByRejectedBatch',
  'health.terminals',
  'health.terminals[].id',
  'health.terminals[].driver',
  'health.terminals[].up',
  'health.terminals[].firmware',
  'health.firmwareCampaigns',
  'health.firmwareCampaigns[].id',
  'health.firmwareCampaigns[].family',
  'health.firmwareCampaigns[].targetVersion',
  'health.firmwareCampaigns[].status',
  'health.firmwareCampaigns[].terminals',
  'health.firmwareCampaigns[].byState',
  'health.firmwareCampaigns[].byState.pending',
  'health.firmwareCampaigns[].byState.transferring',
  'health.firmwareCampaigns[].byState.installed',
  'health.firmwareCampaigns[].byState.healthy',
  'health.firmwareCampaigns[].byState.failed',
  'health.firmwareCampaigns[].byState.rolled-back',
  'health.firmwareCampaigns[].byState.refused',
  'health.diskFreeMb',
  'health.clockDriftMs',
  'health.cpu',
  'health.cpu.load1',
  'health.cpu.cores',
  'health.cpu.processPercent',
  'health.memory',
  'health.memory.rssMb',
  'health.memory.systemFreeMb',
  'health.memory.systemTotalMb',
  'offline',
  'offline.missedHeartbeats',
  'offline.firstMissedAt',
  'offline.lastMissedAt',
  'offline.maxLedgerDepth',
  'offline.maxOldestUnsyncedAgeSeconds',
  'offline.terminalsDownSeen',
];
const STATUS_FIELDS = ['v', 'boxId', 'siteId', 'state', 'reason', 'session', 'at', 'agentVersion'];

const heartbeat = {
  v: 1,
  boxId: 'box-1',
  siteId: 'site-1',
  session: 1,
  seq: 1,
  sentAt: 1,
  agentVersion: '0.1.0',
  health: healthOf(),
  offline: null,
};

describe('telemetry payloads carry no personal data', () => {
  it('have exactly the reviewed fields', () => {
    expect(fieldPaths(telemetryHeartbeatSchema).sort()).toEqual([...HEARTBEAT_FIELDS].sort());
    expect(fieldPaths(telemetryStatusSchema).sort()).toEqual([...STATUS_FIELDS].sort());
  });

  it('refuse anything else, at any depth, so a field cannot slip in by a spread', () => {
    expect(telemetryHeartbeatSchema.safeParse(heartbeat).success).toBe(true);
    expect(telemetryHeartbeatSchema.safeParse({ ...heartbeat, cardUid: '04A1B2C3' }).success).toBe(false);
    const terminal = {
      id: 't1',
      driver: 'canteen-pos',
      up: false,
      firmware: null,
      detail: 'card 04A1B2C3 refused',
    };
    expect(
      telemetryHeartbeatSchema.safeParse({
        ...heartbeat,
        health: { ...heartbeat.health, terminals: [terminal] },
      }).success,
    ).toBe(false);
    // An error message is free text (it may quote a bank answer): only its code fits the field.
    const sync = { ...heartbeat.health.sync, lastErrorCode: 'refused: card 04A1B2C3' };
    expect(
      telemetryHeartbeatSchema.safeParse({ ...heartbeat, health: { ...heartbeat.health, sync } }).success,
    ).toBe(false);
  });
});
