import { randomUUID } from 'node:crypto';
import { compareFirmwareVersions, type FirmwareFamily } from '@sceneway/core';
import type { DriverFirmware, FirmwareProgress } from '@sceneway/device-drivers';
import { GatewayError } from '../gateway-error.ts';
import type { AlertSink } from '../ledger/ledger.ts';
import type { Logger } from '../logger.ts';
import type { CampaignStore } from './campaign-store.ts';
import type { CampaignDetail, CampaignRequest, CampaignSummary, TerminalUpdate } from './campaign-types.ts';
import { isSettled } from './campaign-types.ts';
import type { PackageRepository } from './package-repository.ts';
import { planStages, StagePlanError } from './stage-plan.ts';
import { driveTerminalUpdate, HEALTH_GATE_CODE } from './terminal-update.ts';

export interface CampaignEngineOptions {
  store: CampaignStore;
  repository: PackageRepository;
  /** The firmware seam of the driver that owns the terminal, if that family has one. */
  firmwareOf(terminalId: string): DriverFirmware | undefined;
  /** Every configured terminal id of a family. */
  terminalsOf(family: FirmwareFamily): string[];
  isUp(terminalId: string): boolean;
  alerts: AlertSink;
  logger: Logger;
  healthDeadlineSeconds: number;
  healthPollSeconds: number;
  transferConcurrency: number;
  now?: () => number;
}

/**
 * Runs the firmware campaigns: one loop per running campaign, stage after stage; a stage starts only
 * when every terminal of the one before it settled (healthy, or refused before any byte). A failed
 * gate rolls that terminal back and pauses the campaign with the reason; the operator resumes it.
 */
export function createCampaignEngine(options: CampaignEngineOptions) {
  const { store, logger } = options;
  const now = options.now ?? Date.now;
  const stopping = new AbortController();
  const loops = new Map<string, { abort: AbortController; done: Promise<void> }>();
  const live = new Map<string, FirmwareProgress>();
  /**
   * Campaigns with a failed gate in the stage under way: no new terminal starts, the ones under way
   * finish their step (and the failed one its rollback), then the stage's end writes the pause.
   */
  const halted = new Set<string>();

  const alertCode = (terminalId: string) => `${HEALTH_GATE_CODE}:${terminalId}`;

  function must(id: string): CampaignDetail {
    const c = store.get(id);
    if (!c) throw new GatewayError('FIRMWARE_CAMPAIGN_NOT_FOUND', `no firmware campaign ${id}`);
    return c;
  }

  function pause(id: string, reason: string): void {
    store.setCampaign(id, { status: 'paused', reason });
    logger.warn({ campaign: id }, `firmware campaign paused: ${reason}`);
  }

  async function runStages(id: string, signal: AbortSignal): Promise<void> {
    for (;;) {
      const campaign = store.get(id);
      if (campaign?.status !== 'running') return;
      const stage = campaign.currentStage;
      if (stage >= campaign.stages.length) {
        store.setCampaign(id, { status: 'completed', reason: null });
        logger.info({ campaign: id, version: campaign.targetVersion }, 'firmware campaign completed');
        return;
      }
      let image: Awaited<ReturnType<PackageRepository['open']>>;
      try {
        image = await options.repository.open(campaign.packageId); // verified again before every use
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'FIRMWARE_PACKAGE_REFUSED';
        pause(id, `package ${campaign.packageId} no longer verifies (${code}); nothing was sent`);
        return;
      }
      const rows = campaign.terminals.filter((t) => t.stage === stage && !isSettled(t.state));
      const queue = [...rows];
      const worker = async () => {
        for (let row = queue.shift(); row; row = queue.shift()) {
          const firmware = options.firmwareOf(row.terminalId);
          if (!firmware) {
            store.setTerminal(id, row.terminalId, {
              state: 'failed',
              code: 'FIRMWARE_NO_DRIVER',
              detail: 'no running driver with firmware delivery owns this terminal',
            });
            continue;
          }
          await driveTerminalUpdate(
            {
              campaignId: id,
              store,
              repository: options.repository,
              firmware,
              image,
              isUp: options.isUp,
              mayStart: () => !signal.aborted && !halted.has(id) && store.get(id)?.status === 'running',
              healthDeadlineMs: options.healthDeadlineSeconds * 1000,
              healthPollMs: options.healthPollSeconds * 1000,
              now,
              signal,
              onProgress: (terminalId, p) => live.set(`${id}/${terminalId}`, p),
              onGateFailed: (terminalId, detail) => {
                // As a TerminalAlert becomes an agent alert: one active alert per code and terminal.
                options.alerts.raise({
                  code: alertCode(terminalId),
                  message: `${terminalId}: firmware ${campaign.targetVersion} (campaign ${id}): ${detail}; rolling it back, campaign paused`,
                  hint: `Look at the terminal, then \`sceneway firmware campaign resume ${id}\` (or abort).`,
                });
                halted.add(id);
              },
              logger: logger.child({ campaign: id }),
            },
            row,
          ).finally(() => live.delete(`${id}/${row.terminalId}`));
        }
      };
      const results = await Promise.allSettled(
        Array.from({ length: Math.min(options.transferConcurrency, rows.length) }, worker),
      );
      if (signal.aborted) return;
      const crashed = results.find((r) => r.status === 'rejected');
      if (crashed) throw crashed.reason;
      const after = must(id);
      const open = after.terminals.filter((t) => t.stage === stage && !isSettled(t.state));
      if (open.length > 0) {
        const first = open.find((t) => t.state !== 'pending') ?? open[0]!;
        if (after.status === 'running')
          pause(
            id,
            `${first.terminalId} is ${first.state}${first.code ? ` (${first.code})` : ''}: ${first.detail ?? 'stage did not pass'}`,
          );
        return;
      }
      store.setCampaign(id, { currentStage: stage + 1 });
    }
  }

  function kick(id: string): void {
    if (loops.has(id) || stopping.signal.aborted) return;
    halted.delete(id);
    const abort = new AbortController();
    const signal = AbortSignal.any([abort.signal, stopping.signal]);
    const done = runStages(id, signal)
      .catch((err: unknown) => {
        if (signal.aborted) return;
        logger.error({ campaign: id, err: (err as Error).message }, 'firmware campaign loop failed');
        pause(id, `internal error: ${(err as Error).message}`);
      })
      .finally(() => {
        loops.delete(id);
        // A resume that came while the loop was finishing its stage: go on.
        if (!stopping.signal.aborted && store.get(id)?.status === 'running' && !abort.signal.aborted)
          kick(id);
      });
    loops.set(id, { abort, done });
  }

  function withLive(c: CampaignDetail): CampaignDetail {
    const terminals: TerminalUpdate[] = c.terminals.map((t) => {
      const p = live.get(`${c.id}/${t.terminalId}`);
      return p && t.state === 'transferring' ? { ...t, bytesDone: p.bytesDone, bytesTotal: p.bytesTotal } : t;
    });
    const bytesDone = terminals.reduce((n, t) => n + t.bytesDone, 0);
    return { ...c, terminals, progress: { ...c.progress, bytesDone } };
  }

  return {
    /** Resumes every campaign that was running when the agent stopped. */
    start(): void {
      for (const c of store.list()) if (c.status === 'running') kick(c.id);
    },

    async stop(): Promise<void> {
      stopping.abort(new Error('agent stopping'));
      await Promise.allSettled([...loops.values()].map((l) => l.done));
    },

    async create(request: CampaignRequest): Promise<CampaignDetail> {
      const stored = (await options.repository.list()).find((p) => p.id === request.packageId);
      if (!stored)
        throw new GatewayError(
          'FIRMWARE_PACKAGE_UNKNOWN',
          `no package ${request.packageId} in the repository`,
          'see `sceneway firmware list`',
        );
      const image = await options.repository.open(request.packageId);
      const { manifest } = image;
      if (manifest.family !== request.target.family)
        throw new GatewayError(
          'FIRMWARE_CAMPAIGN_REQUEST',
          `package ${request.packageId} is for ${manifest.family}, not ${request.target.family}`,
        );
      const busy = new Set(
        store
          .list()
          .filter((c) => c.status === 'running' || c.status === 'paused')
          .flatMap((c) => c.stages.flat()),
      );
      const candidates = options
        .terminalsOf(request.target.family)
        .filter((t) => !request.target.terminalIds || request.target.terminalIds.includes(t));
      const chosen: string[] = [];
      for (const terminalId of candidates) {
        const firmware = options.firmwareOf(terminalId);
        if (!firmware) continue;
        if (request.target.models || request.target.versions) {
          const info = await firmware.describe(terminalId);
          if (request.target.models && !request.target.models.includes(info.model)) continue;
          if (
            request.target.versions &&
            (info.version === null || !request.target.versions.includes(info.version))
          )
            continue;
        }
        chosen.push(terminalId);
      }
      if (chosen.length === 0)
        throw new GatewayError(
          'FIRMWARE_NO_TERMINALS',
          'no configured terminal matches the campaign target',
          'check family, models, versions and terminal ids',
        );
      const clash = chosen.filter((t) => busy.has(t));
      if (clash.length > 0)
        throw new GatewayError(
          'FIRMWARE_CAMPAIGN_OVERLAP',
          `terminals already in an unfinished campaign: ${clash.join(', ')}`,
          'finish or abort that campaign first',
        );
      let stages: string[][];
      try {
        stages = planStages({ terminalIds: chosen, canary: request.canary, waves: request.waves });
      } catch (err) {
        if (err instanceof StagePlanError) throw new GatewayError('FIRMWARE_CAMPAIGN_REQUEST', err.message);
        throw err;
      }
      const id = `fw-${new Date(now()).toISOString().slice(0, 10).replaceAll('-', '')}-${randomUUID().slice(0, 8)}`;
      store.create({
        id,
        packageId: request.packageId,
        family: manifest.family,
        targetVersion: manifest.version,
        request,
        stages,
      });
      logger.info(
        { campaign: id, version: manifest.version, terminals: chosen.length, stages: stages.length },
        'firmware campaign created',
      );
      kick(id);
      return must(id);
    },

    pause(id: string): CampaignDetail {
      const c = must(id);
      if (c.status !== 'running')
        throw new GatewayError('FIRMWARE_CAMPAIGN_STATE', `campaign ${id} is ${c.status}, not running`);
      pause(id, 'paused by the operator');
      return must(id);
    },

    /** Failed and rolled-back terminals go back to pending: the operator says the cause is fixed. */
    resume(id: string): CampaignDetail {
      const c = must(id);
      if (c.status !== 'paused')
        throw new GatewayError('FIRMWARE_CAMPAIGN_STATE', `campaign ${id} is ${c.status}, not paused`);
      for (const t of c.terminals) {
        if (t.state === 'rolled-back' || (t.state === 'failed' && t.code !== HEALTH_GATE_CODE)) {
          store.setTerminal(id, t.terminalId, {
            state: 'pending',
            code: null,
            detail: null,
            installedAt: null,
          });
        }
        options.alerts.clear(alertCode(t.terminalId));
      }
      store.setCampaign(id, { status: 'running', reason: null });
      kick(id);
      return must(id);
    },

    async abort(id: string): Promise<CampaignDetail> {
      const c = must(id);
      if (c.status === 'completed' || c.status === 'aborted')
        throw new GatewayError('FIRMWARE_CAMPAIGN_STATE', `campaign ${id} is already ${c.status}`);
      store.setCampaign(id, { status: 'aborted', reason: 'aborted by the operator' });
      const loop = loops.get(id);
      loop?.abort.abort(new Error('campaign aborted'));
      await loop?.done;
      // A transfer cut by the abort leaves the terminal on its running slot; say so on its row.
      for (const t of must(id).terminals)
        if (t.state === 'transferring')
          store.setTerminal(id, t.terminalId, {
            state: 'failed',
            code: 'FIRMWARE_ABORTED',
            detail: 'campaign aborted mid-transfer; the terminal keeps its running image',
          });
      return must(id);
    },

    list(): CampaignSummary[] {
      return store.list().map((c) => {
        const { terminals: _terminals, ...summary } = withLive(must(c.id));
        return summary;
      });
    },

    /** The repository's packages, newest version first. */
    async packages() {
      return (await options.repository.list()).sort(byVersionDescending);
    },

    get(id: string): CampaignDetail {
      return withLive(must(id));
    },

    /** Resolves when the campaign's loop (if any) has returned: for tests and `--watch`-like waits. */
    idle(id: string): Promise<void> {
      return loops.get(id)?.done ?? Promise.resolve();
    },
  };
}

export type CampaignEngine = ReturnType<typeof createCampaignEngine>;

/** Newest first among packages of one family: what `firmware list` prints. */
export function byVersionDescending(
  a: { manifest: { version: string } },
  b: { manifest: { version: string } },
): number {
  return compareFirmwareVersions(b.manifest.version, a.manifest.version);
}
