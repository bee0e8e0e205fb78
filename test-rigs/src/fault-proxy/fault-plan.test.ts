import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkFaultPlan, FAULT_KINDS, type FaultPlan, parseFaultPlan, pickFault } from './fault-plan.ts';
import { seededRandom } from './seeded-random.ts';

describe('fault plans', () => {
  it('parses the CLI form', () => {
    expect(parseFaultPlan('drop-request=0.1, garbage-body=0.05,delayMs=500')).toEqual({
      'drop-request': 0.1,
      'garbage-body': 0.05,
      delayMs: 500,
    });
    expect(parseFaultPlan('')).toEqual({});
  });

  it.each([
    ['drop-packet=0.1', 'FAULT_PLAN_KIND'],
    ['delay=1.5', 'FAULT_PLAN_RATE'],
    ['delay=-0.1', 'FAULT_PLAN_RATE'],
    ['delay=abc', 'FAULT_PLAN_RATE'],
    ['delay', 'FAULT_PLAN_RATE'],
    ['delay=0.6,error-500=0.6', 'FAULT_PLAN_SUM'],
    ['delayMs=-1', 'FAULT_PLAN_DELAY'],
    ['delayMs=1.5', 'FAULT_PLAN_DELAY'],
  ])('refuses %s with %s', (spec, code) => {
    expect(() => parseFaultPlan(spec)).toThrow(expect.objectContaining({ code }));
  });

  it('refuses a bad plan built in code', () => {
    expect(() => checkFaultPlan({ 'error-500': Number.NaN })).toThrow(
      expect.objectContaining({ code: 'FAULT_PLAN_RATE' }),
    );
  });

  it('picks a fault with its probability mass and none past the sum', () => {
    const plan: FaultPlan = { 'drop-request': 0.25, 'error-500': 0.25 };
    expect(pickFault(plan, 0)).toBe('drop-request');
    expect(pickFault(plan, 0.2499)).toBe('drop-request');
    expect(pickFault(plan, 0.25)).toBe('error-500');
    expect(pickFault(plan, 0.4999)).toBe('error-500');
    expect(pickFault(plan, 0.5)).toBeNull();
    expect(pickFault({}, 0)).toBeNull();
  });

  it('only ever picks a kind with a positive probability, and none exactly when u >= the sum', () => {
    const rates = fc.tuple(...FAULT_KINDS.map(() => fc.double({ min: 0, max: 0.125, noNaN: true })));
    fc.assert(
      fc.property(rates, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (r, u) => {
        const plan: FaultPlan = Object.fromEntries(FAULT_KINDS.map((k, i) => [k, r[i] ?? 0]));
        const sum = r.reduce((a, b) => a + b, 0);
        const kind = pickFault(checkFaultPlan(plan), u);
        if (kind === null) expect(u).toBeGreaterThanOrEqual(sum - 1e-12);
        else expect(plan[kind]).toBeGreaterThan(0);
      }),
    );
  });
});

describe('seeded random', () => {
  it('repeats from a seed and differs between seeds', () => {
    const draw = (seed: number) => {
      const r = seededRandom(seed);
      return [r.next(), r.next(), r.bytes(7).toString('hex'), r.next()];
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
    for (const v of draw(42).filter((x) => typeof x === 'number')) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
    }
  });

  it('is roughly uniform (a broken generator would pile up in a few buckets)', () => {
    const r = seededRandom(1);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 10_000; i++) {
      const b = Math.floor(r.next() * 10);
      buckets[b] = (buckets[b] ?? 0) + 1;
    }
    for (const n of buckets) expect(n).toBeGreaterThan(850);
  });
});
