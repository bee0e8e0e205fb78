import { randomBytes } from 'node:crypto';
import type { SimFirmware } from './sim-firmware.ts';
import { TerminalSession } from './sim-session.ts';
import {
  boxProof,
  Command,
  decodeBody,
  encodeBody,
  encodeWireFrame,
  MACED_TO_BOX,
  MACED_TO_TERMINAL,
  type NakReasonName,
  nameOf,
  openBody,
  type PosMessage,
  type PosMessageOf,
  sameBytes,
  sealBody,
  sessionKeys,
  type TerminalRequest,
  type TillKey,
  terminalProof,
  WireError,
  type WireFrame,
} from './wire/index.ts';

/**
 * One simulated canteen terminal: the terminal side of docs/protocols/canteen-pos.md, written from the
 * page with its own wire code (./wire), never the box's codec. Stop-and-wait: one request outstanding,
 * resent byte for byte until its answer comes or the tries run out. In protocol 2 it opens a session
 * before its first money frame, MACs those frames, and treats a box answer whose MAC or counter fails
 * as no answer. Behaviour switches (faults) are plain data the test flips.
 */
export type ResultOf<R extends TerminalRequest['type']> = R extends 'sale-request'
  ? PosMessageOf<'sale-result'>
  : R extends 'void-request'
    ? PosMessageOf<'void-result'>
    : R extends 'offline-upload'
      ? PosMessageOf<'upload-result'>
      : R extends 'price-list-request'
        ? PosMessageOf<'price-list'>
        : R extends 'sale-status-query'
          ? PosMessageOf<'sale-status'>
          : R extends 'session-open'
            ? PosMessageOf<'session-challenge'>
            : R extends 'session-confirm'
              ? PosMessageOf<'ack'>
              : PosMessageOf<'blacklist-version'>;

const ANSWER_COMMAND: Record<TerminalRequest['type'], number> = {
  'sale-request': Command.SALE_RESULT,
  'void-request': Command.VOID_RESULT,
  'offline-upload': Command.UPLOAD_RESULT,
  'price-list-request': Command.PRICE_LIST,
  'blacklist-version-query': Command.BLACKLIST_VERSION,
  'session-open': Command.SESSION_CHALLENGE,
  'session-confirm': Command.ACK,
  'sale-status-query': Command.SALE_STATUS,
};

/** The box's firmware frames (§13): each is answered (FW_STATUS, FW_CHUNK_ACK, ACK or NAK). */
const FIRMWARE_FRAMES: ReadonlySet<number> = new Set([
  Command.FW_BEGIN,
  Command.FW_CHUNK,
  Command.FW_STATUS_QUERY,
  Command.FW_ACTIVATE,
  Command.FW_ROLLBACK,
]);

/** Box frames a terminal answers; everything else from the box is an answer, and answers are never NAKed. */
const BOX_FRAMES_TO_ANSWER: ReadonlySet<number> = new Set([
  Command.POLL,
  Command.TIME_SYNC,
  ...FIRMWARE_FRAMES,
]);

/** After these NAKs the terminal's session is gone (§12.3): it opens a new one and sends the request again. */
const SESSION_LOST: ReadonlySet<NakReasonName> = new Set(['SESSION_REQUIRED', 'MAC_INVALID']);

/** §12.3: no POLL for this long and the terminal ends its session. */
export const SESSION_IDLE_MS = 3000;

const MONEY_ANSWERS: ReadonlySet<number> = new Set([
  Command.SALE_RESULT,
  Command.VOID_RESULT,
  Command.UPLOAD_RESULT,
  Command.SALE_STATUS,
]);

export interface TerminalFaults {
  /** Answer nothing and send nothing. */
  silent: boolean;
  /** NAK (BUSY) every frame the box sends. */
  nakStorm: boolean;
  /** The next request frame goes out twice back to back, same seq (a terminal that retransmits too eagerly). */
  duplicateNextRequest: boolean;
  /** Ignore the next answer, as if it was lost on the line: the request is then retransmitted. */
  dropNextAnswer: boolean;
  /**
   * Ignore this many answers to money requests (SALE/VOID/UPLOAD/STATUS results), as if the box went
   * down between its commit and its answer: with maxTries or more, the sale ends unanswered.
   */
  dropAnswers: number;
  /** v2 attack: the next MAC'd frame carries a MAC that does not verify (one bit flipped). */
  forgeNextMac: boolean;
  /** v2 attack: the next MAC'd request goes out with no MAC_COUNTER and MAC at all. */
  omitNextMac: boolean;
  /** v2 attack: the next offline upload's records carry forged RECORD_MACs. */
  forgeRecordMacs: boolean;
  /** v2 attack: the next SESSION_CONFIRM carries a wrong PROOF. */
  wrongProof: boolean;
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
  /** 2: sessions and MACs (§12); 1: the legacy, unauthenticated protocol. */
  protocol: 1 | 2;
  /** The till key loaded at commissioning; required for protocol 2. */
  key?: TillKey;
  sessionIdleMs?: number;
  /** Firmware (§13): slots, staging and checks. Without it the till NAKs firmware frames UNKNOWN_COMMAND. */
  firmware?: SimFirmware;
  /** How long the till is away rebooting after FW_ACTIVATE / FW_ROLLBACK. Default 300 ms. */
  rebootMs?: number;
  /** How long the till stays silent when failTransferAt cuts the link. Default 3500 ms (the box sees it down). */
  firmwareCutMs?: number;
  model?: string;
  hardware?: string;
}

/** §13.5: from FW_BEGIN until it is back from its reboot the till takes no sale; it shows 系统升级中. */
export class TillUpdatingError extends Error {
  constructor() {
    super('the till is updating its firmware (系统升级中): no sale until it is back');
    this.name = 'TillUpdatingError';
  }
}

/** §13.5: a till that heard no firmware frame for this long ends the update screen and sells again. */
export const FIRMWARE_IDLE_MS = 30_000;

/** The request got no usable answer after every try: the till does not know what the box decided. */
export class NoAnswerError extends Error {
  constructor(
    message: string,
    readonly request: TerminalRequest,
  ) {
    super(message);
    this.name = 'NoAnswerError';
  }
}

/** The box refused the request with a NAK (final: the same bytes would be refused again). */
export class NakError extends Error {
  constructor(readonly reason: NakReasonName) {
    super(`box NAKed the request: ${reason}`);
    this.name = 'NakError';
  }
}

interface Outstanding {
  request: TerminalRequest;
  seq: number;
  frame: Buffer;
  answerCommand: number;
  sends: number;
  /** An attack exchange: the answer is taken as it comes, unauthenticated (the attacker does not check). */
  raw?: boolean;
  timer?: NodeJS.Timeout;
  resolve(answer: PosMessage): void;
  reject(error: Error): void;
}

export class SimTerminal {
  readonly faults: TerminalFaults = {
    silent: false,
    nakStorm: false,
    duplicateNextRequest: false,
    dropAnswers: 0,
    dropNextAnswer: false,
    forgeNextMac: false,
    omitNextMac: false,
    forgeRecordMacs: false,
    wrongProof: false,
  };
  /** Every frame the box sent to this address that the terminal could read (and, in v2, authenticate), duplicates included. */
  readonly received: ReceivedFrame[] = [];
  /**
   * Every money answer (sale, void, upload and status results) the box addressed to this terminal, as
   * heard, before any check (accepted or not). Polls are left out: a demo till hears one a second all day.
   */
  readonly heardAnswers: WireFrame[] = [];
  /** Every request frame this terminal put on the line, byte for byte: what an eavesdropper captures for a replay. */
  readonly sentRequests: Buffer[] = [];
  /** Box clock offset learned from TIME_SYNC (ms, box minus local), and how many syncs arrived. */
  clockOffsetMs = 0;
  timeSyncs = 0;
  polls = 0;
  knownPriceListVersion = 0;
  knownBlacklistVersion = 0;
  offlineCount = 0;
  /** Request frames this terminal put on the line, every retransmission and duplicate included. */
  requestFramesSent = 0;
  /** v2: sessions confirmed, box frames refused for a bad MAC or counter, challenges whose box proof failed. */
  sessionsOpened = 0;
  refusedBoxFrames = 0;
  boxNotAuthentic = 0;
  private seq = 0;
  private outstanding: Outstanding | null = null;
  private readonly queue: Array<{ begin(): void; reject(error: Error): void }> = [];
  private session: TerminalSession | null = null;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Box frames accepted lately, byte for byte: a retransmitted copy is answered again, not refused as a replay. */
  private readonly acceptedBoxFrames: Array<{ bytes: Buffer; answer?: Buffer }> = [];
  private opening: Promise<void> | null = null;
  /** Rebooting after an activation, or the link cut by failTransferAt: the till hears nothing until then. */
  private deafUntil = 0;
  private lastFirmwareFrameAt = Number.NEGATIVE_INFINITY;
  /** Firmware frames refused before they were read: no session, a bad MAC or an old counter. */
  firmwareFramesRefused = 0;
  reboots = 0;

  constructor(private readonly options: SimTerminalOptions) {
    if (options.protocol === 2 && !options.key)
      throw new Error('protocol 2 needs the till key (key: { version, key })');
  }

  get address(): number {
    return this.options.address;
  }

  get protocol(): 1 | 2 {
    return this.options.protocol;
  }

  get hasSession(): boolean {
    return this.session !== null;
  }

  get key(): TillKey | undefined {
    return this.options.key;
  }

  get firmware(): SimFirmware | undefined {
    return this.options.firmware;
  }

  /** §13.5: rebooting, or a transfer under way (a firmware frame within FIRMWARE_IDLE_MS). */
  get updating(): boolean {
    const now = Date.now();
    if (now < this.deafUntil) return true;
    return (this.options.firmware?.isStaging ?? false) && now - this.lastFirmwareFrameAt < FIRMWARE_IDLE_MS;
  }

  /** The version the till reports: its firmware's running slot, else the configured string. */
  get firmwareVersion(): string | undefined {
    return this.options.firmware?.runningVersion ?? this.options.firmwareVersion;
  }

  /**
   * Sends a request and resolves with its answer. Rejects with NoAnswerError after the last try, with
   * NakError on a NAK. In v2 a money request first opens a session if there is none, and a NAK that
   * means "your session is gone" opens a new one and sends the request again, once, as a new frame.
   */
  async request<R extends TerminalRequest>(request: R): Promise<ResultOf<R['type']>> {
    if ((request.type === 'sale-request' || request.type === 'void-request') && this.updating) {
      throw new TillUpdatingError();
    }
    const maced = this.options.protocol === 2 && MACED_TO_BOX.has(encodeBody(request).command);
    for (let attempt = 0; ; attempt++) {
      if (maced && !this.session) await this.openSession();
      const answer = await this.exchange(request);
      if (answer.type !== 'nak') return answer as ResultOf<R['type']>;
      if (maced && attempt === 0 && SESSION_LOST.has(answer.reason)) {
        this.endSession();
        continue;
      }
      throw new NakError(answer.reason);
    }
  }

  /** §12.3: SESSION_OPEN, check the box's proof, SESSION_CONFIRM, ACK. Concurrent callers share one opening. */
  openSession(): Promise<void> {
    this.opening ??= this.runOpening().finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  private async runOpening(): Promise<void> {
    const key = this.options.key;
    if (!key) throw new Error('protocol 2 needs the till key');
    const nt = randomBytes(16);
    const challenge = await this.exchange({ type: 'session-open', keyVersion: key.version, nonce: nt });
    if (challenge.type === 'nak') throw new NakError(challenge.reason);
    if (challenge.type !== 'session-challenge') throw new Error(`unexpected ${challenge.type}`);
    const nb = challenge.nonce;
    if (!sameBytes(challenge.proof, boxProof(key.key, this.address, nt, nb))) {
      this.boxNotAuthentic++;
      throw new Error('box not authentic: its PROOF does not verify under the till key');
    }
    let proof = terminalProof(key.key, this.address, nt, nb);
    if (this.faults.wrongProof) {
      this.faults.wrongProof = false;
      proof = Buffer.from(proof);
      proof[0] = proof[0]! ^ 0x01;
    }
    const confirmed = await this.exchange({ type: 'session-confirm', proof });
    if (confirmed.type === 'nak') throw new NakError(confirmed.reason);
    this.session = new TerminalSession(sessionKeys(key.key, this.address, nt, nb));
    this.acceptedBoxFrames.length = 0;
    this.sessionsOpened++;
    this.armIdle();
  }

  /** The terminal ends its session (restart, NAK, no POLL for 3 s); its next money frame opens a new one. */
  endSession(): void {
    this.session = null;
    clearTimeout(this.idleTimer);
  }

  private armIdle(): void {
    clearTimeout(this.idleTimer);
    if (!this.session) return;
    this.idleTimer = setTimeout(() => this.endSession(), this.options.sessionIdleMs ?? SESSION_IDLE_MS);
    this.idleTimer.unref();
  }

  /** One request frame and its answer (or NAK), stop-and-wait. */
  private exchange(request: TerminalRequest): Promise<PosMessage> {
    return new Promise<PosMessage>((resolve, reject) => {
      const begin = () => {
        try {
          this.seq = (this.seq + 1) & 0xff;
          const frame = this.frameFor(request, this.seq);
          this.outstanding = {
            request,
            seq: this.seq,
            frame,
            answerCommand: ANSWER_COMMAND[request.type],
            sends: 0,
            resolve,
            reject,
          };
        } catch (err) {
          reject(err as Error);
          this.queue.shift()?.begin();
          return;
        }
        if (this.options.mode === 'rs232') this.sendOutstanding();
        else this.armOverallTimeout();
      };
      if (this.outstanding) this.queue.push({ begin, reject });
      else begin();
    });
  }

  /**
   * Attack: sends a money request whose MAC is wrong ('bad-mac'), missing ('no-mac'), or that is MAC'd
   * correctly but repeats counter 1, which the box has already accepted ('old-counter': send one genuine
   * money frame first), and resolves with whatever the box answers.
   */
  async sendForged(request: TerminalRequest, how: 'bad-mac' | 'no-mac' | 'old-counter'): Promise<PosMessage> {
    if (!this.session) await this.openSession();
    const session = this.session;
    if (!session) throw new Error('no session open');
    this.seq = (this.seq + 1) & 0xff;
    const seq = this.seq;
    const { command, body } = encodeBody(request);
    const head = { address: this.address, seq, command };
    let sealed = body;
    if (how === 'old-counter') {
      if (session.lastSent === 0)
        throw new Error('old-counter needs a money frame sent in this session first');
      sealed = sealBody(session.keys.kTb, head, body, 1);
    }
    if (how === 'bad-mac') {
      sealed = sealBody(session.keys.kTb, head, body, session.nextCounter());
      sealed[sealed.length - 1] = sealed[sealed.length - 1]! ^ 0x01;
    }
    return this.rawExchange(encodeWireFrame({ ...head, body: sealed }), request);
  }

  /** Attack: puts a captured frame on the line again, byte for byte, and resolves with the box's answer. */
  replay(frame: Buffer): Promise<PosMessage> {
    const command = frame[3]!;
    const request = decodeBody(command, frame.subarray(6, frame.length - 3)) as TerminalRequest;
    return this.rawExchange(frame, request);
  }

  private rawExchange(frame: Buffer, request: TerminalRequest): Promise<PosMessage> {
    return new Promise<PosMessage>((resolve, reject) => {
      const begin = () => {
        this.outstanding = {
          request,
          seq: frame[2]!,
          frame,
          answerCommand: ANSWER_COMMAND[request.type],
          sends: 0,
          raw: true,
          resolve,
          reject,
        };
        if (this.options.mode === 'rs232') this.sendOutstanding();
        else this.armOverallTimeout();
      };
      if (this.outstanding) this.queue.push({ begin, reject });
      else begin();
    });
  }

  /** The frame's bytes, sealed under K_tb in v2 when the command carries money. Built once: resends repeat it. */
  private frameFor(request: TerminalRequest, seq: number): Buffer {
    const { command, body } = encodeBody(request);
    const head = { address: this.address, seq, command };
    if (this.options.protocol !== 2 || !MACED_TO_BOX.has(command)) return encodeWireFrame({ ...head, body });
    if (this.faults.omitNextMac) {
      this.faults.omitNextMac = false;
      return encodeWireFrame({ ...head, body });
    }
    if (!this.session) throw new Error('no session open');
    const sealed = sealBody(this.session.keys.kTb, head, body, this.session.nextCounter());
    if (this.faults.forgeNextMac) {
      this.faults.forgeNextMac = false;
      sealed[sealed.length - 1] = sealed[sealed.length - 1]! ^ 0x01;
    }
    return encodeWireFrame({ ...head, body: sealed });
  }

  /** A frame addressed to this terminal arrived from the box. */
  onFrame(frame: WireFrame): void {
    if (this.faults.silent) return;
    if (Date.now() < this.deafUntil) return;
    if (MONEY_ANSWERS.has(frame.command)) this.heardAnswers.push(frame);
    const bytes = encodeWireFrame(frame);
    if (this.isDroppedAnswer(frame)) {
      // Heard, then ignored as if lost: listed with what arrived, but no session state moves (so its
      // retransmitted copy is taken as the answer, not as a duplicate).
      try {
        this.received.push({
          address: frame.address,
          seq: frame.seq,
          message: decodeBody(frame.command, frame.body),
        });
      } catch {
        // unreadable anyway
      }
      return;
    }
    const out = this.outstanding;
    if (
      out?.raw &&
      out.seq === frame.seq &&
      (frame.command === out.answerCommand || frame.command === Command.NAK)
    ) {
      try {
        const message = decodeBody(frame.command, frame.body);
        this.received.push({ address: frame.address, seq: frame.seq, message });
        this.finish(message);
      } catch {
        // unreadable: no answer
      }
      return;
    }
    const copy = this.acceptedBoxFrames.find((f) => f.bytes.equals(bytes));
    if (copy) {
      // A retransmitted copy of a frame already accepted: answer it again, decide nothing again.
      const message = decodeBody(frame.command, frame.body);
      this.received.push({ address: frame.address, seq: frame.seq, message });
      if (message.type === 'fw-chunk') this.options.firmware?.noteCopy(message.offset, message.data.length);
      if (copy.answer) this.options.send(copy.answer);
      return;
    }
    let body = frame.body;
    if (this.options.protocol === 2 && MACED_TO_TERMINAL.has(frame.command)) {
      const refusal = this.authenticate(frame);
      if (typeof refusal === 'string') {
        this.refusedBoxFrames++;
        // An answer that fails is no answer (the request is resent); a TIME_SYNC that fails is NAKed.
        if (frame.command === Command.TIME_SYNC) this.reply(frame.seq, { type: 'nak', reason: refusal });
        if (FIRMWARE_FRAMES.has(frame.command)) this.refuseFirmwareFrame(frame, refusal);
        return;
      }
      body = refusal;
    }
    let message: PosMessage;
    try {
      message = decodeBody(frame.command, body);
    } catch (err) {
      // §3: answers are never NAKed (the request is simply resent); anything else unusable is.
      if (!BOX_FRAMES_TO_ANSWER.has(frame.command) && nameOf(Command, frame.command)) return;
      this.reply(frame.seq, { type: 'nak', reason: err instanceof WireError ? err.nak : 'FIELD_INVALID' });
      return;
    }
    this.received.push({ address: frame.address, seq: frame.seq, message });
    if (this.faults.nakStorm) {
      this.reply(frame.seq, { type: 'nak', reason: 'BUSY' });
      return;
    }
    switch (message.type) {
      case 'poll':
        this.polls++;
        this.armIdle();
        this.knownPriceListVersion = message.priceListVersion ?? this.knownPriceListVersion;
        this.knownBlacklistVersion = message.blacklistVersion ?? this.knownBlacklistVersion;
        if (this.options.mode === 'rs485' && this.outstanding) this.sendOutstanding();
        else this.reply(frame.seq, this.status());
        return;
      case 'time-sync': {
        this.timeSyncs++;
        this.clockOffsetMs = message.utcMs - Date.now();
        const ack = this.reply(frame.seq, { type: 'ack' });
        if (this.options.protocol === 2) this.remember(bytes, ack);
        return;
      }
      case 'nak':
        if (this.outstanding?.seq === frame.seq) this.finish(message);
        return;
      case 'fw-begin':
      case 'fw-chunk':
      case 'fw-status-query':
      case 'fw-activate':
      case 'fw-rollback':
        this.onFirmwareFrame(frame.seq, message, bytes);
        return;
      default:
        if (this.options.protocol === 2 && MACED_TO_TERMINAL.has(frame.command)) this.remember(bytes);
        this.onAnswer(frame.seq, frame.command, message);
    }
  }

  /**
   * §13.4: a firmware frame that fails its session checks is NAKed. A knock (FW_STATUS_QUERY with an
   * empty body: the box has no session for this till, e.g. it restarted) is NAKed SESSION_REQUIRED and
   * the till opens a new session at once, whatever session it thought it had; so does any firmware
   * frame that finds the till with no session.
   */
  private refuseFirmwareFrame(frame: WireFrame, refusal: NakReasonName): void {
    this.firmwareFramesRefused++;
    const knock = frame.command === Command.FW_STATUS_QUERY && frame.body.length === 0;
    this.reply(frame.seq, { type: 'nak', reason: knock ? 'SESSION_REQUIRED' : refusal });
    if ((knock || refusal === 'SESSION_REQUIRED') && this.options.protocol === 2 && this.options.key) {
      this.openSession().catch(() => undefined);
    }
  }

  /** A firmware frame whose MAC and counter verified (§13): the answer is MAC'd under K_tb and remembered for a retransmission. */
  private onFirmwareFrame(seq: number, message: PosMessage, bytes: Buffer): void {
    const firmware = this.options.firmware;
    if (!firmware || this.options.protocol !== 2) {
      this.reply(seq, { type: 'nak', reason: 'UNKNOWN_COMMAND' });
      return;
    }
    this.lastFirmwareFrameAt = Date.now();
    // Any authenticated box frame shows the box is there: it keeps the session like a POLL does (§13.4).
    this.armIdle();
    const answer = (m: PosMessage) => {
      const sent = m.type === 'ack' || m.type === 'nak' ? this.reply(seq, m) : this.replySealed(seq, m);
      this.remember(bytes, sent);
    };
    switch (message.type) {
      case 'fw-begin': {
        const nak = firmware.begin(message);
        answer(nak ? { type: 'nak', reason: nak } : firmware.status());
        return;
      }
      case 'fw-chunk': {
        const outcome = firmware.chunk(message);
        if ('cut' in outcome) {
          // failTransferAt: the link drops here, once; the till hears nothing for a while and its session ends.
          this.deafUntil = Date.now() + (this.options.firmwareCutMs ?? 3500);
          this.endSession();
          return;
        }
        answer(
          'nak' in outcome ? { type: 'nak', reason: outcome.nak } : { type: 'fw-chunk-ack', ...outcome },
        );
        return;
      }
      case 'fw-status-query':
        answer(firmware.status());
        return;
      case 'fw-activate':
      case 'fw-rollback': {
        const outcome =
          message.type === 'fw-activate' ? firmware.activate(message.digest) : firmware.rollback();
        if ('nak' in outcome) {
          answer({ type: 'nak', reason: outcome.nak });
          return;
        }
        answer({ type: 'ack' });
        // The ACK is on its way: the till switches slots and reboots, and hears nothing meanwhile.
        outcome.reboot();
        this.reboots++;
        this.deafUntil = Date.now() + (this.options.rebootMs ?? 300);
        this.endSession();
        return;
      }
    }
  }

  /** A till answer that carries a MAC (§13.4): sealed under K_tb with the till's next counter. */
  private replySealed(seq: number, message: PosMessage): Buffer {
    const { command, body } = encodeBody(message);
    const head = { address: this.address, seq, command };
    const session = this.session;
    if (!session) return this.reply(seq, { type: 'nak', reason: 'SESSION_REQUIRED' });
    const bytes = encodeWireFrame({
      ...head,
      body: sealBody(session.keys.kTb, head, body, session.nextCounter()),
    });
    if (!this.faults.silent) this.options.send(bytes);
    return bytes;
  }

  /** v2: session open, MAC verifies under K_bt, counter fresh. Returns the body without its MAC fields, or why not. */
  private authenticate(frame: WireFrame): Buffer | NakReasonName {
    if (!this.session) return 'SESSION_REQUIRED';
    const opened = openBody(this.session.keys.kBt, frame);
    if (!opened.ok) return 'MAC_INVALID';
    if (!this.session.acceptFromBox(opened.counter)) return 'REPLAYED';
    return opened.fields;
  }

  private remember(bytes: Buffer, answer?: Buffer): void {
    this.acceptedBoxFrames.push(answer ? { bytes, answer } : { bytes });
    if (this.acceptedBoxFrames.length > 8) this.acceptedBoxFrames.shift();
  }

  /** The dropNextAnswer fault: the answer to the outstanding request is lost on the line, before anything reads it. */
  private isDroppedAnswer(frame: WireFrame): boolean {
    const out = this.outstanding;
    if (!out || out.seq !== frame.seq || out.answerCommand !== frame.command) return false;
    if (this.faults.dropAnswers > 0 && MONEY_ANSWERS.has(frame.command)) {
      this.faults.dropAnswers--;
      return true;
    }
    if (!this.faults.dropNextAnswer) return false;
    this.faults.dropNextAnswer = false;
    return true;
  }

  /** An answer is matched by seq and command; anything else is a late duplicate. */
  private onAnswer(seq: number, command: number, message: PosMessage): void {
    const out = this.outstanding;
    if (!out || out.seq !== seq || out.answerCommand !== command) return;
    this.finish(message);
  }

  private status(): PosMessageOf<'status'> {
    return {
      type: 'status',
      offlineCount: this.offlineCount,
      offlineCapacity: 5000,
      priceListVersion: this.knownPriceListVersion,
      blacklistVersion: this.knownBlacklistVersion,
      ...(this.firmwareVersion ? { firmwareVersion: this.firmwareVersion } : {}),
      ...(this.options.protocol === 2 ? { protocolVersion: 2 } : {}),
      ...(this.options.model ? { model: this.options.model } : {}),
      ...(this.options.hardware ? { hardware: this.options.hardware } : {}),
    };
  }

  private sendOutstanding(): void {
    const out = this.outstanding;
    if (!out) return;
    if (out.sends >= this.options.maxTries) {
      this.finish(new NoAnswerError(`no answer from the box after ${out.sends} tries`, out.request));
      return;
    }
    out.sends++;
    this.putRequest(out.frame);
    if (this.faults.duplicateNextRequest) {
      this.faults.duplicateNextRequest = false;
      this.putRequest(out.frame);
    }
    if (this.options.mode === 'rs232') {
      clearTimeout(out.timer);
      out.timer = setTimeout(() => this.sendOutstanding(), this.options.answerTimeoutMs);
    }
  }

  private putRequest(frame: Buffer): void {
    if (this.faults.silent) return;
    this.options.send(frame);
    this.requestFramesSent++;
    this.sentRequests.push(frame);
    if (this.sentRequests.length > 256) this.sentRequests.shift();
  }

  /** RS-485: the terminal cannot resend on its own; it gives up if polls stop coming. */
  private armOverallTimeout(): void {
    const out = this.outstanding;
    if (!out) return;
    out.timer = setTimeout(
      () => this.finish(new NoAnswerError('no answer from the box: not polled', out.request)),
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

  private reply(seq: number, message: PosMessage): Buffer {
    const { command, body } = encodeBody(message);
    const bytes = encodeWireFrame({ address: this.address, seq, command, body });
    if (!this.faults.silent) this.options.send(bytes);
    return bytes;
  }

  /** Sends raw bytes as this terminal (an attacker replaying a captured frame, or a test's hand-made frame). */
  sendRaw(bytes: Buffer): void {
    this.options.send(bytes);
  }

  /** Cancels everything outstanding (the simulator is closing). */
  abort(reason: string): void {
    const queued = this.queue.splice(0);
    this.finish(new Error(reason));
    for (const q of queued) q.reject(new Error(reason));
    this.endSession();
  }
}
