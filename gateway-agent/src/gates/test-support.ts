import { keyedHolderDigests } from '@sceneway/cloud-sync';
import type { FaceRecognition } from '@sceneway/device-drivers';
import { manualClock } from '../clock.ts';
import type { SqliteLedger } from '../ledger/ledger.ts';
import { openTempLedger, tempLedgerFile } from '../ledger/temp-ledger.ts';
import { silentLogger } from '../logger.ts';
import { type GatesConfig, type GatesConfigInput, gatesConfigSchema } from './gates-config.ts';
import { createGatesRules, type GatesRules } from './gates-rules.ts';

/** TESTS ONLY: the gate rules on the production ledger in a temp file, with a movable clock. */
export const DIGESTS = keyedHolderDigests(Buffer.alloc(32, 9));

/** Monday 2026-03-02 09:00 in Asia/Shanghai (01:00 UTC). */
export const MONDAY_9 = Date.UTC(2026, 2, 2, 1, 0, 0);
export const at = (hhmm: string, dayOffset = 0) => {
  const [h, m] = hhmm.split(':').map(Number) as [number, number];
  return Date.UTC(2026, 2, 2 + dayOffset, h - 8, m, 0);
};

export const GATES: GatesConfigInput = {
  zones: [{ id: 'campus' }, { id: 'lab' }],
  readers: [
    { reader: 'in-1', zone: 'campus', direction: 'in' },
    { reader: 'out-1', zone: 'campus', direction: 'out' },
    { reader: 'lab-1', zone: 'lab', direction: 'in' },
  ],
  groups: [
    { id: 'staff', windows: [{ from: '00:00', to: '24:00' }] },
    { id: 'students', windows: [{ days: [1, 2, 3, 4, 5], from: '08:00', to: '18:00' }], zones: ['campus'] },
  ],
  persons: [
    { id: 'EMP-1', group: 'staff' },
    { id: 'EMP-2', group: 'staff' },
    { id: 'STU-1', group: 'students' },
  ],
};

export interface Gates {
  rules: GatesRules;
  ledger: SqliteLedger;
  clock: ReturnType<typeof manualClock>;
  config: GatesConfig;
  reopen(): Promise<Gates>;
}

export function openGates(
  opts: { path?: string; clock?: ReturnType<typeof manualClock>; config?: Partial<GatesConfigInput> } = {},
): Gates {
  const path = opts.path ?? tempLedgerFile('gates-');
  const clock = opts.clock ?? manualClock(MONDAY_9);
  const ledger = openTempLedger({ path, clock });
  const config = gatesConfigSchema.parse({ ...GATES, ...opts.config });
  const rules = createGatesRules({ ledger, config, holderDigests: DIGESTS, clock, logger: silentLogger });
  return {
    rules,
    ledger,
    clock,
    config,
    async reopen() {
      await ledger.close();
      return openGates({ ...opts, path, clock });
    },
  };
}

let n = 0;
export const face = (personId: string | null, extra: Partial<FaceRecognition> = {}): FaceRecognition => ({
  eventId: `ev-${++n}`,
  personId,
  score: 0.95,
  liveness: 'pass',
  at: MONDAY_9,
  ...extra,
});
