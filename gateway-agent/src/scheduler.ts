import cron from 'node-cron';
import type { Logger } from './logger.ts';

/**
 * A node-cron job of the agent (retention, daily reconciliation). A failing run is logged with the
 * job's name and tried again at the next schedule; it never takes the agent down.
 */
export function scheduleJob(options: {
  name: string;
  cron: string;
  timezone: string;
  logger: Logger;
  run(): void;
}): { stop(): void } {
  const task = cron.schedule(
    options.cron,
    () => {
      try {
        options.run();
      } catch (err) {
        options.logger.error(
          { job: options.name, err: (err as Error).message },
          `${options.name} failed; it runs again at the next schedule`,
        );
      }
    },
    { timezone: options.timezone },
  );
  return { stop: () => void task.stop() };
}
