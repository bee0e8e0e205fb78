import { maskCredential, maskedConstant } from '@sceneway/core';
import type { DriverContext } from '../driver-api.ts';
import { DriverError } from '../driver-error.ts';
import { decodeMessage, encodeMessage, encodePosFrame } from './codec.ts';
import { recordMac, sameBytes } from './frame-mac.ts';
import type { Frame } from './framing.ts';
import {
  Command,
  isTerminalRequest,
  MACED_TO_BOX,
  MACED_TO_TERMINAL,
  type NakReasonName,
  type OfflineRecord,
  type PosMessage,
} from './messages.ts';
import { answerRequest, type CanteenCatalog } from './request-handler.ts';
import type { AuthRefusal, SessionChannel } from './session-auth.ts';
import type { TerminalSession } from './terminal-session.ts';

/**
 * Serves terminal requests in the box's order of checks (pos-v2-contract.md, Box: order of checks):
 *
 *   reply cache (a byte-identical copy of a remembered request gets the remembered answer, §5)
 *   → v2 MAC'd command: a session, then MAC fields and MAC, then counter (refusals are NAKed, alerted,
 *     counted, written nowhere and NOT cached)
 *   → decode the fields → decide → answer (sealed under the session's box key when the answer is MAC'd).
 *
 * Every other answer, NAKs for undecodable requests included, is cached so a retransmission is answered
 * byte for byte and never decided twice.
 */

/** DriverError code of a rejected request → the NAK reason the terminal sees. */
export const NAK_FOR_CODE: Record<string, NakReasonName> = {
  POS_UNKNOWN_COMMAND: 'UNKNOWN_COMMAND',
  POS_UNEXPECTED_COMMAND: 'UNKNOWN_COMMAND',
  POS_TLV_MALFORMED: 'TLV_MALFORMED',
  POS_FIELD_MISSING: 'FIELD_MISSING',
  POS_FIELD_INVALID: 'FIELD_INVALID',
  POS_FRAME_LENGTH: 'FIELD_INVALID',
  POS_BUSY: 'BUSY',
  POS_SESSION_REQUIRED: 'SESSION_REQUIRED',
  POS_MAC_INVALID: 'MAC_INVALID',
  POS_REPLAYED: 'REPLAYED',
  POS_AUTH_FAILED: 'AUTH_FAILED',
};

export interface RequestServer {
  /** The reply to write, once decided (never rejects). */
  serve(session: TerminalSession, frame: Frame): Promise<Buffer>;
  /** The NAK frame refusing `frame`, after reporting why. */
  nak(session: TerminalSession, frame: Frame, err: unknown): Buffer;
}

export interface RequestServerOptions {
  ctx: Pick<DriverContext, 'submit' | 'logger' | 'terminalKeys'>;
  catalog: CanteenCatalog;
  reportError(session: TerminalSession, code: string, detail: string): void;
  /** A refusal an operator must see: a TerminalAlert (rate-limited by the caller). */
  alert(session: TerminalSession, code: string, severity: 'warning' | 'critical', detail: string): void;
  /** Decisions slower than this are logged: the till waits 1000 ms before it retransmits. */
  decisionBudgetMs: number;
  now(): number;
}

/** NAK answers to a v2 handshake or MAC refusal: never cached, so nothing of a refused frame is kept. */
class Refused {
  constructor(readonly reply: Buffer) {}
}

export function createRequestServer(opts: RequestServerOptions): RequestServer {
  const { ctx, catalog } = opts;

  function nak(session: TerminalSession, frame: Frame, err: unknown): Buffer {
    const code = err instanceof DriverError ? err.code : 'POS_INTERNAL';
    opts.reportError(session, code, err instanceof Error ? err.message : String(err));
    const reason = NAK_FOR_CODE[code] ?? 'FIELD_INVALID';
    return encodePosFrame(session.address, frame.seq, { type: 'nak', reason });
  }

  function refuse(session: TerminalSession, frame: Frame, refusal: AuthRefusal): Refused {
    opts.reportError(session, refusal.code, refusal.detail);
    opts.alert(session, refusal.code, 'warning', refusal.detail);
    return new Refused(encodePosFrame(session.address, frame.seq, { type: 'nak', reason: refusal.nak }));
  }

  /** v2: the till's record MAC under any of its keys (current and previous: a record made before a re-key). */
  function recordMacProblem(session: TerminalSession, record: OfflineRecord): string | null {
    if (!record.recordMac) return 'the record carries no RECORD_MAC';
    const { mac, signed } = record.recordMac;
    for (const k of ctx.terminalKeys(session.id)) if (sameBytes(mac, recordMac(k.key, signed))) return null;
    return 'RECORD_MAC does not verify under any key of this till';
  }

  function encodeAnswer(session: TerminalSession, seq: number, answer: PosMessage, channel?: SessionChannel) {
    const { command, body } = encodeMessage(answer);
    if (channel && MACED_TO_TERMINAL.has(command)) return channel.seal(seq, command, body);
    return encodePosFrame(session.address, seq, answer);
  }

  function handshake(session: TerminalSession, frame: Frame): Buffer | Refused {
    if (session.protocol !== 2) {
      return refuse(session, frame, {
        code: 'POS_AUTH_FAILED',
        nak: 'AUTH_FAILED',
        detail: `${session.id} is configured for protocol 1: set protocol: 2 and provision its key to open sessions`,
      });
    }
    let msg: PosMessage;
    try {
      msg = decodeMessage(frame);
    } catch (err) {
      return nak(session, frame, err);
    }
    if (msg.type === 'session-open') {
      const answer = session.auth.open(msg);
      if ('code' in answer) return refuse(session, frame, answer);
      return encodePosFrame(session.address, frame.seq, answer);
    }
    if (msg.type === 'session-confirm') {
      const refusal = session.auth.confirm(msg);
      if (refusal) return refuse(session, frame, refusal);
      session.sessionOpened();
      ctx.logger.info({ terminalId: session.id, keyVersion: session.auth.keyVersion }, 'POS session open');
      return encodePosFrame(session.address, frame.seq, { type: 'ack' });
    }
    return nak(session, frame, new DriverError('POS_INTERNAL', `${msg.type} is not a handshake`));
  }

  async function decideAndAnswer(
    session: TerminalSession,
    frame: Frame,
    body: Buffer,
    channel?: SessionChannel,
  ): Promise<Buffer> {
    let request: PosMessage;
    try {
      request = decodeMessage({ command: frame.command, body });
    } catch (err) {
      return nak(session, frame, err);
    }
    if (!isTerminalRequest(request)) {
      return nak(session, frame, new DriverError('POS_UNKNOWN_COMMAND', `${request.type} is not a request`));
    }
    if (request.type === 'sale-request') {
      ctx.logger.info(
        {
          terminalId: session.id,
          receiptNo: request.receiptNo,
          amountFen: request.amountFen,
          credential: request.credential
            ? maskCredential(request.credential)
            : maskedConstant('from bound reader'),
        },
        'sale request',
      );
    }
    const v2 = session.protocol === 2;
    const startedAt = opts.now();
    try {
      const answer = await answerRequest(
        {
          ctx,
          catalog,
          ...(v2
            ? {
                checkRecordMac: (record: OfflineRecord) => recordMacProblem(session, record),
                onForgedRecord: (record: OfflineRecord, detail: string) => {
                  opts.reportError(
                    session,
                    'POS_RECORD_MAC_INVALID',
                    `receipt ${record.receiptNo}: ${detail}`,
                  );
                  opts.alert(
                    session,
                    'POS_RECORD_MAC_INVALID',
                    'critical',
                    `offline ${record.kind} ${record.receiptNo} of ${record.amountFen} fen refused: ${detail}`,
                  );
                },
              }
            : {}),
        },
        session.id,
        request,
      );
      const tookMs = opts.now() - startedAt;
      if (tookMs > opts.decisionBudgetMs) {
        ctx.logger.warn(
          { terminalId: session.id, code: 'POS_SLOW_DECISION', tookMs, budgetMs: opts.decisionBudgetMs },
          'decision slower than its budget; the till may have retransmitted (answered from the cache)',
        );
      }
      return encodeAnswer(session, frame.seq, answer, channel);
    } catch (err) {
      return nak(session, frame, err);
    }
  }

  function buildReply(session: TerminalSession, frame: Frame): Promise<Buffer> | Refused {
    if (frame.command === Command.SESSION_OPEN || frame.command === Command.SESSION_CONFIRM) {
      const answer = handshake(session, frame);
      return answer instanceof Refused ? answer : Promise.resolve(answer);
    }
    if (session.protocol === 2 && MACED_TO_BOX.has(frame.command)) {
      const checked = session.auth.check(frame);
      if ('code' in checked) return refuse(session, frame, checked);
      return decideAndAnswer(session, frame, checked.fields, checked.channel);
    }
    return decideAndAnswer(session, frame, frame.body);
  }

  return {
    nak,
    serve(session, frame) {
      const cached = session.cache.find(frame.seq, frame.command, frame.body);
      if (cached) {
        ctx.logger.info(
          { terminalId: session.id, seq: frame.seq },
          'retransmitted request answered from cache',
        );
        return cached.reply;
      }
      let reply: Promise<Buffer>;
      try {
        const built = buildReply(session, frame);
        if (built instanceof Refused) return Promise.resolve(built.reply);
        reply = built;
      } catch (err) {
        reply = Promise.resolve(nak(session, frame, err));
      }
      session.cache.remember({ seq: frame.seq, command: frame.command, body: frame.body, reply });
      return reply;
    },
  };
}
