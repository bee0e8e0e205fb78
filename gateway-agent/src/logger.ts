import { censorUnlessMasked, redactedLogPaths, type SafeLogFields } from '@sceneway/core';
import { type Logger, pino } from 'pino';

export type { Logger };

/**
 * The logger the canteen rules get: any pino Logger is one, but its fields are SafeLogFields, so a
 * raw UID, token or key in a rules log line is a compile error (DESIGN invariant 5).
 */
export interface SafeLogger {
  debug(obj: SafeLogFields, msg?: string): void;
  info(obj: SafeLogFields, msg?: string): void;
  warn(obj: SafeLogFields, msg?: string): void;
  error(obj: SafeLogFields, msg?: string): void;
}

/**
 * Structured JSON logs (pino). Redaction is a second line of defence: code must already log masked
 * values (maskCredential in @sceneway/core), but a stray password or key field is censored rather than written
 * (bank standard 004 §5.1.1.1.5: logs carry timestamps and are protected; DESIGN invariant 5/7).
 */
export function createLogger(
  options: { level?: string; name?: string; destination?: NodeJS.WritableStream } = {},
) {
  const base = {
    name: options.name ?? 'sceneway',
    level: options.level ?? process.env.SCENEWAY_LOG_LEVEL ?? 'info',
    timestamp: pino.stdTimeFunctions.isoTime,
    // The real field names, shared with the bank's logger (@sceneway/core log-redaction.ts).
    redact: { paths: redactedLogPaths(), censor: censorUnlessMasked },
  };
  return options.destination ? pino(base, options.destination as pino.DestinationStream) : pino(base);
}

/** A logger that discards everything; for tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
