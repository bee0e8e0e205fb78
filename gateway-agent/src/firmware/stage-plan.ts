/**
 * How a campaign's terminals are split into stages: first `canary` terminals on their own, then waves
 * that each bring the share of the whole target up to a cumulative percentage. Pure, so the split is
 * the same on every restart (the terminals are ordered by id, never by the order a scan found them).
 */
export interface StagePlanInput {
  terminalIds: readonly string[];
  /** Terminals in the first stage; 0 = no canary stage. */
  canary: number;
  /** Cumulative percentages of the target after each wave, ascending, e.g. [25, 100]; 100 is implied last. */
  waves: readonly number[];
}

export class StagePlanError extends Error {}

export function planStages(input: StagePlanInput): string[][] {
  const ids = [...new Set(input.terminalIds)].sort();
  if (!Number.isInteger(input.canary) || input.canary < 0)
    throw new StagePlanError(`canary must be a whole number ≥ 0, not ${input.canary}`);
  let previous = 0;
  for (const pct of input.waves) {
    if (!(pct > 0 && pct <= 100))
      throw new StagePlanError(`a wave percentage must be in (0, 100], not ${pct}`);
    if (pct <= previous)
      throw new StagePlanError(
        `wave percentages must rise (cumulative share of the target): ${input.waves.join(', ')}`,
      );
    previous = pct;
  }
  const stages: string[][] = [];
  const canary = Math.min(input.canary, ids.length);
  if (canary > 0) stages.push(ids.slice(0, canary));
  let taken = canary;
  const waves = input.waves.at(-1) === 100 ? input.waves : [...input.waves, 100];
  for (const pct of waves) {
    // Rounded up: a 10 % wave of 3 terminals still updates one, it never stalls on an empty stage.
    const upTo = Math.max(taken, Math.ceil((pct / 100) * ids.length));
    if (upTo > taken) stages.push(ids.slice(taken, upTo));
    taken = upTo;
  }
  return stages;
}
