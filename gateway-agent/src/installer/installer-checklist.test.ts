import { describe, expect, it } from 'vitest';
import { buildChecklist, type ChecklistInput } from './installer-checklist.ts';

const healthy: ChecklistInput = {
  uploader: {
    state: 'idle',
    consecutiveFailures: 0,
    lastAckAt: '2026-12-01T12:00:00.000Z',
    lastError: null,
    batchesAcked: 3,
  },
  clockOffsetMs: 120,
  maxDriftMs: 60_000,
  terminals: [{ id: 'till-1', driver: 'canteen-pos', up: true }],
  probes: new Map([['till-1', { outcome: 'answered', roundTripMs: 4.2, firmwareVersion: 'CP-2.1' }]]),
};
const states = (input: ChecklistInput) =>
  Object.fromEntries(buildChecklist(input).map((i) => [i.id, i.state]));

describe('the final checklist', () => {
  it('is all ok on a box that synced, keeps time and whose till answered', () => {
    expect(states(healthy)).toEqual({ bank: 'ok', clock: 'ok', 'terminal:till-1': 'ok' });
  });

  it('is pending before the first ack: nothing measured the bank or the clock yet', () => {
    const fresh = {
      ...healthy,
      uploader: { ...healthy.uploader, lastAckAt: null, batchesAcked: 0 },
      clockOffsetMs: null,
    };
    expect(states(fresh)).toMatchObject({ bank: 'pending', clock: 'pending' });
  });

  it('fails on upload failures, a drifting clock and a silent till, naming the cause', () => {
    const bad: ChecklistInput = {
      ...healthy,
      uploader: {
        ...healthy.uploader,
        consecutiveFailures: 2,
        lastError: { code: 'SYNC_UNREACHABLE', message: 'connect ECONNREFUSED' },
      },
      clockOffsetMs: -90_000,
      probes: new Map([['till-1', { outcome: 'failed', code: 'POS_NO_ANSWER', detail: 'no answer' }]]),
    };
    const items = buildChecklist(bad);
    expect(items.map((i) => i.state)).toEqual(['failed', 'failed', 'failed']);
    expect(items[0]!.detail).toContain('SYNC_UNREACHABLE');
    expect(items[2]!.detail).toContain('POS_NO_ANSWER');
  });

  it('falls back to the board for a family without a live test', () => {
    const camera: ChecklistInput = {
      ...healthy,
      terminals: [{ id: 'cam-1', driver: 'onvif-camera', up: false, detail: 'ONVIF_UNREACHABLE' }],
      probes: new Map([['cam-1', { outcome: 'failed', code: 'INSTALLER_PROBE_UNSUPPORTED', detail: '' }]]),
    };
    expect(buildChecklist(camera)[2]).toMatchObject({ state: 'failed', detail: 'down: ONVIF_UNREACHABLE' });
  });
});
