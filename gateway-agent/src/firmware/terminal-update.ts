import { sleep } from '@sceneway/core';
import type { DriverFirmware, FirmwareImage, FirmwareProgress } from '@sceneway/device-drivers';
import { checkFirmwareFits } from '@sceneway/firmware-tools';
import type { Logger } from '../logger.ts';
import type { CampaignStore } from './campaign-store.ts';
import type { TerminalUpdate } from './campaign-types.ts';
import type { PackageRepository } from './package-repository.ts';

/** The code a terminal row carries when its health gate failed: it owes a rollback until `rolled-back`. */
export const HEALTH_GATE_CODE = 'FIRMWARE_HEALTH_GATE';

export interface TerminalUpdateContext {
  campaignId: string;
  store: CampaignStore;
  repository: PackageRepository;
  firmware: DriverFirmware;
  image: FirmwareImage;
  isUp(terminalId: string): boolean;
  /** False once the campaign is paused or aborted: a pending terminal is then not started. */
  mayStart(): boolean;
  healthDeadlineMs: number;
  healthPollMs: number;
  now(): number;
  signal: AbortSignal;
  onProgress(terminalId: string, progress: FirmwareProgress): void;
  onGateFailed(terminalId: string, detail: string): void;
  logger: Logger;
}

/**
 * Takes one terminal through pending → transferring → installed → healthy, or → failed → rolled-back.
 * Each state is written before the step it names starts (write-ahead), so the row read after a restart
 * says what may be half done: `transferring` is driven again (the driver resumes from the chunks the
 * terminal holds), `installed` waits for its gate, a gate-failed `failed` owes its rollback. Returns
 * when the terminal has settled or needs the operator; rejects only when `signal` aborts.
 */
export async function driveTerminalUpdate(ctx: TerminalUpdateContext, row: TerminalUpdate): Promise<void> {
  const { store, campaignId, firmware, image } = ctx;
  const id = row.terminalId;
  const set = (change: Parameters<CampaignStore['setTerminal']>[2]) =>
    store.setTerminal(campaignId, id, change);
  const target = image.manifest.version;
  let state = row.state;
  let installedAt = row.installedAt;

  if (state === 'pending') {
    if (!ctx.mayStart()) return;
    const info = await firmware.describe(id);
    if (info.version === null) {
      set({
        state: 'failed',
        code: 'FIRMWARE_TERMINAL_UNREACHABLE',
        detail: 'the terminal did not answer describe(); nothing was sent',
      });
      return;
    }
    if (info.version === target) {
      // Already there (an earlier attempt finished on the terminal after its row was written): judge it.
      installedAt = ctx.now();
      set({
        state: 'installed',
        previousVersion: row.previousVersion ?? info.version,
        reportedVersion: info.version,
        installedAt,
      });
      state = 'installed';
    } else {
      // Before any byte is sent: model, hardware, anti-rollback and upgrade path (issue #15 item 4).
      const refusal = checkFirmwareFits(image.manifest, info);
      if (refusal) {
        set({ state: 'refused', code: refusal.code, detail: refusal.message, previousVersion: info.version });
        ctx.logger.warn(
          { terminal: id, code: refusal.code },
          'firmware refused for this terminal; nothing sent',
        );
        return;
      }
      const previous = await ctx.repository.findFor(info.family, info.version, info.model);
      set({
        state: 'transferring',
        previousVersion: info.version,
        previousPackageId: previous?.id ?? null,
        attempts: row.attempts + 1,
        bytesDone: 0,
        bytesTotal: image.manifest.size,
        code: null,
        detail: null,
      });
      state = 'transferring';
    }
  }

  if (state === 'transferring') {
    const result = await firmware.install(id, image, {
      signal: ctx.signal,
      onProgress: (p) => ctx.onProgress(id, p),
    });
    if (result.outcome === 'failed') {
      set({ state: 'failed', code: result.code, detail: result.detail });
      ctx.logger.warn(
        { terminal: id, code: result.code, retryable: result.retryable },
        'firmware install failed',
      );
      return;
    }
    installedAt = ctx.now();
    set({ state: 'installed', reportedVersion: result.version, installedAt, bytesDone: image.manifest.size });
    state = 'installed';
  }

  if (state === 'installed') {
    const gate = await healthGate(ctx, id, target, (installedAt ?? ctx.now()) + ctx.healthDeadlineMs);
    if (gate.passed) {
      set({ state: 'healthy', reportedVersion: gate.version, code: null, detail: null });
      return;
    }
    set({ state: 'failed', code: HEALTH_GATE_CODE, detail: gate.detail, reportedVersion: gate.version });
    ctx.onGateFailed(id, gate.detail);
    state = 'failed';
  }

  if (state === 'failed' && (row.state !== 'failed' || row.code === HEALTH_GATE_CODE)) {
    await rollBack(ctx, id, store.get(campaignId)?.terminals.find((t) => t.terminalId === id) ?? row);
  }
}

/** Up on the terminal board AND reporting the target version, within the deadline (issue #15 item 3). */
async function healthGate(
  ctx: TerminalUpdateContext,
  id: string,
  target: string,
  deadline: number,
): Promise<{ passed: true; version: string } | { passed: false; version: string | null; detail: string }> {
  let version: string | null = null;
  let up = false;
  for (;;) {
    up = ctx.isUp(id);
    version = (await ctx.firmware.describe(id)).version;
    if (up && version === target) return { passed: true, version };
    const left = deadline - ctx.now();
    if (left <= 0) break;
    if (!(await sleep(Math.min(ctx.healthPollMs, left), ctx.signal)))
      throw ctx.signal.reason ?? new Error('aborted');
  }
  const seconds = Math.round(ctx.healthDeadlineMs / 1000);
  const why = [
    up ? null : 'it is not up on the terminal board',
    version === target ? null : `it reports version ${version ?? '(none: unreachable)'} instead of ${target}`,
  ].filter(Boolean);
  return {
    passed: false,
    version,
    detail: `health gate failed ${seconds} s after install: ${why.join(' and ')}`,
  };
}

async function rollBack(ctx: TerminalUpdateContext, id: string, row: TerminalUpdate): Promise<void> {
  // A new image that failed to boot leaves the terminal on its old slot by itself (the usual way a gate
  // fails): it already runs what it ran before, and a revert command would be refused (a POS till NAKs
  // FW_NO_PREVIOUS) or, on ONVIF, flash the old image a second time for nothing.
  const now = await ctx.firmware.describe(id);
  if (now.version !== null && now.version === row.previousVersion) {
    ctx.store.setTerminal(ctx.campaignId, id, {
      state: 'rolled-back',
      reportedVersion: now.version,
      detail: `${row.detail ?? 'health gate failed'}; rolled back to ${now.version} (the terminal fell back to its previous image by itself)`,
    });
    ctx.logger.warn(
      { terminal: id, version: now.version },
      'terminal back on its previous image after a failed health gate',
    );
    return;
  }
  let previous: FirmwareImage | null = null;
  let note = '';
  if (row.previousPackageId) {
    try {
      previous = await ctx.repository.open(row.previousPackageId);
    } catch (err) {
      // A rollback image that no longer verifies is never sent; slot families still revert without it.
      note = ` (stored package ${row.previousPackageId} refused: ${(err as { code?: string }).code ?? (err as Error).message})`;
    }
  }
  const result = await ctx.firmware.rollback(id, previous, { signal: ctx.signal });
  if (result.outcome === 'failed') {
    // The row keeps its gate code: a restart or a resume tries the rollback again.
    ctx.store.setTerminal(ctx.campaignId, id, {
      detail: `${row.detail ?? 'health gate failed'}; rollback failed (${result.code}): ${result.detail}${note}`,
    });
    ctx.logger.error({ terminal: id, code: result.code }, 'firmware rollback failed');
    return;
  }
  ctx.store.setTerminal(ctx.campaignId, id, {
    state: 'rolled-back',
    reportedVersion: result.version,
    detail: `${row.detail ?? 'health gate failed'}; rolled back to ${result.version}${note}`,
  });
  ctx.logger.warn(
    { terminal: id, version: result.version },
    'terminal rolled back after a failed health gate',
  );
}
