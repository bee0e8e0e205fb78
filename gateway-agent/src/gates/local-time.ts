import { createZonedParts } from '../site-clock.ts';

export interface LocalTime {
  /** ISO weekday, 1 = Monday … 7 = Sunday. */
  weekday: number;
  /** 'HH:MM', compares as a string with the config's window bounds. */
  hhmm: string;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** The site's wall clock (access windows are local: 07:00 in Asia/Shanghai is 23:00 UTC the day before). */
export function createLocalTime(timezone: string): (epochMs: number) => LocalTime {
  const partsAt = createZonedParts(
    timezone,
    { weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' },
    { code: 'GATES_TIMEZONE', field: 'scenarios.gates.timezone' },
  );
  return (epochMs) => {
    const get = partsAt(epochMs);
    return { weekday: WEEKDAYS[get('weekday')] ?? 0, hhmm: `${get('hour')}:${get('minute')}` };
  };
}
