/**
 * Masks personal identifiers for logs, APIs and dashboards (DESIGN invariant 5): keep enough to
 * recognise the card at the counter, never enough to use it. `6222021234561234` → `6222********1234`.
 */
export function maskCardNumber(value: string): string {
  if (value.length <= 8) return '*'.repeat(value.length);
  return value.slice(0, 4) + '*'.repeat(value.length - 8) + value.slice(-4);
}

/** ID numbers and phones keep only the last four characters. */
export function maskTail(value: string, keep = 4): string {
  if (value.length <= keep) return '*'.repeat(value.length);
  return '*'.repeat(value.length - keep) + value.slice(-keep);
}
