import { describe, expect, it } from 'vitest';
import { agentHealthReader } from './agent-health.ts';
import { telemetryHealthSchema } from './telemetry-payload.ts';

const sources = {
  uptimeSeconds: () => 12.34,
  ledger: () => ({ depth: 3, oldestUnsyncedAgeSeconds: -0.2, headSeq: 7, lastSyncedSeq: 4 }),
  uploader: () => ({
    state: 'stopped' as const,
    consecutiveFailures: 2,
    lastAckAt: null,
    lastError: { code: 'SYNC_BATCH_REJECTED', message: 'bank said: card 04A1B2C3 is unknown' },
    batchesAcked: 1,
  }),
  terminals: () => [
    { id: 'till-1', driver: 'canteen-pos', up: true, detail: 'firmware POS-2.4.1' },
    { id: 'till-2', driver: 'canteen-pos', up: false, detail: 'no answer to 3 polls' },
  ],
  diskFreeMb: () => {
    throw new Error('statfs: ENOENT');
  },
  clockDriftMs: () => 1500,
};

describe('agent health figures', () => {
  it('take codes, not messages; firmware from the status detail, nothing else of it', () => {
    const health = agentHealthReader(sources)();
    expect(telemetryHealthSchema.parse(health)).toEqual(health);
    expect(health.sync).toEqual({
      state: 'stopped',
      consecutiveFailures: 2,
      lastErrorCode: 'SYNC_BATCH_REJECTED',
      stoppedByRejectedBatch: true,
    });
    expect(health.terminals).toEqual([
      { id: 'till-1', driver: 'canteen-pos', up: true, firmware: 'POS-2.4.1' },
      { id: 'till-2', driver: 'canteen-pos', up: false, firmware: null },
    ]);
    expect(JSON.stringify(health)).not.toContain('04A1B2C3');
    // A box clock stepped back a little must not make the heartbeat invalid (and so unsent).
    expect(health.ledger.oldestUnsyncedAgeSeconds).toBe(0);
    expect(health.diskFreeMb).toBeNull();
    expect(health.clockDriftMs).toBe(1500);
    expect(health.memory.rssMb).toBeGreaterThan(0);
    expect(health.firmwareCampaigns).toBeUndefined();
  });

  it("carry a box's firmware campaigns as counts per state, never the pause reason's words", () => {
    const health = agentHealthReader({
      ...sources,
      firmwareCampaigns: () => [
        {
          id: 'fw-20261201-1a2b3c4d',
          family: 'canteen-pos',
          targetVersion: '2.0.0',
          status: 'paused',
          reason: 'health gate: till-1 reported 1.0.0 after the install (card 04A1B2C3)',
          terminals: 3,
          byState: { 'rolled-back': 1, pending: 2 },
        },
      ],
    })();
    expect(telemetryHealthSchema.parse(health)).toEqual(health);
    expect(health.firmwareCampaigns).toEqual([
      {
        id: 'fw-20261201-1a2b3c4d',
        family: 'canteen-pos',
        targetVersion: '2.0.0',
        status: 'paused',
        terminals: 3,
        byState: {
          pending: 2,
          transferring: 0,
          installed: 0,
          healthy: 0,
          failed: 0,
          'rolled-back': 1,
          refused: 0,
        },
      },
    ]);
    expect(JSON.stringify(health)).not.toContain('04A1B2C3');
  });
});
