import { z } from 'zod';

/**
 * `scenarios.parking` in the box config: how plate reads become sightings, what a stay costs, and which
 * plates pass free or never. The TypeScript types are z.infer of this schema (never written twice).
 * Plates in the lists are personal data: the box keeps only their keyed digests once it runs.
 */
const plate = z
  .string()
  .min(2)
  .max(16)
  .describe('A licence plate as the cameras read it, e.g. "京A12345" (spaces and dots are ignored).');

export const parkingFeesSchema = z
  .object({
    freeMinutes: z
      .number()
      .int()
      .min(0)
      .max(24 * 60)
      .default(15)
      .describe('A stay of at most this many minutes costs nothing.'),
    perHourFen: z
      .number()
      .int()
      .min(0)
      .default(500)
      .describe('Price of each started hour beyond the free minutes, in fen.'),
    dailyCapFen: z
      .number()
      .int()
      .min(0)
      .default(4000)
      .describe('Most one stay costs per 24 hours from its entry, in fen.'),
  })
  .strict();

export const parkingConfigSchema = z
  .object({
    dedupeWindowSeconds: z
      .number()
      .int()
      .min(1)
      .max(3600)
      .default(30)
      .describe('The same plate read again on the same lane within this many seconds is the same car.'),
    misreadMaxConfidence: z
      .number()
      .min(0)
      .max(1)
      .default(0.8)
      .describe(
        'A read below this confidence that is one character away from a plate the lane just saw, or from a car inside, is flagged as a likely misread.',
      ),
    fees: parkingFeesSchema
      .default({ freeMinutes: 15, perHourFen: 500, dailyCapFen: 4000 })
      .describe('What a stay costs (integer fen).'),
    whitelist: z
      .array(
        z
          .object({
            plate,
            kind: z
              .enum(['staff', 'monthly'])
              .describe('staff: always free; monthly: free while the pass runs.'),
            validUntil: z
              .string()
              .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD')
              .optional()
              .describe('Last day (site time zone) of a monthly pass; absent: no end.'),
          })
          .strict(),
      )
      .default([])
      .describe('Plates that park free: staff cars and monthly passes.'),
    blacklist: z
      .array(
        z.object({ plate, note: z.string().max(200).optional().describe('Why, for the operator.') }).strict(),
      )
      .default([])
      .describe('Plates refused at the entry barrier.'),
    snapshotRetentionDays: z
      .number()
      .int()
      .min(1)
      .max(365)
      .default(30)
      .describe('Sealed snapshots older than this many days are deleted.'),
    timezone: z
      .string()
      .min(1)
      .default('Asia/Shanghai')
      .describe('IANA time zone of the site (pass end dates).'),
  })
  .strict()
  .describe('A parking lot: plate cameras at entry and exit lanes, fees charged to the ledger at exit.');

export type ParkingConfig = z.infer<typeof parkingConfigSchema>;
export type ParkingFees = z.infer<typeof parkingFeesSchema>;
