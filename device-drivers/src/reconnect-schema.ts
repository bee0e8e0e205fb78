import { z } from 'zod';

/**
 * The `reconnect` block every driver with a device that can vanish shares: exponential backoff with
 * full jitter (core's backoff) between `initialDelayMs` and `maxDelayMs`. Each family names what it
 * retries, so the generated config reference reads in its own terms.
 */
export function reconnectSchema(options: {
  initialDelayMs: number;
  maxDelayMs: number;
  /** e.g. 'First reopen delay after the port drops.' */
  first: string;
  /** e.g. 'Longest reopen delay.' */
  longest: string;
  /** What the block is for, e.g. 'Reopening a lost port'. */
  what: string;
}) {
  const { initialDelayMs, maxDelayMs } = options;
  return z
    .object({
      initialDelayMs: z.number().int().min(1).default(initialDelayMs).describe(options.first),
      maxDelayMs: z.number().int().min(1).default(maxDelayMs).describe(options.longest),
    })
    .strict()
    .default({ initialDelayMs, maxDelayMs })
    .describe(`${options.what}: exponential backoff with full jitter.`);
}
