import { createZonedParts } from '../site-clock.ts';

/**
 * The calendar day a sale counts towards, in the canteen's configured time zone (a per-day limit
 * resets at local midnight, not at UTC midnight, which is 08:00 in Asia/Shanghai). 'YYYY-MM-DD', so
 * days compare as strings.
 */
export function createLocalDay(timezone: string): (epochMs: number) => string {
  const partsAt = createZonedParts(
    timezone,
    { year: 'numeric', month: '2-digit', day: '2-digit' },
    { code: 'CANTEEN_TIMEZONE', field: 'limits.timezone' },
  );
  return (epochMs) => {
    const get = partsAt(epochMs);
    return `${get('year')}-${get('month')}-${get('day')}`;
  };
}
