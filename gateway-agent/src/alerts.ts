import type { Logger } from './logger.ts';

/** An operational alert: a stable code, what happened, and what to do. Never a secret or card number. */
export interface Alert {
  code: string;
  message: string;
  hint?: string;
  at: string;
}

/**
 * Keeps the recent alerts for `/api/status` and the installer, logs each once, and lets a condition
 * that has cleared (disk space back, backlog drained) withdraw its alert by code.
 */
export class AlertBoard {
  private readonly active = new Map<string, Alert>();
  constructor(
    private readonly logger: Logger,
    private readonly onRaise?: (alert: Alert) => void,
  ) {}

  raise(alert: Omit<Alert, 'at'> & { at?: string }): void {
    const full: Alert = { ...alert, at: alert.at ?? new Date().toISOString() };
    const isNew = !this.active.has(full.code);
    this.active.set(full.code, full);
    if (isNew) {
      this.logger.warn({ alert: full.code, hint: full.hint }, full.message);
      this.onRaise?.(full);
    }
  }

  clear(code: string): void {
    if (this.active.delete(code)) this.logger.info({ alert: code }, 'alert cleared');
  }

  list(): Alert[] {
    return [...this.active.values()];
  }
}
