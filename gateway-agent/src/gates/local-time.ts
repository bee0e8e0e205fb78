import { GatewayError } from '../gateway-error.ts';

export interface LocalTime {
  /** ISO weekday, 1 = Monday … 7 = Sunday. */
  weekday: number;
  /** 'HH:MM', compares as a string with the config's window bounds. */
  hhmm: string;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** The site's wall clock (access windows are local: 07:00 in Asia/Shanghai is 23:00 UTC the day before). */
export function createLocalTime(timezone: string): (epochMs: number) => LocalTime {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
  } catch (cause) {
    throw new GatewayError(
      'GATES_TIMEZONE',
      `scenarios.gates.timezone: "${timezone}" is not an IANA time zone`,
      'use a name such as Asia/Shanghai',
      { cause },
    );
  }
  return (epochMs) => {
    const parts = format.formatToParts(new Date(epochMs));
    const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '00';
    return { weekday: WEEKDAYS[get('weekday')] ?? 0, hhmm: `${get('hour')}:${get('minute')}` };
  };
}
