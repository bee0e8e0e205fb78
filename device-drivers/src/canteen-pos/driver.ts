import { sleep } from '@sceneway/core';
import type { DriverContext, DriverInstance, TerminalEventOf, TerminalProbeResult } from '../driver-api.ts';
import { DriverError } from '../driver-error.ts';
import { type PendingAnswer, type TurnOutcome, waitForAnswer } from './answer-waiter.ts';
import { decodeMessage, encodeMessage, encodePosFrame } from './codec.ts';
import { createFrameErrorReporter } from './frame-error-reporter.ts';
import {
  createFrameParser,
  type Frame,
  type FrameError,
  type FrameParser,
  MAX_FRAME_LENGTH,
} from './framing.ts';
import { Command, nameOf, type PosMessage, REQUEST_COMMANDS } from './messages.ts';

import { createPortLink } from './port-link.ts';
import type { CanteenCatalog } from './request-handler.ts';
import { createRequestServer } from './request-server.ts';
import type { CanteenPosConfig } from './schema.ts';
import { TerminalSession } from './terminal-session.ts';

/** What a terminal sends in answer to a box frame; everything else from a terminal must be a request. */
const ANSWER_COMMANDS: ReadonlySet<number> = new Set([Command.ACK, Command.NAK, Command.STATUS]);

/**
 * The canteen POS session owner (docs/protocols/canteen-pos.md): polls each terminal in turn, retries
 * unanswered frames, answers requests (once per seq: retransmissions are served from the reply cache),
 * watches for silent terminals, and survives the port vanishing. Framing and codec are pure; all
 * timers live here and are cleared by stop().
 */
export interface CanteenPosDriverOptions {
  /** Price list and blacklist version; defaults to the config's price list and blacklist version 0. */
  catalog?: Partial<CanteenCatalog>;
  random?: () => number;
}

/** At most this many FrameRejected events per second per port; the rest are counted in the log. */
const FRAME_ERRORS_PER_SECOND = 20;
/** One TerminalAlert per (terminal, code) in this window; the rest are counted in the log. */
const ALERT_WINDOW_MS = 10_000;

export function createCanteenPosDriver(
  ctx: DriverContext,
  config: CanteenPosConfig,
  options: CanteenPosDriverOptions = {},
): DriverInstance {
  const random = options.random ?? Math.random;
  const now = () => ctx.clock.now();
  const catalog: CanteenCatalog = {
    priceList: options.catalog?.priceList ?? (() => config.priceList ?? { version: 0, items: [] }),
    blacklistVersion:
      options.catalog?.blacklistVersion ??
      (async (terminalId) => (await ctx.submit({ type: 'BlacklistVersionAsked', terminalId })).version),
  };
  const emit = (event: TerminalEventOf<'TerminalStatus' | 'FrameRejected' | 'TerminalAlert'>) => {
    // After stop() nothing more is reported: a late decision or timer must not resurrect a terminal.
    if (controller?.signal.aborted ?? true) return;
    // Status needs no answer; a failing listener must not take the till down (zigbee-herdsman's lesson).
    ctx
      .submit(event)
      .catch((err: unknown) =>
        ctx.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'status event refused'),
      );
  };
  const sessions = config.terminals.map(
    (t) => new TerminalSession(t, emit, random, (id) => ctx.terminalKeys(id)),
  );
  const byAddress = new Map(sessions.map((s) => [s.address, s]));
  const portLabel = `port:${config.port.path}`;
  /** Time a number of bytes takes on the line: 10 bits a byte (8N1). */
  const transmitMs = (bytes: number) => Math.ceil((bytes * 10 * 1000) / config.port.baudRate);
  const maxFrameMs = transmitMs(MAX_FRAME_LENGTH);
  const downPollIntervalMs = Math.min(config.silenceTimeoutMs, 1000);

  let controller: AbortController | null = null;
  let started: Promise<void> | null = null;
  let pollLoop: Promise<void> | null = null;
  let parser: FrameParser = createFrameParser();
  let pending: PendingAnswer | null = null;
  let interByteTimer: NodeJS.Timeout | undefined;
  let watchdog: NodeJS.Timeout | undefined;
  let wakeOnOpen: (() => void) | null = null;
  let writeChain: Promise<void> = Promise.resolve();
  let lastByteAt = 0;

  const link = createPortLink({
    transports: ctx.transports,
    endpoint: { kind: 'serial', path: config.port.path, baudRate: config.port.baudRate },
    backoff: config.reconnect,
    logger: ctx.logger,
    random,
    now,
    onOpen() {
      parser = createFrameParser();
      lastByteAt = now();
      for (const s of sessions) s.portOpened(now());
      wakeOnOpen?.();
    },
    onClose(reason) {
      clearTimeout(interByteTimer);
      pending?.settle({ kind: 'closed' });
      for (const s of sessions) s.down(`port closed: ${reason}`);
    },
    onBytes: receive,
  });

  const errors = createFrameErrorReporter({
    emit,
    logger: ctx.logger,
    now,
    port: config.port.path,
    perSecond: FRAME_ERRORS_PER_SECOND,
  });
  const frameError = (session: TerminalSession | undefined, code: string, detail: string) =>
    errors.report(session?.id ?? portLabel, code, detail);
  const alertedAt = new Map<string, { at: number; suppressed: number }>();
  /** TerminalAlert, at most one per terminal and code per ALERT_WINDOW_MS (a MAC storm is one alert). */
  function alert(session: TerminalSession, code: string, severity: 'warning' | 'critical', detail: string) {
    const key = `${session.id}\u0000${code}`;
    const t = now();
    const last = alertedAt.get(key);
    if (last && t - last.at < ALERT_WINDOW_MS) {
      last.suppressed++;
      return;
    }
    const suppressed = last?.suppressed ?? 0;
    alertedAt.set(key, { at: t, suppressed: 0 });
    emit({
      type: 'TerminalAlert',
      terminalId: session.id,
      code,
      severity,
      detail: suppressed > 0 ? `${detail} (and ${suppressed} more since the last alert)` : detail,
    });
  }
  const requests = createRequestServer({
    ctx,
    catalog,
    reportError: frameError,
    alert,
    decisionBudgetMs: config.decisionBudgetMs,
    now,
  });

  /** Who a line error belongs to: the terminal that holds the line, if we know it. */
  function lineOwner(): TerminalSession | undefined {
    if (pending) return byAddress.get(pending.address);
    return sessions.length === 1 ? sessions[0] : undefined;
  }

  function receive(bytes: Buffer): void {
    lastByteAt = now();
    pending?.activity();
    for (const item of parser.push(bytes)) {
      if (item.kind === 'frame') onFrame(item);
      else onLineError(item);
    }
    clearTimeout(interByteTimer);
    if (parser.buffered > 0) {
      interByteTimer = setTimeout(() => {
        for (const e of parser.flush()) onLineError(e);
      }, config.interByteTimeoutMs);
    }
  }

  function onLineError(error: FrameError): void {
    frameError(lineOwner(), error.code, `${error.detail} (${error.discarded} bytes dropped)`);
  }

  function write(bytes: Buffer): Promise<void> {
    const next = writeChain.then(() => link.write(bytes));
    writeChain = next.catch(() => undefined);
    return next;
  }

  function onFrame(frame: Frame): void {
    const session = byAddress.get(frame.address);
    if (!session) {
      frameError(undefined, 'POS_UNKNOWN_ADDRESS', `frame for address ${frame.address}, not configured here`);
      return;
    }
    const isPending = pending?.address === frame.address;
    if (REQUEST_COMMANDS.has(frame.command)) {
      session.heard(now());
      const reply = requests.serve(session, frame);
      // On RS-485 the polled terminal's request is its answer, and the turn writes the reply while it
      // holds the bus; on RS-232 requests come on their own and the reply goes out when it is ready.
      if (isPending && config.mode === 'rs485') pending?.settle({ kind: 'request', reply });
      else void reply.then(write).catch((err: unknown) => replyNotSent(session, err));
      return;
    }
    if (!ANSWER_COMMANDS.has(frame.command)) {
      if (nameOf(Command, frame.command)) {
        // A box-only command (SALE_RESULT, …) from a till: answers are never NAKed (§3), so it is
        // ignored, and counted for ops.
        frameError(
          session,
          'POS_UNEXPECTED_COMMAND',
          `command 0x${frame.command.toString(16)} is not accepted from a terminal; ignored`,
        );
        return;
      }
      const error = new DriverError(
        'POS_UNKNOWN_COMMAND',
        `command 0x${frame.command.toString(16)} is not defined`,
      );
      write(requests.nak(session, frame, error)).catch(() => undefined);
      return;
    }
    let msg: PosMessage;
    try {
      msg = decodeMessage(frame);
    } catch (err) {
      const code = err instanceof DriverError ? err.code : 'POS_DECODE';
      frameError(session, code, err instanceof Error ? err.message : String(err));
      // An answer we cannot read is no answer (doc §3): retransmit rather than NAK an answer.
      if (isPending && pending?.seq === frame.seq) pending.settle({ kind: 'bad-answer' });
      return;
    }
    const matches = isPending && pending?.seq === frame.seq;
    switch (msg.type) {
      case 'nak':
        ctx.logger.debug({ terminalId: session.id, seq: frame.seq, reason: msg.reason }, 'terminal NAKed');
        if (matches) pending?.settle({ kind: 'nak' });
        return;
      case 'ack':
      case 'status':
        if (msg.type === 'status') {
          session.lastStatus = msg;
          noteProtocolMismatch(session, msg.protocolVersion ?? 1);
        }
        session.heard(now());
        if (matches) pending?.settle({ kind: 'answered' });
        return;
      default:
        return; // unreachable: ANSWER_COMMANDS holds ACK, NAK and STATUS only
    }
  }

  const mismatchNoted = new Set<string>();
  /** A till that says (in STATUS) it speaks another protocol than configured: once per till and start. */
  function noteProtocolMismatch(session: TerminalSession, reported: number): void {
    if (reported === session.protocol || mismatchNoted.has(session.id)) return;
    mismatchNoted.add(session.id);
    ctx.logger.warn(
      { terminalId: session.id, reported, configured: session.protocol },
      reported === 2
        ? `${session.id} speaks POS protocol 2 but is configured protocol 1: provision its key and set protocol: 2`
        : `${session.id} is configured protocol 2 but reports protocol ${reported}: it cannot open a session`,
    );
  }

  function replyNotSent(session: TerminalSession, err: unknown): void {
    ctx.logger.warn(
      { terminalId: session.id, err: err instanceof Error ? err.message : String(err) },
      'reply not sent; the terminal will retransmit',
    );
  }

  async function probeFor(session: TerminalSession): Promise<PosMessage> {
    const t = now();
    const due = session.lastTimeSyncAt === null || t - session.lastTimeSyncAt >= config.timeSyncIntervalMs;
    // v2: TIME_SYNC carries a MAC, so it waits for a session (sessionOpened() makes it due at once).
    if (due && (session.protocol === 1 || session.auth.isOpen)) {
      return { type: 'time-sync', utcMs: t, tzOffsetMinutes: config.timezoneOffsetMinutes };
    }
    return {
      type: 'poll',
      priceListVersion: catalog.priceList().version,
      blacklistVersion: await Promise.resolve(catalog.blacklistVersion(session.id)).catch(() => 0),
    };
  }

  function probeFrame(session: TerminalSession, seq: number, probe: PosMessage): Buffer {
    const channel = probe.type === 'time-sync' && session.protocol === 2 ? session.auth.channel() : null;
    if (!channel) return encodePosFrame(session.address, seq, probe);
    const { command, body } = encodeMessage(probe);
    return channel.seal(seq, command, body);
  }

  /**
   * One bus turn: a POLL or TIME_SYNC to one terminal, sent up to maxTries times until it is answered.
   * A `heartbeat` turn (the installer's live test) is always a plain POLL with every try, also to a
   * terminal reported down, and reports how it ended and how long the answer took.
   */
  async function turn(
    session: TerminalSession,
    signal: AbortSignal,
    purpose: 'routine' | 'heartbeat' = 'routine',
  ): Promise<TurnReport> {
    session.lastPolledAt = now();
    let probe: PosMessage =
      purpose === 'heartbeat'
        ? { type: 'poll', priceListVersion: catalog.priceList().version }
        : await probeFor(session);
    const seq = session.nextSeq();
    let bytes: Buffer;
    try {
      bytes = probeFrame(session, seq, probe);
    } catch {
      // The session's MAC counter is spent (seal ended the session): poll; the till opens a new one.
      probe = { type: 'poll' };
      bytes = encodePosFrame(session.address, seq, probe);
    }
    // A terminal already reported down gets one try per turn, so it cannot stall the others on the bus.
    const tries = session.state === 'down' && purpose === 'routine' ? 1 : config.maxTries;
    let naks = 0;
    let last: TurnOutcome['kind'] | 'aborted' = 'aborted';
    for (let i = 0; i < tries && !signal.aborted; i++) {
      const waiter = waitForAnswer({
        address: session.address,
        seq,
        // The write resolves when the kernel has the bytes, not when they are on the wire: add their
        // transmit time so a slow baud rate does not eat the terminal's answer time.
        timeoutMs: config.ackTimeoutMs + transmitMs(bytes.length),
        hardDeadlineMs: config.ackTimeoutMs + maxFrameMs,
      });
      pending = waiter;
      let outcome: TurnOutcome;
      const sentAt = performance.now();
      try {
        await write(bytes);
        outcome = await waiter.outcome;
      } catch {
        waiter.settle({ kind: 'closed' });
        outcome = { kind: 'closed' };
      } finally {
        if (pending === waiter) pending = null;
      }
      // Write to answer: the write resolves once the kernel has the bytes, so this is the line's time.
      const roundTripMs = performance.now() - sentAt;
      last = outcome.kind;
      if (outcome.kind === 'answered') {
        if (probe.type === 'time-sync') session.lastTimeSyncAt = now();
        return { kind: 'answered', roundTripMs, tries: i + 1 };
      }
      if (outcome.kind === 'request') {
        // Hold the bus for the decision, at most decisionBudgetMs. A later reply is NOT written: the bus
        // is another terminal's by then and it would collide. It stays in the reply cache, and the
        // till's retransmission at its next poll gets it (§8; it is not decided twice, §5).
        const late = Symbol('late');
        const ready = await Promise.race([
          outcome.reply,
          sleep(config.decisionBudgetMs, signal).then(() => late),
        ]);
        if (ready === late) {
          ctx.logger.warn(
            { terminalId: session.id, code: 'POS_SLOW_DECISION', budgetMs: config.decisionBudgetMs },
            'decision not ready within its budget; the bus moves on and the till gets it at its next poll',
          );
          return { kind: 'request', roundTripMs, tries: i + 1 };
        }
        await write(ready as Buffer).catch((err: unknown) => replyNotSent(session, err));
        return { kind: 'request', roundTripMs, tries: i + 1 };
      }
      if (outcome.kind === 'closed') return { kind: 'closed', roundTripMs: null, tries: i + 1 };
      if (outcome.kind === 'nak') naks++;
    }
    if (naks > 0 && naks === tries) {
      frameError(session, 'POS_NAK_LIMIT', `${probe.type} NAKed ${naks} times in a row`);
    }
    return { kind: last, roundTripMs: null, tries };
  }

  /**
   * The bus is one conversation at a time: the polling loop's turns and the installer's heartbeats take
   * it in order, so a live test never talks over a turn (on RS-485 two frames would collide).
   */
  let bus: Promise<unknown> = Promise.resolve();
  function holdBus<T>(work: () => Promise<T>): Promise<T> {
    const run = bus.then(work, work);
    bus = run.catch(() => undefined);
    return run;
  }

  async function heartbeat(terminalId: string): Promise<TerminalProbeResult> {
    const session = sessions.find((s) => s.id === terminalId);
    const failed = (code: string, detail: string): TerminalProbeResult => ({
      outcome: 'failed',
      code,
      detail,
    });
    if (!session) return failed('POS_UNKNOWN_TERMINAL', `no terminal ${terminalId} on ${config.port.path}`);
    const c = controller;
    if (!c) return failed('POS_DRIVER_STOPPED', 'the canteen POS driver is not running');
    if (!link.isOpen) return failed('POS_PORT_CLOSED', `port ${config.port.path} is not open`);
    const statusBefore = session.lastStatus;
    const report = await holdBus(() => turn(session, c.signal, 'heartbeat'));
    if (report.kind === 'answered' || report.kind === 'request') {
      const status = session.lastStatus;
      const fresh = status !== undefined && status !== statusBefore;
      return {
        outcome: 'answered',
        roundTripMs: Math.round((report.roundTripMs ?? 0) * 10) / 10,
        ...(status?.firmwareVersion ? { firmwareVersion: status.firmwareVersion } : {}),
        detail:
          report.kind === 'request'
            ? 'answered with a request of its own, which the box served'
            : fresh
              ? `STATUS: protocol ${status.protocolVersion ?? 1}, ${status.offlineCount} of ${status.offlineCapacity} offline records, price list ${status.priceListVersion}${report.tries > 1 ? `, after ${report.tries} tries` : ''}`
              : 'ACK',
      };
    }
    if (report.kind === 'closed')
      return failed('POS_PORT_CLOSED', `port ${config.port.path} closed during the test`);
    if (report.kind === 'nak')
      return failed('POS_NAK_LIMIT', `the till NAKed the POLL ${report.tries} times`);
    if (report.kind === 'aborted') return failed('POS_DRIVER_STOPPED', 'the driver stopped during the test');
    return failed(
      'POS_NO_ANSWER',
      `no answer at address ${session.address} on ${config.port.path} after ${report.tries} POLLs of ${config.ackTimeoutMs} ms: check the cable, the address and the baud rate (${config.port.baudRate})`,
    );
  }

  async function runPolling(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (!link.isOpen) {
        await new Promise<void>((resolve) => {
          const done = () => {
            signal.removeEventListener('abort', done);
            wakeOnOpen = null;
            resolve();
          };
          wakeOnOpen = done;
          signal.addEventListener('abort', done, { once: true });
        });
        continue;
      }
      for (const session of sessions) {
        if (signal.aborted || !link.isOpen) break;
        if (session.state === 'down' && now() - session.lastPolledAt < downPollIntervalMs) continue;
        await holdBus(() => turn(session, signal));
      }
      await sleep(config.pollIntervalMs, signal);
    }
  }

  /**
   * The watchdog: a terminal silent for silenceTimeoutMs is down (also when the port never opened). A
   * port on which nothing at all arrives for twice that is reopened: some USB-serial adapters wedge
   * without an error, and a fresh open is what an installer would try first.
   */
  function checkSilence(): void {
    const t = now();
    if (link.isOpen && t - lastByteAt >= 2 * config.silenceTimeoutMs) {
      lastByteAt = t;
      link.recycle(`nothing received for ${2 * config.silenceTimeoutMs} ms`);
    }
    for (const s of sessions) {
      const silentFor = t - s.lastHeardAt;
      if (silentFor < config.silenceTimeoutMs) continue;
      s.down(link.isOpen ? `no answer for ${silentFor} ms` : `port ${config.port.path} not available`);
    }
  }

  /** Loud at every start (contract: v1 tills): an insecure till, and a v2 till that cannot open a session. */
  function warnAtStart(): void {
    for (const s of sessions) {
      if (s.protocol === 1) {
        const detail = `${s.id} runs POS protocol 1 by insecure.posProtocolV1: no terminal authentication, anyone on the line can inject sales`;
        ctx.logger.warn({ terminalId: s.id, insecure: 'posProtocolV1', code: 'POS_PROTOCOL_V1' }, detail);
        alert(s, 'POS_PROTOCOL_V1', 'warning', detail);
      } else if (ctx.terminalKeys(s.id).length === 0) {
        const detail = `${s.id} has no provisioned key and cannot open a session: run \`sceneway terminal provision ${s.id}\`, load the key into the till, restart the agent`;
        ctx.logger.warn({ terminalId: s.id, code: 'POS_KEY_MISSING' }, detail);
        alert(s, 'POS_KEY_MISSING', 'warning', detail);
      }
    }
  }

  let stopping: Promise<void> | null = null;
  function stop(): Promise<void> {
    const c = controller;
    if (!c) return stopping ?? Promise.resolve();
    controller = null;
    c.abort();
    clearInterval(watchdog);
    clearTimeout(interByteTimer);
    pending?.settle({ kind: 'closed' });
    const wasStarted = started;
    const wasPolling = pollLoop;
    started = null;
    pollLoop = null;
    const done = (async () => {
      await wasStarted?.catch(() => undefined);
      await link.stop();
      await wasPolling;
    })();
    stopping = done;
    return done;
  }

  return {
    async start() {
      if (started) return started;
      if (stopping) await stopping;
      if (started) return started;
      if (ctx.signal.aborted || controller) return;
      const c = new AbortController();
      controller = c;
      ctx.signal.addEventListener('abort', () => void stop(), { once: true, signal: c.signal });
      for (const s of sessions) s.restart(now());
      warnAtStart();
      watchdog = setInterval(checkSilence, Math.max(20, Math.floor(config.silenceTimeoutMs / 5)));
      started = link.start().then(() => {
        if (!c.signal.aborted) pollLoop = runPolling(c.signal);
      });
      stopping = null;
      return started;
    },
    stop,
    probe: heartbeat,
  };
}

/** How one bus turn ended; `roundTripMs` from the write of the answered try to its answer. */
interface TurnReport {
  kind: TurnOutcome['kind'] | 'aborted';
  roundTripMs: number | null;
  tries: number;
}
