import type {
  DriverContext,
  DriverFirmware,
  FirmwareImage,
  FirmwareInstallOptions,
  FirmwareInstallResult,
  FirmwareProgress,
  FirmwareTerminalInfo,
} from '../driver-api.ts';
import type { MqttTransport } from '../transport.ts';
import type { FirmwareImageServer } from './firmware-image-server.ts';
import {
  type FirmwareCommand,
  type FirmwareReport,
  FW_PROTOCOL_VERSION,
  type ReaderFirmwareStatus,
} from './firmware-messages.ts';
import type { FaceReaderConfig } from './schema.ts';

/** What the driver knows of one reader right now (its topics, and the `fw` of its last status). */
export interface ReaderLink {
  transport: MqttTransport;
  fw: ReaderFirmwareStatus | undefined;
}

interface Pending {
  readerId: string;
  kind: 'update' | 'rollback';
  bytesTotal: number;
  onProgress: ((p: FirmwareProgress) => void) | undefined;
  settle(result: FirmwareInstallResult): void;
  /** Replaces the deadline (the token's, then the reboot's). */
  deadline(ms: number, code: string, detail: string): void;
}

export interface FaceReaderFirmware {
  firmware: DriverFirmware;
  onReport(readerId: string, report: FirmwareReport): void;
  /** Every status of a reader that names its firmware: the end of an update or a rollback. */
  onStatus(readerId: string, fw: ReaderFirmwareStatus): void;
  /** Settles every open transfer as failed (retryable): the driver stops. */
  stop(): void;
}

const failed = (code: string, detail: string, retryable: boolean): FirmwareInstallResult => ({
  outcome: 'failed',
  code,
  detail,
  retryable,
});

const PHASE: Partial<Record<FirmwareReport['state'], FirmwareProgress['phase']>> = {
  downloading: 'transfer',
  verifying: 'verify',
  activating: 'activate',
  rebooting: 'reboot',
};

/**
 * The face readers' DriverFirmware (docs/protocols/face-reader.md §8). The driver hands the image to
 * the image server under a fresh token bound to the reader and the transfer, announces it on the
 * reader's `firmware` topic, and follows the reader's `firmware/report`s; the outcome is the reader's
 * first `status` after it is back whose `fw.last` names the transfer. What the reader already holds
 * is the reader's knowledge (it resumes its download with Range), so an agent restart in the middle
 * costs a new announcement, not the bytes already fetched.
 */
export function createFaceReaderFirmware(options: {
  ctx: DriverContext;
  config: FaceReaderConfig;
  link(readerId: string): ReaderLink | undefined;
  server(): FirmwareImageServer | null;
  bootTag: string;
}): FaceReaderFirmware {
  const { ctx, config } = options;
  const pending = new Map<string, Pending>();
  let counter = 0;
  const busy = (readerId: string) => [...pending.values()].some((p) => p.readerId === readerId);

  function open(
    readerId: string,
    kind: Pending['kind'],
    bytesTotal: number,
    opts: FirmwareInstallOptions,
    send: (transferId: string) => Promise<void>,
    cleanup: (transferId: string) => void,
  ): Promise<FirmwareInstallResult> {
    const transferId = `${readerId}.${options.bootTag}.${++counter}`;
    return new Promise<FirmwareInstallResult>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(timer);
        pending.delete(transferId);
        opts.signal.removeEventListener('abort', onAbort);
        cleanup(transferId);
      };
      const onAbort = () => {
        finish();
        reject(opts.signal.reason ?? new Error('aborted'));
      };
      const entry: Pending = {
        readerId,
        kind,
        bytesTotal,
        onProgress: opts.onProgress,
        settle(result) {
          finish();
          resolve(result);
        },
        deadline(ms, code, detail) {
          clearTimeout(timer);
          timer = setTimeout(() => entry.settle(failed(code, detail, true)), ms);
        },
      };
      pending.set(transferId, entry);
      opts.signal.addEventListener('abort', onAbort, { once: true });
      send(transferId).catch((err: Error) =>
        entry.settle(failed('FACE_FW_NOT_SENT', `the ${kind} could not be queued: ${err.message}`, true)),
      );
    });
  }

  /** The cheap refusals, before any token exists: unknown reader, offline, busy, no image server. */
  function refusal(readerId: string, needsServer: boolean): FirmwareInstallResult | null {
    const link = options.link(readerId);
    if (!config.readers.some((r) => r.id === readerId))
      return failed('FACE_FW_UNKNOWN_READER', `no reader ${readerId} in this driver entry`, false);
    if (needsServer && !config.firmwareHttp)
      return failed(
        'FACE_FW_NO_IMAGE_SERVER',
        'this entry has no firmwareHttp: its readers take no updates',
        false,
      );
    // Configured but not running (the driver is starting or stopping), or the reader is away.
    if (!link || (needsServer && !options.server()) || !link.transport.connected)
      return failed('FACE_FW_READER_OFFLINE', `reader ${readerId} is not connected to the broker`, true);
    if (!link.fw)
      return failed(
        'FACE_FW_NOT_SUPPORTED',
        `reader ${readerId} reports no firmware status (status.fw)`,
        false,
      );
    if (busy(readerId))
      return failed('FACE_FW_BUSY', `reader ${readerId} is already taking an update or a rollback`, true);
    return null;
  }

  const firmware: DriverFirmware = {
    family: 'face-reader',
    async describe(readerId): Promise<FirmwareTerminalInfo> {
      const link = options.link(readerId);
      return {
        terminalId: readerId,
        family: 'face-reader',
        model: link?.fw?.model ?? 'unknown',
        hardware: link?.fw?.hardware ?? '',
        version: link?.transport.connected && link.fw ? link.fw.version : null,
      };
    },

    async install(readerId, image, opts) {
      opts.signal.throwIfAborted();
      const refused = refusal(readerId, true);
      if (refused) return refused;
      const server = options.server() as FirmwareImageServer;
      const link = options.link(readerId) as ReaderLink;
      const ttl = config.firmwareHttp?.tokenTtlMs ?? 1_800_000;
      return open(
        readerId,
        'update',
        image.manifest.size,
        opts,
        async (transferId) => {
          const expiresAt = ctx.clock.now() + ttl;
          const token = server.grant({ readerId, transferId, image, expiresAt });
          pending
            .get(transferId)
            ?.deadline(
              ttl,
              'FACE_FW_TRANSFER_EXPIRED',
              `reader ${readerId} did not fetch and check the image in time`,
            );
          const command: FirmwareCommand = {
            v: FW_PROTOCOL_VERSION,
            op: 'update',
            transferId,
            manifest: Buffer.from(image.manifestBytes).toString('base64'),
            signature: Buffer.from(image.signature).toString('base64'),
            url: server.urlOf(readerId, transferId),
            token,
            expiresAt,
          };
          ctx.logger.info(
            { readerId, transferId, version: image.manifest.version, size: image.manifest.size },
            'firmware update announced',
          );
          await link.transport.publish('firmware', JSON.stringify(command));
        },
        (transferId) => server.revoke(transferId),
      );
    },

    async rollback(readerId, _previous: FirmwareImage | null, opts) {
      opts.signal.throwIfAborted();
      // Face readers keep two slots: the revert is a command, `previous` is not needed.
      const refused = refusal(readerId, false);
      if (refused) return refused;
      const link = options.link(readerId) as ReaderLink;
      const reboot = config.firmwareHttp?.rebootTimeoutMs ?? 300_000;
      return open(
        readerId,
        'rollback',
        0,
        opts,
        async (transferId) => {
          pending
            .get(transferId)
            ?.deadline(reboot, 'FACE_FW_NOT_BACK', `reader ${readerId} did not report after its rollback`);
          const command: FirmwareCommand = { v: FW_PROTOCOL_VERSION, op: 'rollback', transferId };
          ctx.logger.info({ readerId, transferId }, 'firmware rollback sent');
          await link.transport.publish('firmware', JSON.stringify(command));
        },
        () => undefined,
      );
    },
  };

  return {
    firmware,
    onReport(readerId, report) {
      const entry = pending.get(report.transferId);
      if (!entry || entry.readerId !== readerId) return; // a report of an earlier run, or not this reader's
      if (report.state === 'refused' || report.state === 'failed') {
        ctx.logger.warn(
          { readerId, transferId: report.transferId, code: report.code, state: report.state },
          'firmware transfer ended at the reader',
        );
        entry.settle(
          failed(
            report.code ?? (report.state === 'refused' ? 'FACE_FW_REFUSED' : 'FACE_FW_TRANSFER_FAILED'),
            report.detail ?? `reader ${readerId} ${report.state} the ${entry.kind}`,
            report.state === 'failed',
          ),
        );
        return;
      }
      const phase = PHASE[report.state];
      if (phase) {
        entry.onProgress?.({
          bytesDone: report.bytesDone ?? (phase === 'transfer' ? 0 : entry.bytesTotal),
          bytesTotal: report.bytesTotal ?? entry.bytesTotal,
          phase,
        });
      }
      if (report.state === 'rebooting') {
        // The image is fetched and checked: its token goes, and the reader has a while to come back.
        options.server()?.revoke(report.transferId);
        entry.deadline(
          config.firmwareHttp?.rebootTimeoutMs ?? 300_000,
          'FACE_FW_NOT_BACK',
          `reader ${readerId} did not report after its reboot`,
        );
      }
    },
    onStatus(readerId, fw) {
      const last = fw.last;
      if (!last) return;
      const entry = pending.get(last.transferId);
      if (!entry || entry.readerId !== readerId) return;
      ctx.logger.info(
        { readerId, transferId: last.transferId, result: last.result, version: fw.version },
        'reader back after firmware change',
      );
      entry.settle({ outcome: 'installed', version: fw.version });
    },
    stop() {
      for (const entry of [...pending.values()])
        entry.settle(failed('FACE_FW_DRIVER_STOPPED', 'the face-reader driver stopped', true));
    },
  };
}
