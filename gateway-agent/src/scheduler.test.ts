import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';
import { scheduleJob } from './scheduler.ts';

describe('scheduleJob', () => {
  it('runs on its cron schedule and survives a failing run', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'error',
      destination: { write: (l: string) => lines.push(l) } as unknown as NodeJS.WritableStream,
    });
    let runs = 0;
    const job = scheduleJob({
      name: 'test job',
      cron: '* * * * * *', // every second (node-cron's optional seconds field)
      timezone: 'UTC',
      logger,
      run: () => {
        runs++;
        if (runs === 1) throw new Error('first run fails');
      },
    });
    const deadline = Date.now() + 5000;
    while (runs < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    job.stop();
    expect(runs).toBeGreaterThanOrEqual(2);
    expect(lines.join('')).toMatch(/test job failed; it runs again at the next schedule/);
  });
});
