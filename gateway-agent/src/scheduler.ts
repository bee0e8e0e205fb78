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
  /** A returned promise is awaited for its failure only. */
  run(): unknown;
}): { stop(): void } {
  const failed = (err: unknown) =>
    options.logger.error(
      { job: options.name, err: (err as Error).message },
      `${options.name} failed; it runs again at the next schedule`,
    );
  const task = cron.schedule(
    options.cron,
    () => {
      try {
        Promise.resolve(options.run()).catch(failed);
      } catch (err) {
        failed(err);
      }
    },
    { timezone: options.timezone },
  );
  return { stop: () => void task.stop() };
}
