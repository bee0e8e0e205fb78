import { censorUnlessMasked, redactedLogPaths } from '@sceneway/core';
import pino, { type Logger } from 'pino';

/**
 * The bank's structured log (004 §5.1.1.1.5: timestamped, protected log lines). It redacts the same
 * real field names as the agent's logger (@sceneway/core log-redaction.ts): the bank holds its own
 * signing key, the admin token and every box's sealed personal data, and until issue #11 its logger
 * redacted nothing. `destination` lets a test capture every line (the log-scan test).
 */
export function createBankLogger(
  options: { level?: string; destination?: NodeJS.WritableStream } = {},
): Logger {
  const base = {
    name: 'sceneway-bank',
    level: options.level ?? 'info',
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: redactedLogPaths(), censor: censorUnlessMasked },
  };
  return options.destination ? pino(base, options.destination as pino.DestinationStream) : pino(base);
}
