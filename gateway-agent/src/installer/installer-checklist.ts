import type { TerminalProbeResult } from '@sceneway/device-drivers';
import type { UploaderStatus } from '../sync/uploader.ts';
import type { TerminalState } from '../terminal-board.ts';

/**
 * The installer's last page: may the box be left alone? Each line is what the agent itself measures,
 * never a separate test path: the uploader's own contact with the bank, the clock offset taken from
 * the bank's signed acks (DESIGN invariant 4), and every terminal on the board plus a live heartbeat.
 */
export type CheckState = 'ok' | 'failed' | 'pending';

export interface ChecklistItem {
  id: string;
  label: string;
  state: CheckState;
  detail: string;
}

export interface ChecklistInput {
  uploader: UploaderStatus;
  /** The measured offset from the bank's clock, or null before the first verified ack. */
  clockOffsetMs: number | null;
  maxDriftMs: number;
  terminals: readonly TerminalState[];
  probes: ReadonlyMap<string, TerminalProbeResult>;
}

function bankItem(uploader: UploaderStatus): ChecklistItem {
  const label = 'Bank reachable';
  if (uploader.consecutiveFailures > 0) {
    const error = uploader.lastError
      ? `${uploader.lastError.code}: ${uploader.lastError.message}`
      : 'no answer';
    return {
      id: 'bank',
      label,
      state: 'failed',
      detail: `the last ${uploader.consecutiveFailures} upload(s) failed (${error})`,
    };
  }
  if (uploader.lastAckAt === null) {
    return {
      id: 'bank',
      label,
      state: 'pending',
      detail: 'no batch acknowledged yet: make a test sale and check again',
    };
  }
  return {
    id: 'bank',
    label,
    state: 'ok',
    detail: `the bank acknowledged batch uploads (last at ${uploader.lastAckAt}, ${uploader.batchesAcked} since start)`,
  };
}

function clockItem(offsetMs: number | null, maxDriftMs: number): ChecklistItem {
  const label = 'Clock in sync';
  if (offsetMs === null)
    return {
      id: 'clock',
      label,
      state: 'pending',
      detail: "not measured yet: it is read from the bank's first ack",
    };
  const seconds = (offsetMs / 1000).toFixed(1);
  return Math.abs(offsetMs) > maxDriftMs
    ? {
        id: 'clock',
        label,
        state: 'failed',
        detail: `the box clock is ${seconds} s off the bank's (more than ${maxDriftMs / 1000} s): fix the time source (NTP)`,
      }
    : { id: 'clock', label, state: 'ok', detail: `${seconds} s off the bank's clock` };
}

function terminalItem(terminal: TerminalState, probe: TerminalProbeResult | undefined): ChecklistItem {
  const label = `Terminal ${terminal.id} answering`;
  const id = `terminal:${terminal.id}`;
  if (probe?.outcome === 'answered') {
    const firmware = probe.firmwareVersion ? `, firmware ${probe.firmwareVersion}` : '';
    return { id, label, state: 'ok', detail: `answered a heartbeat in ${probe.roundTripMs} ms${firmware}` };
  }
  if (probe?.outcome === 'failed' && probe.code !== 'INSTALLER_PROBE_UNSUPPORTED')
    return { id, label, state: 'failed', detail: `${probe.code}: ${probe.detail}` };
  // No live test for this family: what its driver last reported is what the agent knows.
  return terminal.up
    ? {
        id,
        label,
        state: 'ok',
        detail: `up (${terminal.detail ?? terminal.driver}; no live test for this family)`,
      }
    : { id, label, state: 'failed', detail: `down: ${terminal.detail ?? 'no report'}` };
}

export function buildChecklist(input: ChecklistInput): ChecklistItem[] {
  const items = [bankItem(input.uploader), clockItem(input.clockOffsetMs, input.maxDriftMs)];
  if (input.terminals.length === 0)
    items.push({
      id: 'terminals',
      label: 'Terminals',
      state: 'pending',
      detail: 'no terminal is configured',
    });
  for (const t of input.terminals) items.push(terminalItem(t, input.probes.get(t.id)));
  return items;
}
