import type { ParkingFees } from './parking-config.ts';

const MINUTE_MS = 60_000;
const DAY_MINUTES = 24 * 60;

/**
 * The fee of one stay, in integer fen. A stay of at most `freeMinutes` is free. Otherwise each started
 * hour costs `perHourFen`, and each 24 hours from the entry cost at most `dailyCapFen`: whole days at
 * the cap, then the started hours of the last part, capped again. Started minutes count (a stay of
 * 15 min 1 s is 16 minutes), so a car never leaves a second early for free.
 */
export function parkingFeeFen(
  entryAt: number,
  exitAt: number,
  fees: ParkingFees,
): { fen: number; minutes: number } {
  const minutes = Math.max(0, Math.ceil((exitAt - entryAt) / MINUTE_MS));
  if (minutes <= fees.freeMinutes) return { fen: 0, minutes };
  const fullDays = Math.floor(minutes / DAY_MINUTES);
  const rest = minutes - fullDays * DAY_MINUTES;
  const dayFee = Math.min(fees.dailyCapFen, (DAY_MINUTES / 60) * fees.perHourFen);
  const restFee = Math.min(fees.dailyCapFen, Math.ceil(rest / 60) * fees.perHourFen);
  return { fen: fullDays * dayFee + restFee, minutes };
}
