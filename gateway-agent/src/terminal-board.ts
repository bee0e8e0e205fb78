import type { TerminalEvent } from '@sceneway/device-drivers';
import type { Logger } from './logger.ts';

export interface TerminalState {
  id: string;
  driver: string;
  up: boolean;
  detail?: string;
}

/**
 * What the agent knows of each terminal, from the drivers' TerminalStatus and FrameRejected events: the
 * status API, the metrics and (later) the fleet read it. Every configured terminal is listed from the
 * start, as down with "not heard yet", so a till that never spoke is visible too.
 */
export function createTerminalBoard(logger: Logger) {
  const states = new Map<string, TerminalState>();
  return {
    expect(id: string, driver: string): void {
      if (!states.has(id)) states.set(id, { id, driver, up: false, detail: 'not heard yet' });
    },
    record(driver: string, event: TerminalEvent): void {
      if (event.type === 'TerminalStatus') {
        states.set(event.terminalId, {
          id: event.terminalId,
          driver,
          up: event.up,
          ...(event.detail ? { detail: event.detail } : {}),
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
