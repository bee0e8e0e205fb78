import { describe, expect, it } from 'vitest';
import { planStages, StagePlanError } from './stage-plan.ts';

const ids = (n: number) => Array.from({ length: n }, (_, i) => `t-${String(i).padStart(2, '0')}`);

describe('planStages', () => {
  it('puts the canaries first, then waves up to each cumulative percentage', () => {
    expect(planStages({ terminalIds: ids(10), canary: 1, waves: [50, 100] })).toEqual([
      ['t-00'],
      ['t-01', 't-02', 't-03', 't-04'],
      ['t-05', 't-06', 't-07', 't-08', 't-09'],
    ]);
  });

  it('orders by id so a restart plans the same stages whatever order the terminals were found in', () => {
    const shuffled = ['t-03', 't-00', 't-02', 't-01'];
    expect(planStages({ terminalIds: shuffled, canary: 1, waves: [] })).toEqual([
      ['t-00'],
      ['t-01', 't-02', 't-03'],
    ]);
  });

  it('implies a last wave of 100 % and never leaves a terminal out', () => {
    const stages = planStages({ terminalIds: ids(7), canary: 2, waves: [30] });
    expect(stages.flat().sort()).toEqual(ids(7));
    // 30 % of 7 is 2.1, rounded up to 3: one more terminal after the two canaries.
    expect(stages).toEqual([['t-00', 't-01'], ['t-02'], ['t-03', 't-04', 't-05', 't-06']]);
  });

  it('rounds a wave up instead of planning an empty stage', () => {
    expect(planStages({ terminalIds: ids(3), canary: 0, waves: [10, 20, 100] })).toEqual([
      ['t-00'],
      ['t-01', 't-02'],
    ]);
  });

  it('skips a wave whose share the canaries already cover', () => {
    expect(planStages({ terminalIds: ids(4), canary: 2, waves: [25, 100] })).toEqual([
      ['t-00', 't-01'],
      ['t-02', 't-03'],
    ]);
  });

  it('refuses falling or out-of-range percentages and a negative canary', () => {
    expect(() => planStages({ terminalIds: ids(4), canary: 1, waves: [50, 40] })).toThrow(StagePlanError);
    expect(() => planStages({ terminalIds: ids(4), canary: 1, waves: [0] })).toThrow(StagePlanError);
    expect(() => planStages({ terminalIds: ids(4), canary: 1, waves: [120] })).toThrow(StagePlanError);
    expect(() => planStages({ terminalIds: ids(4), canary: -1, waves: [] })).toThrow(StagePlanError);
  });

  it('plans nothing for no terminals', () => {
    expect(planStages({ terminalIds: [], canary: 3, waves: [50] })).toEqual([]);
  });
});
