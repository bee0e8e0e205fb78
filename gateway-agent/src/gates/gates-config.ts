import { z } from 'zod';

/**
 * `scenarios.gates` in the box config: campus gates and doors fed by face/attendance readers. Who may
 * pass where and when; the TypeScript types are z.infer of this schema (never written twice).
 */
const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, - and _');
const clockTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'expected HH:MM (00:00 to 24:00)');

export const accessWindowSchema = z
  .object({
    days: z
      .array(z.number().int().min(1).max(7))
      .min(1)
      .default([1, 2, 3, 4, 5, 6, 7])
      .describe('ISO weekdays the window applies on: 1 = Monday … 7 = Sunday (site time zone).'),
    from: clockTime.describe('Start of the window, local HH:MM, inclusive.'),
    to: clockTime.describe('End of the window, local HH:MM, exclusive; 24:00 is the end of the day.'),
  })
  .strict()
  .refine((w) => w.from < w.to, {
    message: '`from` must be before `to` (split a window across midnight in two)',
  });

export const personGroupSchema = z
  .object({
    id: id.describe('Group id (staff, students, contractors …), as persons[].group names it.'),
    windows: z
      .array(accessWindowSchema)
      .min(1)
      .describe('When members may pass; outside every window a passage is denied OUTSIDE_WINDOW.'),
    zones: z
      .array(id)
      .optional()
      .describe('Zones members may enter; absent = every zone. Another zone is denied ZONE_NOT_ALLOWED.'),
  })
  .strict();

export const gatesConfigSchema = z
  .object({
    timezone: z
      .string()
      .min(1)
      .default('Asia/Shanghai')
      .describe('IANA time zone of the site: where access windows are read.'),
    zones: z
      .array(
        z
          .object({
            id: id.describe('Zone id (a building, a dormitory, the campus perimeter).'),
            antiPassback: z
              .boolean()
              .default(true)
              .describe('Deny entering a zone one is already in, and leaving one already left (PASSBACK).'),
          })
          .strict(),
      )
      .min(1)
      .describe('The access zones of the site.'),
    readers: z
      .array(
        z
          .object({
            reader: id.describe('Terminal id of a face reader (a face-reader driver entry).'),
            zone: id.describe('The zone this reader guards (zones[].id).'),
            direction: z
              .enum(['in', 'out'])
              .describe('Whether passing this reader enters or leaves the zone.'),
          })
          .strict(),
      )
      .min(1)
      .describe('Where each reader stands: its zone and direction.'),
    groups: z.array(personGroupSchema).min(1).describe('Person groups and their access windows.'),
    persons: z
      .array(
        z
          .object({
            id: z
              .string()
              .min(1)
              .max(64)
              .describe('Person id as the readers report it (employee or student number).'),
            group: id.describe('The person group (groups[].id) whose windows and zones apply.'),
          })
          .strict(),
      )
      .default([])
      .describe(
        'The person directory: enrolled person id → group. A recognised person not listed is denied UNKNOWN_PERSON.',
      ),
    minMatchScore: z
      .number()
      .min(0.5)
      .max(1)
      .default(0.8)
      .describe('A match below this score is a failed recognition (NOT_RECOGNIZED), counted for lockout.'),
    lockout: z
      .object({
        maxConsecutiveFailures: z
          .number()
          .int()
          .min(1)
          .max(5)
          .default(5)
          .describe(
            'Consecutive failed recognitions (no match, low score, liveness) after which face recognition is suspended for that person and for that reader; 004 §5.3.2 b) 6) allows at most 5.',
          ),
        periodMinutes: z
          .number()
          .int()
          .min(1)
          .max(24 * 60)
          .default(30)
          .describe('How long a lockout lasts; every attempt during it is denied LOCKED_OUT.'),
      })
      .strict()
      .prefault({})
      .describe('Suspension of face recognition after repeated failures (004 §5.3.2 b) 6)).'),
    faceDataRetentionDays: z
      .number()
      .int()
      .min(1)
      .max(3660)
      .default(365)
      .describe(
        'Sealed face templates and ID numbers of persons not re-enrolled within this many days are deleted.',
      ),
  })
  .strict();

export type GatesConfig = z.infer<typeof gatesConfigSchema>;
export type GatesConfigInput = z.input<typeof gatesConfigSchema>;
export type PersonGroup = GatesConfig['groups'][number];
