import { fullJitterDelay, sleep } from '@sceneway/core';
import type { AlertSink } from './ledger/ledger.ts';
import type { Logger } from './logger.ts';

/**
 * One part of the agent (the ledger, the uploader, the broker, the drivers ...). Parts are listed as
 * data in dependency order: each may use what the parts before it started.
 */
export interface AgentPart {
  name: string;
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
  /**
   * For a part with work of its own that can die (the uploader's loop): the lifecycle hands it a
   * callback to call when that happens, then raises an alert and restarts the part with backoff.
   */
  supervise?(onCrash: (error: Error) => void): void;
}

export interface Lifecycle {
  /** Names of the running parts, in start order. */
  running(): string[];
  /** Stops every started part in reverse order; a failing stop is logged and the rest still stop. */
  stop(): Promise<void>;
}

export interface LifecycleOptions {
  logger: Logger;
  alerts?: AlertSink;
  /** Restart delays of a crashed part: exponential with full jitter, capped. */
  restartBackoff?: { initialDelayMs: number; maxDelayMs: number };
}

export const PART_CRASHED = 'AGENT_PART_CRASHED';

/**
 * Starts the parts in order and stops them in reverse. A part that fails to start stops the ones already
 * started (in reverse) and the error is rethrown with the part's name: nothing is left half running.
 */
export async function startLifecycle(
  parts: readonly AgentPart[],
  options: LifecycleOptions,
): Promise<Lifecycle> {
  const { logger } = options;
  const started: AgentPart[] = [];
  const stopping = new AbortController();
  const backoff = options.restartBackoff ?? { initialDelayMs: 500, maxDelayMs: 60_000 };
  const restarts: Array<Promise<void>> = [];

  const stopAll = async () => {
    stopping.abort();
    await Promise.allSettled(restarts);
    for (const part of [...started].reverse()) {
      try {
        await part.stop();
      } catch (err) {
        logger.error({ part: part.name, err: (err as Error).message }, 'error while stopping');
      }
    }
    started.length = 0;
  };

  const restart = async (part: AgentPart, error: Error) => {
    options.alerts?.raise({
      code: PART_CRASHED,
      message: `the ${part.name} part stopped unexpectedly (${error.message}); restarting it`,
      hint: 'The agent restarts it with backoff by itself. If this repeats, send the log to support.',
    });
    logger.error({ part: part.name, err: error.message }, 'part crashed; restarting with backoff');
    for (let attempt = 1; !stopping.signal.aborted; attempt++) {
      try {
        await part.stop();
      } catch (err) {
        logger.warn({ part: part.name, err: (err as Error).message }, 'stopping the crashed part failed');
      }
      if (!(await sleep(fullJitterDelay(backoff, attempt), stopping.signal))) return;
      try {
        await part.start();
        part.supervise?.(onCrashOf(part));
        logger.info({ part: part.name, attempt }, 'part restarted');
        options.alerts?.clear(PART_CRASHED);
        return;
      } catch (err) {
        logger.error({ part: part.name, attempt, err: (err as Error).message }, 'restarting the part failed');
      }
    }
  };

  const onCrashOf = (part: AgentPart) => {
    let reported = false;
    return (error: Error) => {
      // One report per start: a loop that fails twice on its way down is still one crash.
      if (reported || stopping.signal.aborted) return;
      reported = true;
      const running = restart(part, error);
      restarts.push(running);
      void running.finally(() => restarts.splice(restarts.indexOf(running), 1));
    };
  };

  for (const part of parts) {
    try {
      await part.start();
    } catch (err) {
      logger.error(
        { part: part.name, err: (err as Error).message },
        'part failed to start; stopping the others',
      );
      await stopAll();
      throw err;
    }
    started.push(part);
    part.supervise?.(onCrashOf(part));
  }

  return {
    running: () => started.map((p) => p.name),
    stop: stopAll,
  };
}
