import { describe, expect, it } from 'vitest';
import { type AgentPart, PART_CRASHED, startLifecycle } from './lifecycle.ts';
import { silentLogger } from './logger.ts';

function recordingParts(names: string[], journal: string[], failStart?: string): AgentPart[] {
  return names.map((name) => ({
    name,
    start() {
      if (name === failStart) throw new Error(`${name} cannot start`);
      journal.push(`start ${name}`);
    },
    stop() {
      journal.push(`stop ${name}`);
    },
  }));
}

function alertsJournal() {
  const raised: string[] = [];
  const cleared: string[] = [];
  return {
    raised,
    cleared,
    sink: {
      raise: (a: { code: string }) => raised.push(a.code),
      clear: (code: string) => cleared.push(code),
    },
  };
}

describe('agent lifecycle', () => {
  it('starts the parts in the listed order and stops them in reverse', async () => {
    const journal: string[] = [];
    const lifecycle = await startLifecycle(
      recordingParts(['ledger', 'uploader', 'drivers', 'admin'], journal),
      {
        logger: silentLogger,
      },
    );
    expect(lifecycle.running()).toEqual(['ledger', 'uploader', 'drivers', 'admin']);
    await lifecycle.stop();
    expect(journal).toEqual([
      'start ledger',
      'start uploader',
      'start drivers',
      'start admin',
      'stop admin',
      'stop drivers',
      'stop uploader',
      'stop ledger',
    ]);
  });

  it('stops what already started, in reverse, when a part fails to start, and rethrows its error', async () => {
    const journal: string[] = [];
    const parts = recordingParts(['ledger', 'uploader', 'broker', 'drivers'], journal, 'broker');
    await expect(startLifecycle(parts, { logger: silentLogger })).rejects.toThrow('broker cannot start');
    expect(journal).toEqual(['start ledger', 'start uploader', 'stop uploader', 'stop ledger']);
  });

  it('keeps stopping the other parts when one fails to stop', async () => {
    const journal: string[] = [];
    const parts = recordingParts(['a', 'b', 'c'], journal);
    parts[1]!.stop = () => {
      throw new Error('b is stuck');
    };
    const lifecycle = await startLifecycle(parts, { logger: silentLogger });
    await lifecycle.stop();
    expect(journal).toEqual(['start a', 'start b', 'start c', 'stop c', 'stop a']);
  });

  it('raises an alert when a supervised part crashes, restarts it, and clears the alert', async () => {
    const journal: string[] = [];
    const alerts = alertsJournal();
    let crash: ((e: Error) => void) | undefined;
    let restarted!: () => void;
    const back = new Promise<void>((resolve) => {
      restarted = resolve;
    });
    let starts = 0;
    const uploader: AgentPart = {
      name: 'uploader',
      start() {
        starts++;
        journal.push(`start uploader #${starts}`);
        if (starts === 2) restarted();
      },
      stop() {
        journal.push('stop uploader');
      },
      supervise(onCrash) {
        crash = onCrash;
      },
    };
    const lifecycle = await startLifecycle([uploader], {
      logger: silentLogger,
      alerts: alerts.sink,
      restartBackoff: { initialDelayMs: 1, maxDelayMs: 5 },
    });
    crash?.(new Error('loop died'));
    crash?.(new Error('and again on its way down')); // one crash, one restart
    await back;
    await lifecycle.stop();
    expect(alerts.raised).toEqual([PART_CRASHED]);
    expect(alerts.cleared).toEqual([PART_CRASHED]);
    expect(journal).toEqual(['start uploader #1', 'stop uploader', 'start uploader #2', 'stop uploader']);
  });

  it('does not restart a crashed part once the agent is stopping', async () => {
    const journal: string[] = [];
    let crash: ((e: Error) => void) | undefined;
    const part: AgentPart = {
      name: 'uploader',
      start: () => void journal.push('start'),
      stop: () => void journal.push('stop'),
      supervise: (onCrash) => {
        crash = onCrash;
      },
    };
    const lifecycle = await startLifecycle([part], {
      logger: silentLogger,
      restartBackoff: { initialDelayMs: 60_000, maxDelayMs: 60_000 },
    });
    crash?.(new Error('loop died'));
    await lifecycle.stop(); // cuts the backoff short; no second start
    expect(journal.filter((j) => j === 'start')).toHaveLength(1);
  });
});
