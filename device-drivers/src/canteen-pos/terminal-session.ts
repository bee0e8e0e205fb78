import type { TerminalEventOf, TerminalKey } from '../driver-api.ts';
import type { NakReasonName, PosMessage, PosMessageOf } from './messages.ts';
import { ReplyCache } from './reply-cache.ts';
import type { CanteenPosTerminalConfig } from './schema.ts';
import { SessionAuth } from './session-auth.ts';

/**
 * What the box knows about one terminal on the line: up/down, when it last answered, the seq of the
 * next box frame, and the replies it may have to send again. Up/down events are emitted on edges only,
 * so the agent never sees "down" twice in a row.
 */
export type TerminalState = 'unknown' | 'up' | 'down';

/** What the box heard back for one firmware frame (after its tries in one turn). */
export type FirmwareFrameOutcome =
  | { kind: 'answer'; message: PosMessage }
  | { kind: 'nak'; reason: NakReasonName }
  | { kind: 'no-answer' }
  | { kind: 'no-session' }
  /** The driver is stopped (or stopping): nothing more goes out. */
  | { kind: 'stopped' };

export interface FirmwareFrameRequest {
  message: PosMessage;
  /** How long to wait for the answer to each send (FW_ACTIVATE: the till verifies first). */
  answerTimeoutMs: number;
  settle(outcome: FirmwareFrameOutcome): void;
}

export class TerminalSession {
  readonly cache = new ReplyCache();
  state: TerminalState = 'unknown';
  lastHeardAt = 0;
  lastPolledAt = Number.NEGATIVE_INFINITY;
  /** null = send TIME_SYNC at the next turn (after start and after every comeback). */
  lastTimeSyncAt: number | null = null;
  lastStatus: PosMessageOf<'status'> | undefined;
  /** v2: the till's session (mutual challenge, session keys, MAC counters). Unused on a v1 till. */
  readonly auth: SessionAuth;
  private txSeq: number;

  constructor(
    readonly config: CanteenPosTerminalConfig,
    private readonly emit: (event: TerminalEventOf<'TerminalStatus'>) => void,
    random: () => number,
    keys: (terminalId: string) => readonly TerminalKey[] = () => [],
  ) {
    // A random first seq: a terminal that kept running while the box restarted must not take the box's
    // first frame for a retransmission of the last one it saw.
    this.txSeq = Math.floor(random() * 256) & 0xff;
    this.auth = new SessionAuth(config.address, () => keys(config.id));
  }

  get protocol(): 1 | 2 {
    return this.config.protocol;
  }

  /**
   * Firmware (§13): the box frame a firmware job waits to send in this terminal's next turn, in place
   * of its POLL. One at a time; the poll loop takes it, sends it and settles it with the answer.
   */
  firmwareFrame: FirmwareFrameRequest | null = null;
  private sessionWaiters = new Set<() => void>();

  /** A new session is confirmed: its first box frame is a TIME_SYNC (MAC'd, so only now possible on v2). */
  sessionOpened(): void {
    this.lastTimeSyncAt = null;
    for (const wake of [...this.sessionWaiters]) wake();
  }

  /** Resolves at the next confirmed session (or false after timeoutMs / on abort). */
  nextSession(timeoutMs: number, signal: AbortSignal): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const done = (opened: boolean) => {
        clearTimeout(timer);
        this.sessionWaiters.delete(wake);
        signal.removeEventListener('abort', aborted);
        resolve(opened);
      };
      const wake = () => done(true);
      const aborted = () => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.sessionWaiters.add(wake);
      signal.addEventListener('abort', aborted, { once: true });
    });
  }

  get id(): string {
    return this.config.id;
  }

  get address(): number {
    return this.config.address;
  }

  nextSeq(): number {
    this.txSeq = (this.txSeq + 1) & 0xff;
    return this.txSeq;
  }

  /** The port was (re)opened: no session survives it. */
  portOpened(now: number): void {
    this.auth.end();
    this.resetClock(now);
  }

  /** Restarts the silence clock without changing state: after start and after the port reopens. */
  resetClock(now: number): void {
    this.lastHeardAt = now;
    this.lastPolledAt = Number.NEGATIVE_INFINITY;
  }

  heard(now: number): void {
    this.lastHeardAt = now;
    if (this.state === 'up') return;
    this.state = 'up';
    const firmware = this.lastStatus?.firmwareVersion;
    this.emit({
      type: 'TerminalStatus',
      terminalId: this.id,
      up: true,
      ...(firmware ? { detail: `firmware ${firmware}` } : {}),
    });
  }

  down(reason: string): void {
    this.lastTimeSyncAt = null;
    // Silence, unplug, port closed: the session ends with the line (contract: a session ends ...).
    this.auth.end();
    if (this.state === 'down') return;
    this.state = 'down';
    this.emit({ type: 'TerminalStatus', terminalId: this.id, up: false, detail: reason });
  }

  /** Forget up/down so a restarted driver reports the terminal afresh (the cache stays: see reply-cache.ts). */
  restart(now: number): void {
    this.state = 'unknown';
    this.lastTimeSyncAt = null;
    this.auth.end();
    this.resetClock(now);
  }
}
