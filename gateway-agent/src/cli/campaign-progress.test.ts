import { describe, expect, it } from 'vitest';
import type { CampaignDetail } from '../firmware/campaign-types.ts';
import { campaignBar, campaignLine, terminalLines } from './campaign-progress.ts';

const campaign: CampaignDetail = {
  id: 'fw-20261201-abcd1234',
  packageId: 'canteen-pos-2.0.0-0123456789ab',
  family: 'canteen-pos',
  targetVersion: '2.0.0',
  request: {
    packageId: 'canteen-pos-2.0.0-0123456789ab',
    target: { family: 'canteen-pos' },
    canary: 1,
    waves: [100],
  },
  stages: [['till-1'], ['till-2', 'till-3', 'till-4']],
  currentStage: 1,
  status: 'running',
  reason: null,
  createdAt: '2026-12-01T12:00:00.000Z',
  updatedAt: '2026-12-01T12:01:00.000Z',
  progress: {
    terminals: 4,
    byState: { healthy: 1, transferring: 1, pending: 2 },
    bytesDone: 3 * 1048576,
    bytesTotal: 8 * 1048576,
  },
  terminals: [
    {
      terminalId: 'till-1',
      stage: 0,
      state: 'healthy',
      previousVersion: '1.0.0',
      previousPackageId: null,
      reportedVersion: '2.0.0',
      code: null,
      detail: null,
      bytesDone: 4194304,
      bytesTotal: 4194304,
      attempts: 1,
      installedAt: 1,
      updatedAt: '',
    },
    {
      terminalId: 'till-2',
      stage: 1,
      state: 'transferring',
      previousVersion: '1.0.0',
      previousPackageId: null,
      reportedVersion: null,
      code: null,
      detail: null,
      bytesDone: 1048576,
      bytesTotal: 4194304,
      attempts: 1,
      installedAt: null,
      updatedAt: '',
    },
  ],
};

describe('campaign progress rendering', () => {
  it('draws a bar of settled terminals with the plain line after it', () => {
    expect(campaignBar(campaign)).toBe(
      '[######------------------]  25% fw-20261201-abcd1234 canteen-pos → 2.0.0 RUNNING stage 2/2: 1 healthy, 1 transferring, 2 pending 3.0/8.0 MiB',
    );
  });

  it('says why a campaign paused, and each terminal with its transfer share', () => {
    expect(campaignLine({ ...campaign, status: 'paused', reason: 'till-1 is rolled-back' })).toMatch(
      /PAUSED .* — till-1 is rolled-back$/,
    );
    expect(terminalLines(campaign)).toEqual([
      '  stage 1 till-1           healthy (runs 2.0.0)',
      '  stage 2 till-2           transferring 25% (runs 1.0.0)',
    ]);
  });
});
