import type { FirmwareFamily } from '@sceneway/core';

export const TERMINAL_STATES = [
  'pending',
  'transferring',
  'installed',
  'healthy',
  'failed',
  'rolled-back',
  'refused',
] as const;
export type TerminalUpdateState = (typeof TERMINAL_STATES)[number];

export const CAMPAIGN_STATUSES = ['running', 'paused', 'completed', 'aborted'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** Which terminals a campaign updates: every condition given must hold; absent = any. */
export interface CampaignTarget {
  family: FirmwareFamily;
  models?: string[];
  /** Running versions to update from (as describe() reports them). */
  versions?: string[];
  terminalIds?: string[];
}

export interface CampaignRequest {
  packageId: string;
  target: CampaignTarget;
  canary: number;
  /** Cumulative percentages of the target, ascending; 100 is implied last (stage-plan.ts). */
  waves: number[];
}

export interface TerminalUpdate {
  terminalId: string;
  stage: number;
  state: TerminalUpdateState;
  previousVersion: string | null;
  previousPackageId: string | null;
  reportedVersion: string | null;
  code: string | null;
  detail: string | null;
  bytesDone: number;
  bytesTotal: number;
  attempts: number;
  installedAt: number | null;
  updatedAt: string;
}

export interface CampaignSummary {
  id: string;
  packageId: string;
  family: FirmwareFamily;
  targetVersion: string;
  request: CampaignRequest;
  stages: string[][];
  currentStage: number;
  status: CampaignStatus;
  reason: string | null;
  createdAt: string;
  updatedAt: string;
  /** Terminals per state, and bytes sent of the bytes to send: what a progress bar draws. */
  progress: {
    terminals: number;
    byState: Partial<Record<TerminalUpdateState, number>>;
    bytesDone: number;
    bytesTotal: number;
  };
}

export interface CampaignDetail extends CampaignSummary {
  terminals: TerminalUpdate[];
}

/** A terminal's state counts as settled for its stage: nothing more will happen to it in this campaign. */
export function isSettled(state: TerminalUpdateState): boolean {
  return state === 'healthy' || state === 'refused';
}
