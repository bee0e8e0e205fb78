import type { NakReasonName, PosMessage } from './messages.ts';

/**
 * The box waits for one answer at a time (it is the bus master): this holds that wait. The timeout runs
 * from the end of the box's frame to the first byte of the answer, and every received byte restarts it,
 * so a long answer at 9600 baud is not cut off half way; a hard deadline stops a junk stream from
 * holding the bus for ever (docs/protocols/canteen-pos.md §4.1).
 */
export type TurnOutcome =
  | { kind: 'answered'; message?: PosMessage }
  /** RS-485: the polled terminal answered with a request; `reply` is its answer, once decided. */
  | { kind: 'request'; reply: Promise<Buffer> }
  /** A firmware answer (FW_STATUS, FW_CHUNK_ACK) whose MAC and counter verified, or an ACK to a firmware frame. */
  | { kind: 'firmware'; message: PosMessage }
  | { kind: 'nak'; reason?: NakReasonName }
  | { kind: 'bad-answer' }
  | { kind: 'timeout' }
  | { kind: 'closed' };

export interface PendingAnswer {
  readonly address: number;
  readonly seq: number;
  readonly outcome: Promise<TurnOutcome>;
  settle(outcome: TurnOutcome): void;
  /** Bytes arrived: push the timeout back, but never past the hard deadline. */
  activity(): void;
}

export function waitForAnswer(opts: {
  address: number;
  seq: number;
  timeoutMs: number;
  hardDeadlineMs: number;
}): PendingAnswer {
  let settled = false;
  let timer: NodeJS.Timeout | undefined;
  let resolveOutcome: (o: TurnOutcome) => void = () => undefined;
  const outcome = new Promise<TurnOutcome>((resolve) => {
    resolveOutcome = resolve;
  });
  const started = Date.now();
  const settle = (o: TurnOutcome) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    clearTimeout(hard);
    resolveOutcome(o);
  };
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => settle({ kind: 'timeout' }), opts.timeoutMs);
  };
  const hard = setTimeout(() => settle({ kind: 'timeout' }), Math.max(opts.hardDeadlineMs, opts.timeoutMs));
  arm();
  return {
    address: opts.address,
    seq: opts.seq,
    outcome,
    settle,
    activity() {
      if (!settled && Date.now() - started < opts.hardDeadlineMs) arm();
    },
  };
}
