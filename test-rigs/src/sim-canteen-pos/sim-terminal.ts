import type { Frame } from '@sceneway/device-drivers';
import {
  Command,
  DriverError,
  decodeMessage,
  encodePosFrame,
  type NakReasonName,
  nameOf,
  type PosMessage,
  type PosMessageOf,
  type TerminalRequest,
} from '@sceneway/device-drivers';

/**
 * One simulated canteen terminal: the terminal side of docs/protocols/canteen-pos.md, written from the
 * page. It is stop-and-wait: one request outstanding, resent with the same seq until its answer comes
 * or the tries run out. Behaviour switches (faults) are plain data the test flips.
 */
export type ResultOf<R extends TerminalRequest['type']> = R extends 'sale-request'
  ? PosMessageOf<'sale-result'>
  : R extends 'void-request'
    ? PosMessageOf<'void-result'>
    : R extends 'offline-upload'
      ? PosMessageOf<'upload-result'>
      : R extends 'price-list-request'
        ? PosMessageOf<'price-list'>
        : PosMessageOf<'blacklist-version'>;

const ANSWER_TYPE: Record<TerminalRequest['type'], PosMessage['type']> = {
  'sale-request': 'sale-result',
  'void-request': 'void-result',
  'offline-upload': 'upload-result',
  'price-list-request': 'price-list',
  'blacklist-version-query': 'blacklist-version',
};

/** Box frames a terminal answers (the rest are answers to the terminal, and are never NAKed). */
const BOX_FRAMES_TO_ANSWER: ReadonlySet<number> = new Set([Command.POLL, Command.TIME_SYNC]);

const NAK_FOR_CODE: Record<string, NakReasonName> = {
  POS_UNKNOWN_COMMAND: 'UNKNOWN_COMMAND',
  POS_TLV_MALFORMED: 'TLV_MALFORMED',
  POS_FIELD_MISSING: 'FIELD_MISSING',
  POS_FIELD_INVALID: 'FIELD_INVALID',
};

export interface TerminalFaults {
  /** Answer nothing and send nothing. */
  silent: boolean;
  /** NAK (BUSY) every frame the box sends. */
  nakStorm: boolean;
  /** The next request frame goes out twice back to back, same seq (a terminal that retransmits too eagerly). */
  duplicateNextRequest: boolean;
  /** Ignore the next answer, as if it was lost on the line: the request is then retransmitted. */
  dropNextAnswer: boolean;
}

export interface ReceivedFrame {
  address: number;
  seq: number;
  message: PosMessage;
}

export interface SimTerminalOptions {
  address: number;
  mode: 'rs232' | 'rs485';
  /** RS-232: how long to wait for an answer before sending the request again. */
  answerTimeoutMs: number;
  maxTries: number;
  send(bytes: Buffer): void;
  firmwareVersion?: string;
}

interface Outstanding {
  request: TerminalRequest;
  seq: number;
  frame: Buffer;
  sends: number;
  timer?: NodeJS.Timeout;
  resolve(answer: PosMessage): void;
  reject(error: Error): void;
}

export class SimTerminal {
  readonly faults: TerminalFaults = {
    silent: false,
    nakStorm: false,
    duplicateNextRequest: false,
    dropNextAnswer: false,
  };
  /** Every frame the box sent to this address, duplicates included, in arrival order. */
  readonly received: ReceivedFrame[] = [];
  /** Box clock offset learned from TIME_SYNC (ms, box minus local), and how many syncs arrived. */
  clockOffsetMs = 0;
  timeSyncs = 0;
  polls = 0;
  knownPriceListVersion = 0;
  knownBlacklistVersion = 0;
  offlineCount = 0;
  /** Request frames this terminal put on the line, every retransmission and duplicate included. */
  requestFramesSent = 0;
  private seq = 0;
  private outstanding: Outstanding | null = null;
  private readonly queue: Array<{ begin(): void; reject(error: Error): void }> = [];

  constructor(private readonly options: SimTerminalOptions) {}

  get address(): number {
    return this.options.address;
  }

  /** Sends a request and resolves with its answer (or rejects after the last try, or on a NAK). */
  request<R extends TerminalRequest>(request: R): Promise<ResultOf<R['type']>> {
    return new Promise<PosMessage>((resolve, reject) => {
      const begin = () => {
        this.seq = (this.seq + 1) & 0xff;
        const frame = encodePosFrame(this.address, this.seq, request);
        this.outstanding = { request, seq: this.seq, frame, sends: 0, resolve, reject };
        if (this.options.mode === 'rs232') this.sendOutstanding();
        else this.armOverallTimeout();
      };
      if (this.outstanding) this.queue.push({ begin, reject });
      else begin();
    }) as Promise<ResultOf<R['type']>>;
  }

  /** A frame addressed to this terminal arrived from the box. */
  onFrame(frame: Frame): void {
    if (this.faults.silent) return;
    let message: PosMessage;
    try {
      message = decodeMessage(frame);
    } catch (err) {
      // Doc §3: answers are never NAKed (the request is simply resent); anything else unusable is.
      if (!BOX_FRAMES_TO_ANSWER.has(frame.command) && nameOf(Command, frame.command)) return;
      const code = err instanceof DriverError ? err.code : '';
      this.send(
        encodePosFrame(this.address, frame.seq, {
          type: 'nak',
          reason: NAK_FOR_CODE[code] ?? 'FIELD_INVALID',
        }),
      );
      return;
    }
    this.received.push({ address: frame.address, seq: frame.seq, message });
    if (this.faults.nakStorm) {
      this.send(encodePosFrame(this.address, frame.seq, { type: 'nak', reason: 'BUSY' }));
      return;
    }
    switch (message.type) {
      case 'poll':
        this.polls++;
        this.knownPriceListVersion = message.priceListVersion ?? this.knownPriceListVersion;
        this.knownBlacklistVersion = message.blacklistVersion ?? this.knownBlacklistVersion;
        if (this.options.mode === 'rs485' && this.outstanding) {
          this.sendOutstanding();
        } else {
          this.send(encodePosFrame(this.address, frame.seq, this.status()));
        }
        return;
      case 'time-sync':
        this.timeSyncs++;
        this.clockOffsetMs = message.utcMs - Date.now();
        this.send(encodePosFrame(this.address, frame.seq, { type: 'ack' }));
        return;
      case 'nak':
        if (this.outstanding?.seq === frame.seq)
          this.finish(new Error(`box NAKed the request: ${message.reason}`));
        return;
      default:
        this.onAnswer(frame.seq, message);
    }
  }

  /** An answer is matched by seq and type; anything else is a late duplicate and only logged. */
  private onAnswer(seq: number, message: PosMessage): void {
    const out = this.outstanding;
    if (!out || out.seq !== seq || ANSWER_TYPE[out.request.type] !== message.type) return; // late duplicate
    if (this.faults.dropNextAnswer) {
      this.faults.dropNextAnswer = false;
      return;
    }
    this.finish(message);
  }

  private status(): PosMessageOf<'status'> {
    return {
      type: 'status',
      offlineCount: this.offlineCount,
      offlineCapacity: 5000,
      priceListVersion: this.knownPriceListVersion,
      blacklistVersion: this.knownBlacklistVersion,
      ...(this.options.firmwareVersion ? { firmwareVersion: this.options.firmwareVersion } : {}),
    };
  }

  private sendOutstanding(): void {
    const out = this.outstanding;
    if (!out) return;
    if (out.sends >= this.options.maxTries) {
      this.finish(new Error(`no answer from the box after ${out.sends} tries`));
      return;
    }
    out.sends++;
    this.send(out.frame);
    this.requestFramesSent++;
    if (this.faults.duplicateNextRequest) {
      this.faults.duplicateNextRequest = false;
      this.send(out.frame);
      this.requestFramesSent++;
    }
    if (this.options.mode === 'rs232') {
      clearTimeout(out.timer);
      out.timer = setTimeout(() => this.sendOutstanding(), this.options.answerTimeoutMs);
    }
  }

  /** RS-485: the terminal cannot resend on its own; it gives up if polls stop coming. */
  private armOverallTimeout(): void {
    const out = this.outstanding;
    if (!out) return;
    out.timer = setTimeout(
      () => this.finish(new Error('no answer from the box: not polled')),
      this.options.answerTimeoutMs * (this.options.maxTries + 1),
    );
  }

  private finish(result: PosMessage | Error): void {
    const out = this.outstanding;
    if (!out) return;
    clearTimeout(out.timer);
    this.outstanding = null;
    if (result instanceof Error) out.reject(result);
    else out.resolve(result);
    this.queue.shift()?.begin();
  }

  private send(bytes: Buffer): void {
    if (!this.faults.silent) this.options.send(bytes);
  }

  /** Cancels everything outstanding (the simulator is closing). */
  abort(reason: string): void {
    const queued = this.queue.splice(0);
    this.finish(new Error(reason));
    for (const q of queued) q.reject(new Error(reason));
  }
}
