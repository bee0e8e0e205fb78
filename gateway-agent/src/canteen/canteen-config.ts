import { z } from 'zod';

/** The default stale-request window; also what a caller without a config (tests, tools) gets. */
export const DEFAULT_MAX_REQUEST_AGE_SECONDS = 30;

/**
 * `scenarios.canteen` in the box config: the canteen's offline limits and which USB reader pays at which
 * till. The TypeScript types are z.infer of this schema (never written twice).
 */
export const canteenLimitsSchema = z
  .object({
    perTransactionLimitFen: z
      .number()
      .int()
      .min(0)
      .default(50_000)
      .describe('Largest single sale in fen; above it a live sale is declined INSUFFICIENT_LIMIT.'),
    perDayLimitFen: z
      .number()
      .int()
      .min(0)
      .default(200_000)
      .describe('Most one card or account may spend in one local day, in fen (DAILY_LIMIT).'),
    offlineFloorLimitFen: z
      .number()
      .int()
      .min(0)
      .default(10_000)
      .describe('Largest sale approved while the bank is unreachable, in fen (FLOOR_LIMIT).'),
    maxUnsyncedRecords: z
      .number()
      .int()
      .min(1)
      .default(500_000)
      .describe(
        'The full-buffer ceiling: above this many unsynced records new sales are declined, none dropped.',
      ),
    minFreeDiskMb: z
      .number()
      .int()
      .min(0)
      .default(128)
      .describe('Below this many free MiB on the ledger disk new sales are declined OFFLINE_LIMIT_REACHED.'),
    timezone: z
      .string()
      .min(1)
      .default('Asia/Shanghai')
      .describe('IANA time zone of the site: where a "day" of the daily limit starts and ends.'),
  })
  .strict();

const terminalId = z.string().min(1).max(64);

export const readerBindingSchema = z
  .object({
    reader: terminalId.describe('Terminal id of the card/QR reader (e.g. a hid-reader driver entry).'),
    till: terminalId.describe('Terminal id of the till the reader pays at (a canteen-pos terminal).'),
    presentWithinMs: z
      .number()
      .int()
      .min(1000)
      .max(300_000)
      .default(30_000)
      .describe("A card read counts for the till's next sale for this long, and for that one sale only."),
  })
  .strict();

export const canteenConfigSchema = z
  .object({
    limits: canteenLimitsSchema.prefault({}).describe('Offline authorization limits of the canteen.'),
    readerBindings: z
      .array(readerBindingSchema)
      .default([])
      .describe('Which separate reader feeds which till: a till that sends a sale without a card uses it.'),
    maxRequestAgeSeconds: z
      .number()
      .int()
      .min(5)
      .max(3600)
      .default(DEFAULT_MAX_REQUEST_AGE_SECONDS)
      .describe(
        "A live sale or void whose terminal time is older than this many seconds before the box's clock is a stale copy (a line buffer replaying after a restart): declined STALE_REQUEST, recorded nowhere, and the till may retry the receipt with a fresh time. Offline uploads are not subject to it.",
      ),
  })
  .strict();

export type CanteenConfig = z.infer<typeof canteenConfigSchema>;
export type CanteenLimits = CanteenConfig['limits'];
export type ReaderBinding = CanteenConfig['readerBindings'][number];
