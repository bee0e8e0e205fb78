import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { TERMINAL_STATES } from '../firmware/campaign-types.ts';
import type { UploaderStatus } from '../sync/uploader.ts';
import type { TerminalState } from '../terminal-board.ts';
import type { CampaignHealth, TelemetryHealth } from './telemetry-payload.ts';

export interface AgentHealthSources {
  uptimeSeconds(): number;
  ledger(): {
    depth: number;
    oldestUnsyncedAgeSeconds: number | null;
    headSeq: number;
    lastSyncedSeq: number;
  };
  uploader(): UploaderStatus;
  terminals(): TerminalState[];
  /** MiB free on the ledger's filesystem; throws when statfs fails (reported as null). */
  diskFreeMb(): number;
  /** Box minus bank clock, or null before the first verified ack measured it. */
  clockDriftMs(): number | null;
  /** The firmware part's campaigns (as on /api/status); absent when the agent has no firmware part. */
  firmwareCampaigns?(): ReadonlyArray<{
    id: string;
    family: CampaignHealth['family'];
    targetVersion: string;
    status: CampaignHealth['status'];
    terminals: number;
    byState: Partial<Record<string, number>>;
  }>;
}

const MB = 1024 * 1024;
/** The canteen-pos driver reports a terminal's STATUS FIRMWARE_VERSION as the detail of its TerminalStatus. */
const FIRMWARE_DETAIL = /^firmware ([\x21-\x7e]{1,32})$/;

/**
 * The figures a heartbeat carries, read from the parts that own them. Terminal details are free text
 * written by drivers, so only the firmware version (printable ASCII, checked by the codec) is taken
 * from them; error messages are dropped for their codes.
 */
export function agentHealthReader(sources: AgentHealthSources): () => TelemetryHealth {
  let lastCpu = process.cpuUsage();
  let lastAt = performance.now();
  return () => {
    const cpu = process.cpuUsage();
    const at = performance.now();
    const usedMicros = cpu.user - lastCpu.user + (cpu.system - lastCpu.system);
    const elapsedMs = Math.max(at - lastAt, 1);
    lastCpu = cpu;
    lastAt = at;
    const sync = sources.uploader();
    const ledger = sources.ledger();
    let diskFreeMb: number | null;
    try {
      diskFreeMb = round(sources.diskFreeMb());
    } catch {
      diskFreeMb = null;
    }
    return {
      uptimeSeconds: round(sources.uptimeSeconds()),
      ledger: {
        ...ledger,
        oldestUnsyncedAgeSeconds:
          ledger.oldestUnsyncedAgeSeconds === null ? null : Math.max(0, ledger.oldestUnsyncedAgeSeconds),
      },
      sync: {
        state: sync.state,
        consecutiveFailures: sync.consecutiveFailures,
        lastErrorCode: sync.lastError?.code ?? null,
        stoppedByRejectedBatch: sync.state === 'stopped' && sync.lastError !== null,
      },
      terminals: sources.terminals().map((t) => ({
        id: t.id,
        driver: t.driver,
        up: t.up,
        firmware: FIRMWARE_DETAIL.exec(t.detail ?? '')?.[1] ?? null,
      })),
      ...(sources.firmwareCampaigns
        ? { firmwareCampaigns: sources.firmwareCampaigns().slice(-16).map(campaignHealth) }
        : {}),
      diskFreeMb,
      clockDriftMs: sources.clockDriftMs(),
      cpu: {
        load1: round(loadavg()[0] ?? 0),
        cores: cpus().length,
        processPercent: round(usedMicros / 10 / elapsedMs),
      },
      memory: {
        rssMb: round(process.memoryUsage.rss() / MB),
        systemFreeMb: round(freemem() / MB),
        systemTotalMb: round(totalmem() / MB),
      },
    };
  };
}

const round = (n: number) => Math.max(0, Math.round(n * 10) / 10);

/** Counts only: the pause reason is free text (a terminal's words may be in it) and stays on the box. */
function campaignHealth(
  c: ReturnType<NonNullable<AgentHealthSources['firmwareCampaigns']>>[number],
): CampaignHealth {
  const byState = Object.fromEntries(
    TERMINAL_STATES.map((state) => [state, c.byState[state] ?? 0]),
  ) as CampaignHealth['byState'];
  return {
    id: c.id,
    family: c.family,
    targetVersion: c.targetVersion,
    status: c.status,
    terminals: c.terminals,
    byState,
  };
}
