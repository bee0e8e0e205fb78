import type { TerminalEvent } from '@sceneway/device-drivers';
import type { Logger } from './logger.ts';

export interface TerminalState {
  id: string;
  driver: string;
  up: boolean;
  detail?: string;
  /** Canteen POS: the till's protocol (2, or 1 by an insecure acknowledgement). */
  protocol?: number;
  /** True when the till runs by an acknowledged insecure setting (POS protocol 1). */
  insecure?: boolean;
}

export type TerminalFacts = Pick<TerminalState, 'protocol' | 'insecure'>;

/**
 * What the agent knows of each terminal, from the drivers' TerminalStatus and FrameRejected events: the
 * status API, the metrics and (later) the fleet read it. Every configured terminal is listed from the
 * start, as down with "not heard yet", so a till that never spoke is visible too.
 */
export function createTerminalBoard(logger: Logger) {
  const states = new Map<string, TerminalState>();
  return {
    expect(id: string, driver: string, facts: TerminalFacts = {}): void {
      if (!states.has(id)) states.set(id, { id, driver, up: false, detail: 'not heard yet', ...facts });
    },
    record(driver: string, event: TerminalEvent): void {
      if (event.type === 'TerminalStatus') {
        const known = states.get(event.terminalId);
        states.set(event.terminalId, {
          id: event.terminalId,
          driver,
          up: event.up,
          ...(event.detail ? { detail: event.detail } : {}),
          ...(known?.protocol !== undefined ? { protocol: known.protocol } : {}),
          ...(known?.insecure !== undefined ? { insecure: known.insecure } : {}),
        });
      } else if (event.type === 'FrameRejected') {
        logger.warn({ driver, terminal: event.terminalId, code: event.code }, event.detail);
      }
    },
    list(): TerminalState[] {
      return [...states.values()];
    },
  };
}

export type TerminalBoard = ReturnType<typeof createTerminalBoard>;
