import type { DriverLogger, TerminalEventOf } from '../driver-api.ts';

/**
 * Reports protocol trouble as FrameRejected events, with a rate limit: a terminal spewing junk at 9600
 * baud would otherwise turn into a thousand events a second for the agent and the fleet. Every error is
 * still logged at debug; the ones not reported are counted in one warning per second.
 */
export interface FrameErrorReporter {
  report(terminalId: string, code: string, detail: string): void;
}

export function createFrameErrorReporter(opts: {
  emit(event: TerminalEventOf<'FrameRejected'>): void;
  logger: DriverLogger;
  now(): number;
  port: string;
  perSecond: number;
}): FrameErrorReporter {
  let windowStart = Number.NEGATIVE_INFINITY;
  let inWindow = 0;
  let suppressed = 0;
  return {
    report(terminalId, code, detail) {
      const t = opts.now();
      if (t - windowStart >= 1000) {
        if (suppressed > 0) {
          opts.logger.warn(
            { port: opts.port, suppressed },
            'canteen POS frame errors not reported as events',
          );
        }
        windowStart = t;
        inWindow = 0;
        suppressed = 0;
      }
      opts.logger.debug({ port: opts.port, terminalId, code, detail }, 'canteen POS frame error');
      if (++inWindow > opts.perSecond) {
        suppressed++;
        return;
      }
      opts.emit({ type: 'FrameRejected', terminalId, code, detail });
    },
  };
}
