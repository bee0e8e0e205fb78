import { sm3Hex } from '@sceneway/cloud-sync';
import type { PlateSighting } from '@sceneway/device-drivers';
import { describe, expect, it } from 'vitest';
import { DIGESTS } from '../canteen/test-support.ts';
import { manualClock } from '../clock.ts';
import { openTempLedger } from '../ledger/temp-ledger.ts';
import { silentLogger } from '../logger.ts';
import { parkingFeeFen } from './fee.ts';
import { parkingConfigSchema } from './parking-config.ts';
import { createParkingRules } from './parking-rules.ts';

/** Parking decisions on the production ledger in a temp file, with a movable clock. */
const START = Date.UTC(2026, 2, 2, 1, 0, 0);
const MIN = 60_000;
const FEES = { freeMinutes: 15, perHourFen: 500, dailyCapFen: 4000 };

function lot(overrides: Record<string, unknown> = {}) {
  const ledger = openTempLedger();
  const clock = manualClock(START);
  const alerts = new Map<string, string>();
  const rules = createParkingRules({
    ledger,
    config: parkingConfigSchema.parse({ fees: FEES, ...overrides }),
    holderDigests: DIGESTS,
    clock,
    logger: silentLogger,
    alerts: { raise: (code, message) => alerts.set(code, message) },
  });
  let n = 0;
  const sight = (
    lane: 'entry' | 'exit',
    plate: string,
    confidence = 0.95,
    extra: Partial<PlateSighting> = {},
  ) =>
    rules.decide(`${lane}-cam`, {
      eventId: `${lane}-cam:${++n}`,
      plate,
      confidence,
      lane,
      at: clock.now(),
      ...extra,
    });
  const rows = () =>
    ledger.db
      .prepare<[], { kind: string; amount_fen: number | null; payload: string; terminal_id: string }>(
        'SELECT kind, amount_fen, payload, terminal_id FROM records ORDER BY seq',
      )
      .all()
      .map((r) => ({ ...r, payload: JSON.parse(r.payload) as Record<string, unknown> }));
  return { ledger, clock, alerts, rules, sight, rows };
}

describe('parking fee', () => {
  it('is free within the free minutes, per started hour after, capped per 24 hours, in integer fen', () => {
    expect(parkingFeeFen(0, 15 * MIN, FEES)).toEqual({ fen: 0, minutes: 15 });
    expect(parkingFeeFen(0, 15 * MIN + 1000, FEES)).toEqual({ fen: 500, minutes: 16 });
    expect(parkingFeeFen(0, 61 * MIN, FEES).fen).toBe(1000);
    expect(parkingFeeFen(0, 10 * 60 * MIN, FEES).fen).toBe(4000);
    // One full day at the cap, then 2 started hours.
    expect(parkingFeeFen(0, (24 * 60 + 90) * MIN, FEES).fen).toBe(4000 + 1000);
    expect(Number.isInteger(parkingFeeFen(0, 12_345_678, FEES).fen)).toBe(true);
  });
});

describe('parking rules', () => {
  it('opens at entry, charges at exit: a sale record with the fee, plate only as digest and sealed pii', async () => {
    const p = lot();
    expect(await p.sight('entry', '京A12345')).toEqual({ outcome: 'open' });
    p.clock.advance(2 * 60 * MIN + 5 * MIN);
    expect(await p.sight('exit', '京A12345')).toMatchObject({ outcome: 'open' });
    const [entry, exit] = p.rows();
    expect(entry).toMatchObject({ kind: 'plate-sighting', amount_fen: null, payload: { lane: 'entry' } });
    expect(exit).toMatchObject({
      kind: 'sale',
      amount_fen: 1500,
      terminal_id: 'exit-cam',
      payload: { lane: 'exit', minutes: 125, feeFen: 1500, sessionId: entry?.payload.sessionId },
    });
    expect(exit?.payload.plateDigest).toBe(entry?.payload.plateDigest);
    const file = JSON.stringify(p.ledger.db.prepare('SELECT * FROM records').all());
    expect(file).not.toContain('京A12345');
  });

  it('treats the same plate on the same lane within the window as one sighting', async () => {
    const p = lot();
    await p.sight('entry', '京A12345');
    p.clock.advance(5000);
    expect(await p.sight('entry', '京A12345')).toEqual({ outcome: 'open' });
    expect(p.rows()).toHaveLength(1);
    // After the window it is a new read (a car that went round): a second entry, queued for review.
    p.clock.advance(60_000);
    const again: PlateSighting = {
      eventId: 'cam:again',
      plate: '京A12345',
      confidence: 0.95,
      lane: 'entry',
      at: 0,
    };
    expect(await p.rules.decide('entry-cam', again)).toEqual({ outcome: 'open' });
    expect(p.rules.pendingReviews().map((r) => r.reason)).toEqual(['ENTRY_WHILE_INSIDE']);
    // One record for that passage, and a replay of it gets the same answer: the car was let in.
    expect(p.rows()).toHaveLength(2);
    expect(await p.rules.decide('entry-cam', again)).toEqual({ outcome: 'open' });
  });

  it('flags a low-confidence read one character away from a car the lane just saw as a misread of it', async () => {
    const p = lot();
    await p.sight('entry', '京A12345', 0.97);
    expect(await p.sight('entry', '京A12845', 0.55)).toEqual({ outcome: 'open' });
    const rows = p.rows();
    expect(rows).toHaveLength(2);
    expect(rows[1]).toMatchObject({ kind: 'plate-sighting', payload: { flag: 'LIKELY_MISREAD' } });
    expect(rows[1]?.payload.ofPlateDigest).toBe(rows[0]?.payload.plateDigest);
    // Confident, it is another car: a session of its own.
    await p.sight('entry', '京A12346', 0.97);
    expect(p.rows()[2]).toMatchObject({ payload: { lane: 'entry', pass: null } });
  });

  it('sends a low-confidence exit one character from a car inside to manual review, barrier closed', async () => {
    const p = lot();
    await p.sight('entry', '京A12345');
    p.clock.advance(30 * MIN);
    expect(await p.sight('exit', '京A1Z345', 0.6)).toMatchObject({
      outcome: 'deny',
      reason: 'MANUAL_REVIEW',
    });
    expect(p.rules.pendingReviews()).toMatchObject([{ reason: 'LIKELY_MISREAD', terminalId: 'exit-cam' }]);
    expect(p.alerts.get('PARKING_MANUAL_REVIEW')).toMatch(/^1 parking passage/);
  });

  it('queues an exit without a matching entry for manual review, raising the alert', async () => {
    const p = lot();
    expect(await p.sight('exit', '粤B99999')).toMatchObject({ outcome: 'deny', reason: 'MANUAL_REVIEW' });
    expect(p.rules.pendingReviews()).toMatchObject([{ reason: 'EXIT_WITHOUT_ENTRY' }]);
    expect(p.rows()[0]).toMatchObject({ kind: 'plate-sighting', payload: { review: 'EXIT_WITHOUT_ENTRY' } });
    expect(p.alerts.has('PARKING_MANUAL_REVIEW')).toBe(true);
  });

  it('lets staff and a running monthly pass out free, and charges a pass that has ended', async () => {
    const p = lot({
      whitelist: [
        { plate: '京A00001', kind: 'staff' },
        { plate: '京A00002', kind: 'monthly', validUntil: '2026-03-31' },
        { plate: '京A00003', kind: 'monthly', validUntil: '2026-02-28' },
      ],
    });
    for (const plate of ['京A00001', '京A00002', '京A00003']) await p.sight('entry', plate);
    p.clock.advance(3 * 60 * MIN);
    for (const plate of ['京A00001', '京A00002', '京A00003']) await p.sight('exit', plate);
    const exits = p.rows().filter((r) => r.payload.lane === 'exit');
    expect(exits.map((r) => [r.kind, r.amount_fen, r.payload.pass])).toEqual([
      ['plate-sighting', null, 'staff'],
      ['plate-sighting', null, 'monthly'],
      ['sale', 1500, null],
    ]);
  });

  it('refuses a blacklisted plate at the entry and opens no session', async () => {
    const p = lot({ blacklist: [{ plate: '京A66666' }] });
    expect(await p.sight('entry', '京A·66666')).toMatchObject({ outcome: 'deny', reason: 'BLACKLISTED' });
    expect(await p.sight('exit', '京A66666')).toMatchObject({ reason: 'MANUAL_REVIEW' });
  });

  it('answers a replayed event with its first decision and records nothing new', async () => {
    const p = lot();
    const s: PlateSighting = {
      eventId: 'cam:evt-1',
      plate: '京A12345',
      confidence: 0.9,
      lane: 'entry',
      at: START,
    };
    await p.rules.decide('entry-cam', s);
    p.clock.advance(10 * MIN);
    expect(await p.rules.decide('entry-cam', s)).toEqual({ outcome: 'open' });
    expect(p.rows()).toHaveLength(1);
  });

  it("stores a sighting's snapshot sealed under its SM3 digest, found again by the sighting", async () => {
    const p = lot();
    const jpeg = Buffer.from([0xff, 0xd8, 1, 2, 3, 0xff, 0xd9]);
    await p.sight('entry', '京A12345', 0.95, { eventId: 'cam:snap-1' });
    const digest = p.rules.attachSnapshot('cam:snap-1', jpeg);
    expect(digest).toBe(sm3Hex(jpeg));
    expect(p.rules.snapshotOf('cam:snap-1')).toEqual(jpeg);
    const sealed = p.ledger.db
      .prepare<[], { digest: string; sealed: Buffer }>('SELECT digest, sealed FROM parking_snapshots')
      .all();
    expect(sealed).toHaveLength(1);
    expect(sealed[0]?.sealed.includes(jpeg)).toBe(false);
    expect(p.rules.snapshot(sealed[0]?.digest ?? '')).toEqual(jpeg);
  });

  it('deletes snapshots older than the retention period', async () => {
    const p = lot({ snapshotRetentionDays: 30 });
    await p.sight('entry', '京A12345', 0.95, { eventId: 'cam:old' });
    p.rules.attachSnapshot('cam:old', Buffer.from([0xff, 0xd8, 9, 0xff, 0xd9]));
    p.clock.advance(31 * 86_400_000);
    await p.sight('entry', '京B00000');
    expect(p.rules.snapshotOf('cam:old')).toBeUndefined();
    expect(p.ledger.db.prepare('SELECT count(*) AS n FROM parking_snapshots').get()).toEqual({ n: 0 });
  });
});
