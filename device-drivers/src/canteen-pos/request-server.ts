import { maskCredential, maskedConstant } from '@sceneway/core';
import type { DriverContext } from '../driver-api.ts';
import { DriverError } from '../driver-error.ts';
import { decodeMessage, encodePosFrame } from './codec.ts';
import type { Frame } from './framing.ts';
import { isTerminalRequest, type NakReasonName, type PosMessage } from './messages.ts';
import { answerRequest, type CanteenCatalog } from './request-handler.ts';
import type { TerminalSession } from './terminal-session.ts';

/**
 * Serves terminal requests: once per (seq, command, body), the reply cached so a retransmission is
 * answered again byte for byte and never decided twice (docs/protocols/canteen-pos.md §5). A request
 * the box cannot use is NAKed with the reason (§6.4) and reported.
 */

/** DriverError code of a rejected request → the NAK reason the terminal sees. */
export const NAK_FOR_CODE: Record<string, NakReasonName> = {
  POS_UNKNOWN_COMMAND: 'UNKNOWN_COMMAND',
  POS_UNEXPECTED_COMMAND: 'UNKNOWN_COMMAND',
  POS_TLV_MALFORMED: 'TLV_MALFORMED',
  POS_FIELD_MISSING: 'FIELD_MISSING',
  POS_FIELD_INVALID: 'FIELD_INVALID',
  POS_FRAME_LENGTH: 'FIELD_INVALID',
};

export interface RequestServer {
  /** Resolves once the reply has been written (or could not be: the terminal will retransmit). */
  serve(session: TerminalSession, frame: Frame): Promise<void>;
  /** The NAK frame refusing `frame`, after reporting why. */
  nak(session: TerminalSession, frame: Frame, err: unknown): Buffer;
}

export function createRequestServer(opts: {
  ctx: Pick<DriverContext, 'submit' | 'logger'>;
  catalog: CanteenCatalog;
  write(bytes: Buffer): Promise<void>;
  reportError(session: TerminalSession, code: string, detail: string): void;
}): RequestServer {
  const { ctx, catalog } = opts;

  function nak(session: TerminalSession, frame: Frame, err: unknown): Buffer {
    const code = err instanceof DriverError ? err.code : 'POS_INTERNAL';
    opts.reportError(session, code, err instanceof Error ? err.message : String(err));
    const reason = NAK_FOR_CODE[code] ?? 'FIELD_INVALID';
    return encodePosFrame(session.address, frame.seq, { type: 'nak', reason });
  }

  async function buildReply(session: TerminalSession, frame: Frame): Promise<Buffer> {
    let request: PosMessage;
    try {
      request = decodeMessage(frame);
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
    try {
      const answer = await answerRequest({ ctx, catalog }, session.id, request);
      return encodePosFrame(session.address, frame.seq, answer);
    } catch (err) {
      return nak(session, frame, err);
    }
  }

  return {
    nak,
    serve(session, frame) {
      const cached = session.cache.find(frame.seq, frame.command, frame.body);
      let reply: Promise<Buffer>;
      if (cached) {
        ctx.logger.info(
          { terminalId: session.id, seq: frame.seq },
          'retransmitted request answered from cache',
        );
        reply = cached.reply;
      } else {
        reply = buildReply(session, frame);
        session.cache.remember({ seq: frame.seq, command: frame.command, body: frame.body, reply });
      }
      return reply.then(opts.write).catch((err: unknown) => {
        ctx.logger.warn(
          { terminalId: session.id, seq: frame.seq, err: err instanceof Error ? err.message : String(err) },
          'reply not sent; the terminal will retransmit',
        );
      });
    },
  };
}
