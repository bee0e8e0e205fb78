import type { GatewayErrorCode } from '@sceneway/core';
import { GatewayError } from './gateway-error.ts';

/** One field of a local time, as Intl names it ('year', 'hour', 'weekday', …). */
export type ZonedPart = (type: Intl.DateTimeFormatPartTypes) => string;

/**
 * Reads an instant on the site's wall clock: limits reset and access windows open at local times, not
 * UTC ones. An unknown zone is refused once, when the scenario starts, naming its config field.
 */
export function createZonedParts(
  timezone: string,
  fields: Intl.DateTimeFormatOptions,
  refusal: { code: GatewayErrorCode; field: string },
): (epochMs: number) => ZonedPart {
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-GB', { ...fields, timeZone: timezone });
  } catch (cause) {
    throw new GatewayError(
      refusal.code,
      `${refusal.field}: "${timezone}" is not an IANA time zone`,
      'use a name such as Asia/Shanghai',
      { cause },
    );
  }
  return (epochMs) => {
    const parts = format.formatToParts(new Date(epochMs));
    return (type) => parts.find((p) => p.type === type)?.value ?? '00';
  };
}
