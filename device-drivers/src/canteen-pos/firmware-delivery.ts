import { sleep } from '@sceneway/core';
import type {
  DriverFirmware,
  DriverLogger,
  FirmwareImage,
  FirmwareInstallOptions,
  FirmwareInstallResult,
  FirmwareProgress,
  FirmwareTerminalInfo,
} from '../driver-api.ts';
import type { NakReasonName, PosMessage, PosMessageOf } from './messages.ts';
import type { CanteenPosConfig } from './schema.ts';
import type { FirmwareFrameOutcome, TerminalSession } from './terminal-session.ts';

/**
 * Firmware delivery to one line's tills (docs/protocols/canteen-pos.md §13): FW_BEGIN names the
 * transfer by the image's SM3 and the till answers with what it already holds, so resume is the till's
 * knowledge (it survives a box restart, a cut cable and a power cut at the till); chunks go out one per
 * turn of the till through the poll loop; FW_ACTIVATE is answered only after the till's own checks,
 * and the version that counts is the one the till reports in a NEW session after its reboot.
 *
 * Nothing here throws for a till's refusal: every refusal is a `failed` result with a stable code.
 * Only the caller's abort rejects.
 */
export interface PosFirmwareDeps {
  config: CanteenPosConfig;
  logger: DriverLogger;
  sessionOf(terminalId: string): TerminalSession | undefined;
  /** Sends one firmware frame in the till's next turn and resolves with what came back. */
  exchange(
    session: TerminalSession,
    message: PosMessage,
    answerTimeoutMs: number,
    signal: AbortSignal,
  ): Promise<FirmwareFrameOutcome>;
  now(): number;
}

/** A POS firmware delivery: the DriverFirmware seam, plus staging without activation (a night's transfer, activated later). */
export interface PosDriverFirmware extends DriverFirmware {
  stage(terminalId: string, image: FirmwareImage, options: FirmwareInstallOptions): Promise<StageResult>;
}

export type StageResult =
  | { outcome: 'staged'; bytes: number }
  | { outcome: 'failed'; code: string; detail: string; retryable: boolean };

/** NAK reasons of §13 → the stable codes an install fails with. */
const REFUSAL_CODES: Partial<Record<NakReasonName, { code: string; retryable: boolean }>> = {
  FW_SIGNATURE_INVALID: { code: 'POS_FW_SIGNATURE_INVALID', retryable: false },
  FW_DIGEST_MISMATCH: { code: 'POS_FW_DIGEST_MISMATCH', retryable: true },
  FW_NOT_FOR_THIS_TILL: { code: 'POS_FW_NOT_FOR_THIS_TILL', retryable: false },
  FW_NO_PREVIOUS: { code: 'POS_FW_NO_PREVIOUS', retryable: false },
  FW_TOO_LARGE: { code: 'POS_FW_TOO_LARGE', retryable: false },
  FW_NOT_STAGED: { code: 'POS_FW_NOT_STAGED', retryable: true },
};

class DeliveryFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

const refusal = (reason: NakReasonName, what: string): DeliveryFailure => {
  const mapped = REFUSAL_CODES[reason] ?? { code: 'POS_FW_REFUSED', retryable: false };
  return new DeliveryFailure(mapped.code, `the till refused ${what}: NAK ${reason}`, mapped.retryable);
};

/** §13.6: the chunk the box sends on this line. RS-485 caps a frame at 250 ms of bus time. */
export function firmwareChunkBytes(config: CanteenPosConfig): number {
  const configured = config.firmware.chunkBytes;
  if (config.mode !== 'rs485') return configured;
  const fits = Math.floor(config.port.baudRate / 40) - 45;
  return Math.max(64, Math.min(configured, fits));
}

const FRAME_OVERHEAD_BYTES = 45;
const ACK_FRAME_BYTES = 42;

/** §13.6: payload bytes / bytes on the wire for a chunk of `chunkBytes` (with or without its ack). */
export function firmwareFramingEfficiency(chunkBytes: number, countAck = false): number {
  return chunkBytes / (chunkBytes + FRAME_OVERHEAD_BYTES + (countAck ? ACK_FRAME_BYTES : 0));
}

export function createPosFirmware(deps: PosFirmwareDeps): PosDriverFirmware {
  const { config, logger } = deps;
  const chunkBytes = firmwareChunkBytes(config);
  const ack = config.ackTimeoutMs;
  const busy = new Set<string>();

  /**
   * One firmware frame until it is answered: a till that lost its session (rebooted, cut off) gets one
   * again before the frame is sent anew; silence is retried until the transfer has made no progress for
   * stallTimeoutMs. A NAK of §13 is final and becomes a DeliveryFailure.
   */
  async function ask(
    session: TerminalSession,
    message: PosMessage,
    signal: AbortSignal,
    progress: { at: number },
  ): Promise<PosMessage> {
    for (;;) {
      const waited = deps.now() - progress.at;
      if (waited > config.firmware.stallTimeoutMs) {
        throw new DeliveryFailure(
          'POS_FW_STALLED',
          `no answer from ${session.id} to ${message.type} for ${waited} ms; the till keeps what it has, and a new install resumes there`,
          true,
        );
      }
      const out = await deps.exchange(session, message, ack, signal);
      switch (out.kind) {
        case 'answer':
          progress.at = deps.now();
          return out.message;
        case 'stopped':
          throw new DeliveryFailure('POS_FW_DRIVER_STOPPED', 'the driver stopped during the update', true);
        case 'no-session':
          await waitForSession(session, signal, progress);
          continue;
        case 'no-answer':
          continue;
        case 'nak':
          if (out.reason === 'SESSION_REQUIRED' || out.reason === 'MAC_INVALID') {
            await waitForSession(session, signal, progress);
            continue;
          }
          if (out.reason === 'REPLAYED') continue; // a new frame carries a new counter
          if (out.reason === 'BUSY') {
            await sleep(500, signal);
            continue;
          }
          throw refusal(out.reason, message.type);
      }
    }
  }

  /**
   * The till (or the box) has no session: wait a while for the till to open one. Not for long: the
   * knock that asks it to may have gone to a till that was not there yet, and the next ask knocks again.
   */
  async function waitForSession(session: TerminalSession, signal: AbortSignal, progress: { at: number }) {
    const left = config.firmware.stallTimeoutMs - (deps.now() - progress.at);
    const wait = Math.min(left, Math.max(1000, config.silenceTimeoutMs));
    if (wait > 0) await session.nextSession(wait, signal);
    if (signal.aborted) throw signal.reason;
  }

  function sessionFor(terminalId: string): TerminalSession {
    const session = deps.sessionOf(terminalId);
    if (!session) {
      throw new DeliveryFailure('POS_FW_UNKNOWN_TERMINAL', `${terminalId} is not on this line`, false);
    }
    if (session.protocol !== 2) {
      throw new DeliveryFailure(
        'POS_FW_NOT_SUPPORTED',
        `${terminalId} runs POS protocol 1: firmware goes only inside a v2 session (§13); move the till to v2 first`,
        false,
      );
    }
    return session;
  }

  /** The transfer of §13.1: the manifest bytes, then the image, from the offset the till asks for. */
  async function transfer(
    session: TerminalSession,
    image: FirmwareImage,
    signal: AbortSignal,
    onProgress: (p: FirmwareProgress) => void,
  ): Promise<number> {
    const { manifest, manifestBytes } = image;
    const digest = Buffer.from(manifest.sm3, 'hex');
    const total = manifestBytes.length + manifest.size;
    const progress = { at: deps.now() };
    const report = (next: number) =>
      onProgress({
        bytesDone: Math.min(manifest.size, Math.max(0, next - manifestBytes.length)),
        bytesTotal: manifest.size,
        phase: 'transfer',
      });
    const begin: PosMessageOf<'fw-begin'> = {
      type: 'fw-begin',
      digest,
      size: manifest.size,
      manifestSize: manifestBytes.length,
      signature: Buffer.from(image.signature),
      version: manifest.version,
    };
    const readAt = async (offset: number, length: number): Promise<Buffer> => {
      const parts: Buffer[] = [];
      if (offset < manifestBytes.length) {
        const end = Math.min(manifestBytes.length, offset + length);
        parts.push(Buffer.from(manifestBytes.subarray(offset, end)));
      }
      const imageFrom = Math.max(0, offset - manifestBytes.length);
      const imageLength = offset + length - Math.max(offset, manifestBytes.length);
      if (imageLength > 0) parts.push(Buffer.from(await image.read(imageFrom, imageLength)));
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    };
    let next = await begun(session, begin, signal, progress);
    let resumedAt = next;
    logger.info(
      { terminalId: session.id, version: manifest.version, resumeAt: next, total, chunkBytes },
      next > 0 ? 'firmware transfer resumes where the till stopped' : 'firmware transfer starts',
    );
    report(next);
    let read = next < total ? readAt(next, Math.min(chunkBytes, total - next)) : null;
    while (next < total) {
      const offset = next;
      const data = await read!;
      const answer = await ask(session, { type: 'fw-chunk', offset, data }, signal, progress).catch(
        async (err: unknown) => {
          // The till lost the transfer (another FW_BEGIN, a wiped slot): name it again and go on from its offset.
          if (err instanceof DeliveryFailure && err.code === 'POS_FW_NOT_STAGED') return null;
          throw err;
        },
      );
      if (answer === null) {
        next = await begun(session, begin, signal, progress);
      } else {
        if (answer.type !== 'fw-chunk-ack') continue;
        if (answer.nextOffset > total) {
          throw new DeliveryFailure(
            'POS_FW_PROTOCOL',
            `the till acked offset ${answer.nextOffset} of ${total}`,
            true,
          );
        }
        next = answer.nextOffset;
      }
      if (next < resumedAt) resumedAt = next;
      report(next);
      // Read the next chunk while this turn's answer is still warm: the file read overlaps the line.
      if (next < total) read = readAt(next, Math.min(chunkBytes, total - next));
    }
    return total;
  }

  /** FW_BEGIN → the till's next offset for this transfer. */
  async function begun(
    session: TerminalSession,
    begin: PosMessageOf<'fw-begin'>,
    signal: AbortSignal,
    progress: { at: number },
  ): Promise<number> {
    const status = await ask(session, begin, signal, progress);
    if (status.type !== 'fw-status') {
      throw new DeliveryFailure('POS_FW_PROTOCOL', `FW_BEGIN answered by ${status.type}`, true);
    }
    const s = status.staging;
    return s.state !== 'idle' && s.digest.equals(begin.digest) ? s.nextOffset : 0;
  }

  /**
   * FW_ACTIVATE (or FW_ROLLBACK) and the reboot, resolved by FW_STATUS in a session opened after it.
   * When the answer was lost, what the till then reports decides (§13.4): an image still staged
   * complete was never activated; a rollback is done when the till rebooted and says it rolled back.
   */
  async function switchSlots(
    session: TerminalSession,
    command: PosMessageOf<'fw-activate'> | PosMessageOf<'fw-rollback'>,
    signal: AbortSignal,
    onProgress: (p: FirmwareProgress) => void,
    size: number,
  ): Promise<string> {
    const started = deps.now();
    for (let attempt = 1; attempt <= 3; ) {
      if (deps.now() - started > config.firmware.stallTimeoutMs) break;
      onProgress({
        bytesDone: size,
        bytesTotal: size,
        phase: command.type === 'fw-activate' ? 'verify' : 'activate',
      });
      const generation = session.auth.generation;
      const out = await deps.exchange(session, command, config.firmware.activateTimeoutMs, signal);
      if (out.kind === 'stopped') {
        throw new DeliveryFailure('POS_FW_DRIVER_STOPPED', 'the driver stopped during the update', true);
      }
      if (out.kind === 'no-session') {
        await waitForSession(session, signal, { at: deps.now() });
        continue; // nothing was sent
      }
      if (out.kind === 'nak') {
        if (out.reason === 'BUSY') {
          await sleep(1000, signal); // a sale in progress: the till takes it after the sale
          continue;
        }
        if (!['SESSION_REQUIRED', 'MAC_INVALID', 'REPLAYED'].includes(out.reason)) {
          throw refusal(out.reason, command.type);
        }
      }
      attempt++;
      const acked = out.kind === 'answer' && out.message.type === 'ack';
      onProgress({ bytesDone: size, bytesTotal: size, phase: 'reboot' });
      // After an ACK the till reboots and comes back with a new session: only an answer in a session
      // newer than the command counts (asking is also what makes a rebooted till open one, §13.4).
      const deadline = deps.now() + config.firmware.rebootTimeoutMs;
      let status = await ask(session, { type: 'fw-status-query' }, signal, { at: deps.now() });
      while (acked && session.auth.generation === generation) {
        if (deps.now() > deadline) {
          throw new DeliveryFailure(
            'POS_FW_NO_REBOOT',
            `${session.id} acknowledged ${command.type} but did not come back within ${config.firmware.rebootTimeoutMs} ms`,
            true,
          );
        }
        await sleep(100, signal);
        status = await ask(session, { type: 'fw-status-query' }, signal, { at: deps.now() });
      }
      if (status.type !== 'fw-status') continue;
      const rebooted = session.auth.generation !== generation;
      if (!acked) {
        const s = status.staging;
        const notTaken =
          command.type === 'fw-activate'
            ? s.state === 'complete' && s.digest.equals(command.digest)
            : !(rebooted && status.lastResult === 'rolled-back');
        if (notTaken) continue;
      }
      logger.info(
        {
          terminalId: session.id,
          version: status.version,
          lastResult: status.lastResult,
          signed: status.signed,
        },
        `${session.id} is back after ${command.type}`,
      );
      return status.version;
    }
    throw new DeliveryFailure('POS_FW_NO_REBOOT', `${command.type} was not taken after 3 tries`, true);
  }

  async function guarded<T extends { outcome: string }>(
    terminalId: string,
    signal: AbortSignal,
    run: () => Promise<T>,
  ): Promise<T | { outcome: 'failed'; code: string; detail: string; retryable: boolean }> {
    if (signal.aborted) throw signal.reason;
    if (busy.has(terminalId)) {
      return {
        outcome: 'failed',
        code: 'POS_FW_BUSY',
        detail: `${terminalId} already has a firmware operation running`,
        retryable: true,
      };
    }
    busy.add(terminalId);
    try {
      return await run();
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      if (err instanceof DeliveryFailure) {
        logger.warn({ terminalId, code: err.code, detail: err.message }, 'firmware operation failed');
        return { outcome: 'failed', code: err.code, detail: err.message, retryable: err.retryable };
      }
      const detail = err instanceof Error ? err.message : String(err);
      logger.error({ terminalId, code: 'POS_FW_INTERNAL', detail }, 'firmware operation failed');
      return { outcome: 'failed', code: 'POS_FW_INTERNAL', detail, retryable: true };
    } finally {
      busy.delete(terminalId);
    }
  }

  const noProgress = () => undefined;

  return {
    family: 'canteen-pos',

    async describe(terminalId): Promise<FirmwareTerminalInfo> {
      const session = deps.sessionOf(terminalId);
      const status = session?.lastStatus;
      return {
        terminalId,
        family: 'canteen-pos',
        model: status?.model ?? 'unknown',
        hardware: status?.hardware ?? 'unknown',
        version: session?.state === 'up' ? (status?.firmwareVersion ?? null) : null,
      };
    },

    stage(terminalId, image, { signal, onProgress = noProgress }) {
      return guarded(terminalId, signal, async (): Promise<StageResult> => {
        const session = sessionFor(terminalId);
        return { outcome: 'staged', bytes: await transfer(session, image, signal, onProgress) };
      });
    },

    install(terminalId, image, { signal, onProgress = noProgress }) {
      return guarded(terminalId, signal, async (): Promise<FirmwareInstallResult> => {
        const session = sessionFor(terminalId);
        await transfer(session, image, signal, onProgress);
        const digest = Buffer.from(image.manifest.sm3, 'hex');
        const version = await switchSlots(
          session,
          { type: 'fw-activate', digest },
          signal,
          onProgress,
          image.manifest.size,
        );
        return { outcome: 'installed', version };
      });
    },

    rollback(terminalId, _previous, { signal, onProgress = noProgress }) {
      // POS tills keep two slots: the revert is a command, the previous package is not needed (§13.4).
      return guarded(terminalId, signal, async (): Promise<FirmwareInstallResult> => {
        const session = sessionFor(terminalId);
        const version = await switchSlots(session, { type: 'fw-rollback' }, signal, onProgress, 0);
        return { outcome: 'installed', version };
      });
    },
  };
}
