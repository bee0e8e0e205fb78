import { GatewayError } from '../gateway-error.ts';

/**
 * The calendar day a sale counts towards, in the canteen's configured time zone (a per-day limit
 * resets at local midnight, not at UTC midnight, which is 08:00 in Asia/Shanghai). 'YYYY-MM-DD', so
 * days compare as strings.
 */
export function createLocalDay(timezone: string): (epochMs: number) => string {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
  } catch (cause) {
    throw new GatewayError(
      'CANTEEN_TIMEZONE',
      `limits.timezone: "${timezone}" is not an IANA time zone`,
      'use a name such as Asia/Shanghai',
      { cause },
    );
  }
  return (epochMs) => {
    const parts = format.formatToParts(new Date(epochMs));
    const get = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '00';
    return `${get('year')}-${get('month')}-${get('day')}`;
  };
}
