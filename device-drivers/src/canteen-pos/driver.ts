import { sleep } from '@sceneway/core';
import type { DriverContext, DriverInstance, TerminalEventOf } from '../driver-api.ts';
import { DriverError } from '../driver-error.ts';
import { type PendingAnswer, type TurnOutcome, waitForAnswer } from './answer-waiter.ts';
import { decodeMessage, encodePosFrame } from './codec.ts';
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
  const emit = (event: TerminalEventOf<'TerminalStatus' | 'FrameRejected'>) => {
    // After stop() nothing more is reported: a late decision or timer must not resurrect a terminal.
    if (controller?.signal.aborted ?? true) return;
    // Status needs no answer; a failing listener must not take the till down (zigbee-herdsman's lesson).
    ctx
      .submit(event)
      .catch((err: unknown) =>
        ctx.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'status event refused'),
      );
  };
  const sessions = config.terminals.map((t) => new TerminalSession(t, emit, random));
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
      for (const s of sessions) s.resetClock(now());
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
  const requests = createRequestServer({ ctx, catalog, write, reportError: frameError });

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
      const written = requests.serve(session, frame);
      // On RS-485 the polled terminal's request is its answer; on RS-232 requests come on their own.
      if (isPending && config.mode === 'rs485') pending?.settle({ kind: 'request', written });
      return;
    }
    if (!ANSWER_COMMANDS.has(frame.command)) {
      // Good CRC, but nothing a terminal may start: NAK it (doc §3) so the terminal does not keep resending.
      const known = nameOf(Command, frame.command);
      const code = known ? 'POS_UNEXPECTED_COMMAND' : 'POS_UNKNOWN_COMMAND';
      const error = new DriverError(
        code,
        `command 0x${frame.command.toString(16)} is not accepted from a terminal`,
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
        if (msg.type === 'status') session.lastStatus = msg;
        session.heard(now());
        if (matches) pending?.settle({ kind: 'answered' });
        return;
      default:
        return; // unreachable: ANSWER_COMMANDS holds ACK, NAK and STATUS only
    }
  }

  async function probeFor(session: TerminalSession): Promise<PosMessage> {
    const t = now();
    if (session.lastTimeSyncAt === null || t - session.lastTimeSyncAt >= config.timeSyncIntervalMs) {
      return { type: 'time-sync', utcMs: t, tzOffsetMinutes: config.timezoneOffsetMinutes };
    }
    return {
      type: 'poll',
      priceListVersion: catalog.priceList().version,
      blacklistVersion: await Promise.resolve(catalog.blacklistVersion(session.id)).catch(() => 0),
    };
  }

  /** One bus turn: a POLL or TIME_SYNC to one terminal, sent up to maxTries times until it is answered. */
  async function turn(session: TerminalSession, signal: AbortSignal): Promise<void> {
    session.lastPolledAt = now();
    const probe = await probeFor(session);
    const seq = session.nextSeq();
    const bytes = encodePosFrame(session.address, seq, probe);
    // A terminal already reported down gets one try per turn, so it cannot stall the others on the bus.
    const tries = session.state === 'down' ? 1 : config.maxTries;
    let naks = 0;
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
      try {
        await write(bytes);
        outcome = await waiter.outcome;
      } catch {
        waiter.settle({ kind: 'closed' });
        outcome = { kind: 'closed' };
      } finally {
        if (pending === waiter) pending = null;
      }
      if (outcome.kind === 'answered') {
        if (probe.type === 'time-sync') session.lastTimeSyncAt = now();
        return;
      }
      if (outcome.kind === 'request') {
        // Hold the bus until the reply is out: a poll to the next address now could collide with it.
        await Promise.race([outcome.written, sleep(config.decisionWaitMs, signal)]);
        return;
      }
      if (outcome.kind === 'closed') return;
      if (outcome.kind === 'nak') naks++;
    }
    if (naks > 0 && naks === tries) {
      frameError(session, 'POS_NAK_LIMIT', `${probe.type} NAKed ${naks} times in a row`);
    }
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
        await turn(session, signal);
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
      watchdog = setInterval(checkSilence, Math.max(20, Math.floor(config.silenceTimeoutMs / 5)));
      started = link.start().then(() => {
        if (!c.signal.aborted) pollLoop = runPolling(c.signal);
      });
      stopping = null;
      return started;
    },
    stop,
  };
}
