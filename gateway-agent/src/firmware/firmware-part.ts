import { dirname, join } from 'node:path';
import type { FirmwareFamily } from '@sceneway/core';
import type { DriverFirmware } from '@sceneway/device-drivers';
import type { AgentStatus } from '../admin/admin-server.ts';
import type { FullBoxConfig } from '../config/driver-config.ts';
import type { AlertSink } from '../ledger/ledger.ts';
import type { AgentPart } from '../lifecycle.ts';
import type { Logger } from '../logger.ts';
import type { TerminalBoard } from '../terminal-board.ts';
import { type CampaignEngine, createCampaignEngine } from './campaign-engine.ts';
import { openCampaignStore } from './campaign-store.ts';
import { openPackageRepository } from './package-repository.ts';

/** Where the campaign state lives: `firmware.statePath`, else `firmware.db` beside the ledger. */
export function campaignStatePath(config: Pick<FullBoxConfig, 'firmware' | 'ledger'>): string {
  return config.firmware.statePath ?? join(dirname(config.ledger.path), 'firmware.db');
}

/**
 * The firmware campaigns as an agent part, after the drivers (it delivers through their firmware seams)
 * and before the admin API (which serves its routes). Its stop aborts the transfers under way; their
 * rows stay `transferring`, and the next start drives them again from what each terminal holds.
 */
export function firmwarePart(options: {
  config: Pick<FullBoxConfig, 'firmware' | 'ledger'>;
  /** Terminal id → the firmware seam of its driver (filled by the drivers part when it starts). */
  firmware: ReadonlyMap<string, DriverFirmware>;
  board: TerminalBoard;
  alerts: AlertSink;
  logger: Logger;
  now?: () => number;
}): AgentPart & {
  engine(): CampaignEngine;
  campaignsForStatus(): NonNullable<AgentStatus['firmwareCampaigns']>;
} {
  let engine: CampaignEngine | undefined;
  let close: (() => void) | undefined;
  const { config } = options;
  return {
    name: 'firmware',
    start() {
      const store = openCampaignStore(campaignStatePath(config));
      close = () => store.close();
      engine = createCampaignEngine({
        store,
        repository: openPackageRepository({
          dir: config.firmware.dir,
          vendorPublicKeys: config.firmware.vendorKeys,
        }),
        firmwareOf: (id) => options.firmware.get(id),
        terminalsOf: (family: FirmwareFamily) =>
          [...options.firmware].filter(([, f]) => f.family === family).map(([id]) => id),
        isUp: (id) => options.board.list().some((t) => t.id === id && t.up),
        alerts: options.alerts,
        logger: options.logger.child({ part: 'firmware' }),
        healthDeadlineSeconds: config.firmware.healthDeadlineSeconds,
        healthPollSeconds: config.firmware.healthPollSeconds,
        transferConcurrency: config.firmware.transferConcurrency,
        ...(options.now ? { now: options.now } : {}),
      });
      engine.start();
    },
    async stop() {
      await engine?.stop();
      close?.();
      engine = undefined;
      close = undefined;
    },
    /** Every unfinished campaign and the last three finished ones, for `/api/status` and `sceneway status`. */
    campaignsForStatus() {
      if (!engine) return [];
      const all = engine.list();
      const open = all.filter((c) => c.status === 'running' || c.status === 'paused');
      const done = all.filter((c) => c.status !== 'running' && c.status !== 'paused').slice(-3);
      return [...done, ...open].map((c) => ({
        id: c.id,
        family: c.family,
        targetVersion: c.targetVersion,
        status: c.status,
        reason: c.reason,
        terminals: c.progress.terminals,
        byState: { ...c.progress.byState } as Record<string, number>,
      }));
    },
    engine() {
      if (!engine) throw new Error('the firmware part is not running');
      return engine;
    },
  };
}
