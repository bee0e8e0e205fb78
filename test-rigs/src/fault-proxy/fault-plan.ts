/**
 * What the fault proxy does to batch uploads, as data. A plan gives each fault kind a probability;
 * for every upload request ONE uniform draw picks at most one fault (the kinds are tried in the
 * fixed order of FAULT_KINDS, so the same seed and the same request order give the same faults).
 * Hence the probabilities must sum to at most 1; the rest is the chance of a clean forward.
 */
export const FAULT_KINDS = [
  'drop-request',
  'drop-response',
  'delay',
  'duplicate-request',
  'error-500',
  'garbage-body',
  'wrong-key-ack',
  'replayed-ack',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

export type FaultPlan = Partial<Record<FaultKind, number>> & {
  /** How long a 'delay' fault holds the request before forwarding it; default 200 ms. */
  delayMs?: number;
};

export const DEFAULT_DELAY_MS = 200;

export class FaultPlanError extends Error {
  override readonly name = 'FaultPlanError';
  constructor(
    readonly code: 'FAULT_PLAN_KIND' | 'FAULT_PLAN_RATE' | 'FAULT_PLAN_SUM' | 'FAULT_PLAN_DELAY',
    message: string,
  ) {
    super(message);
  }
}

function isFaultKind(s: string): s is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(s);
}

/** Checks a plan built in code (the TypeScript type cannot bound the numbers). */
export function checkFaultPlan(plan: FaultPlan): FaultPlan {
  let sum = 0;
  for (const [key, value] of Object.entries(plan)) {
    if (key === 'delayMs') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
        throw new FaultPlanError(
          'FAULT_PLAN_DELAY',
          `delayMs: expected a non-negative integer, got ${value}`,
        );
      continue;
    }
    if (!isFaultKind(key))
      throw new FaultPlanError(
        'FAULT_PLAN_KIND',
        `${key}: unknown fault kind (one of ${FAULT_KINDS.join(', ')})`,
      );
    if (typeof value !== 'number' || !(value >= 0 && value <= 1))
      throw new FaultPlanError('FAULT_PLAN_RATE', `${key}: expected a probability in [0, 1], got ${value}`);
    sum += value;
  }
  // A tiny tolerance so that e.g. eight rates of 0.125 written as decimals still pass.
  if (sum > 1 + 1e-9)
    throw new FaultPlanError(
      'FAULT_PLAN_SUM',
      `fault probabilities sum to ${sum}; at most one fault fires per request, so the sum must be <= 1`,
    );
  return plan;
}

/** Parses the CLI form `drop-request=0.1,garbage-body=0.05,delayMs=500` (empty = no faults). */
export function parseFaultPlan(spec: string): FaultPlan {
  const plan: FaultPlan = {};
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [key = '', raw = '', ...rest] = part.split('=').map((s) => s.trim());
    if (rest.length > 0 || raw === '')
      throw new FaultPlanError('FAULT_PLAN_RATE', `${part}: expected kind=probability`);
    const value = Number(raw);
    if (key === 'delayMs') plan.delayMs = value;
    else if (isFaultKind(key)) plan[key] = value;
    else
      throw new FaultPlanError(
        'FAULT_PLAN_KIND',
        `${key}: unknown fault kind (one of ${FAULT_KINDS.join(', ')})`,
      );
  }
  return checkFaultPlan(plan);
}

/** Picks the fault for one request from one uniform draw `u` in [0, 1), or null for a clean forward. */
export function pickFault(plan: FaultPlan, u: number): FaultKind | null {
  let edge = 0;
  for (const kind of FAULT_KINDS) {
    edge += plan[kind] ?? 0;
    if (u < edge) return kind;
  }
  return null;
}
