import { describe, expect, it } from 'vitest';
import { gatesConfigSchema } from './gates-config.ts';
import { at, face, GATES, openGates } from './test-support.ts';

const attendance = (g: ReturnType<typeof openGates>) =>
  g.ledger.db.prepare("SELECT count(*) AS n FROM records WHERE kind = 'attendance'").get() as { n: number };

describe('access windows, in the site time zone', () => {
  it('opens from `from` (inclusive) to `to` (exclusive), on the listed weekdays only', async () => {
    const g = openGates();
    const cases: Array<[string, number, string]> = [
      ['07:59', 0, 'OUTSIDE_WINDOW'],
      ['08:00', 0, 'open'],
      ['17:59', 0, 'open'],
      ['18:00', 0, 'OUTSIDE_WINDOW'],
      ['10:00', 5, 'OUTSIDE_WINDOW'], // Saturday
    ];
    for (const [hhmm, day, expected] of cases) {
      g.clock.set(at(hhmm, day));
      // in, then out again, so anti-passback never decides here
      const d = await g.rules.decide('in-1', face('STU-1'));
      expect(d.outcome === 'open' ? 'open' : d.reason, `${hhmm} +${day}d`).toBe(expected);
      if (d.outcome === 'open') await g.rules.decide('out-1', face('STU-1'));
    }
  });

  it('refuses a window that ends before it starts, naming the fix', () => {
    const bad = { ...GATES, groups: [{ id: 'x', windows: [{ from: '22:00', to: '06:00' }] }] };
    const result = gatesConfigSchema.safeParse(bad);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toMatch(/split a window across midnight/);
  });

  it('caps the lockout threshold at 5 (004 §5.3.2 b) 6))', () => {
    expect(gatesConfigSchema.safeParse({ ...GATES, lockout: { maxConsecutiveFailures: 6 } }).success).toBe(
      false,
    );
    expect(gatesConfigSchema.parse(GATES).lockout).toEqual({ maxConsecutiveFailures: 5, periodMinutes: 30 });
  });
});

describe('lockout after consecutive failures', () => {
  it('locks on the 5th failure, not the 4th, and releases exactly at the end of the period', async () => {
    const g = openGates();
    for (let i = 0; i < 4; i++)
      expect(await g.rules.decide('lab-1', face('EMP-1', { score: 0.5 }))).toMatchObject({
        reason: 'NOT_RECOGNIZED',
      });
    expect(await g.rules.decide('in-1', face('EMP-2'))).toMatchObject({ outcome: 'open' }); // other person, other reader
    expect(await g.rules.decide('lab-1', face('EMP-1', { liveness: 'fail' }))).toMatchObject({
      reason: 'LIVENESS_FAILED',
    });
    expect(await g.rules.decide('in-1', face('EMP-1'))).toMatchObject({ reason: 'LOCKED_OUT' });
    g.clock.advance(30 * 60_000 - 1);
    expect(await g.rules.decide('in-1', face('EMP-1'))).toMatchObject({ reason: 'LOCKED_OUT' });
    g.clock.advance(1);
    expect(await g.rules.decide('in-1', face('EMP-1'))).toMatchObject({ outcome: 'open' });
  });

  it('treats an unknown liveness result as a failure', async () => {
    const g = openGates();
    expect(await g.rules.decide('in-1', face('EMP-1', { liveness: 'unknown' }))).toMatchObject({
      outcome: 'deny',
      reason: 'LIVENESS_FAILED',
    });
  });

  it('keeps a lockout across a restart: the state commits with the records', async () => {
    let g = openGates();
    for (let i = 0; i < 5; i++) await g.rules.decide('lab-1', face('EMP-1', { score: 0.1 }));
    g = await g.reopen();
    expect(await g.rules.decide('in-1', face('EMP-1'))).toMatchObject({ reason: 'LOCKED_OUT' });
    await g.rules.decide('in-1', face('EMP-2'));
    g = await g.reopen();
    expect(await g.rules.decide('in-1', face('EMP-2'))).toMatchObject({ reason: 'PASSBACK' });
  });
});

describe('one answer and one record per event', () => {
  it('answers concurrent copies of an event once, with one record', async () => {
    const g = openGates();
    const event = face('EMP-1');
    const answers = await Promise.all([1, 2, 3].map(() => g.rules.decide('in-1', event)));
    expect(answers.map((a) => a.outcome)).toEqual(['open', 'open', 'open']);
    expect(attendance(g).n).toBe(1);
    // And a late copy gets the first answer, not a PASSBACK from the state that answer created.
    expect(await g.rules.decide('in-1', event)).toMatchObject({ outcome: 'open' });
    expect(attendance(g).n).toBe(1);
  });

  it('counts a replayed failure once: five copies of one miss lock nobody', async () => {
    const g = openGates();
    const miss = face('EMP-1', { score: 0.2 });
    for (let i = 0; i < 5; i++)
      expect(await g.rules.decide('lab-1', miss)).toMatchObject({ reason: 'NOT_RECOGNIZED' });
    expect(await g.rules.decide('in-1', face('EMP-1'))).toMatchObject({ outcome: 'open' });
    expect(attendance(g).n).toBe(2);
  });

  it('denies a reader placed nowhere (READER_UNASSIGNED), and records that too', async () => {
    const g = openGates();
    expect(await g.rules.decide('stray-9', face('EMP-1'))).toMatchObject({ reason: 'READER_UNASSIGNED' });
    expect(attendance(g).n).toBe(1);
  });

  it('forgets a person: their lockout and presence go with their record', async () => {
    const g = openGates();
    await g.rules.decide('in-1', face('EMP-1'));
    g.rules.forgetPerson('EMP-1');
    expect(await g.rules.decide('in-1', face('EMP-1'))).toMatchObject({ outcome: 'open' });
    const rows = g.ledger.db.prepare('SELECT count(*) AS n FROM gate_presence').get() as { n: number };
    expect(rows.n).toBe(1);
  });
});
