import { type DriverErrorCode, fullJitterDelay, sleep } from '@sceneway/core';
import type {
  DriverFirmware,
  DriverLogger,
  FirmwareImage,
  FirmwareInstallOptions,
  FirmwareInstallResult,
  FirmwareTerminalInfo,
} from '../driver-api.ts';
import { DriverError } from '../driver-error.ts';
import type { HttpTransport, TransportFactory } from '../transport.ts';
import { packageBytes, packageLength } from './firmware-upload-body.ts';
import { classify, type DeviceInformation, OnvifConnection } from './onvif-client.ts';
import type { OnvifCameraConfig } from './schema.ts';
import { xsDurationMs } from './xs-duration.ts';

/**
 * Firmware for an ONVIF camera by the Device service's StartFirmwareUpgrade (ONVIF Core, "Firmware
 * upgrade" in Device management): the camera answers with a one-time UploadUri, an UploadDelay to wait
 * and the ExpectedDownTime of its reboot; the box POSTs the whole .swfw package there as
 * application/octet-stream; the camera checks the SM3 digests and the vendor's signature with its own
 * pinned key, flashes its other slot, answers 200 (415 for an image it refuses) and reboots.
 *
 * ONVIF has no resume and no revert: a broken upload is sent again whole under a fresh UploadUri (the
 * old one is spent), and a rollback uploads the previous package again. Once the camera is back, the
 * session's pull point must be there again before the install counts as done; the version reported is
 * GetDeviceInformation's FirmwareVersion, whatever it is (the campaign's health gate judges).
 */
export interface OnvifFirmwareSession {
  /** The number of pull-point subscriptions the session has made so far. */
  subscriptions(): number;
  /** Resolves once the session has made a subscription beyond `count`; null when it is not running. */
  subscribedBeyond(count: number, signal: AbortSignal): Promise<void> | null;
  /** Cuts a reconnect backoff short: the camera is known to be back. */
  reconnectNow(): void;
}

export interface OnvifFirmwareOptions {
  config: OnvifCameraConfig;
  transports: TransportFactory;
  logger: DriverLogger;
  session: OnvifFirmwareSession;
}

const PROGRESS_SLICE = 64 * 1024;
const MAX_UPLOAD_DELAY_MS = 60_000;
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

type UploadVerdict =
  | { kind: 'accepted'; downMs: number }
  | { kind: 'refused'; result: FirmwareInstallResult }
  | { kind: 'retry'; code: DriverErrorCode; detail: string };

export function createOnvifFirmware(options: OnvifFirmwareOptions): DriverFirmware {
  const { config, logger, session } = options;
  const terminalId = config.id;
  const fw = config.firmware;
  let last: DeviceInformation | null = null;
  let busy = false;

  const connection = () => {
    const password = process.env[config.passwordEnv];
    if (!password) return null;
    return new OnvifConnection({
      deviceUrl: config.deviceUrl,
      username: config.username,
      password,
      requestTimeoutMs: config.requestTimeoutMs,
    });
  };

  /** Asks the camera itself; null when it does not answer (rebooting, away). */
  async function ask(): Promise<DeviceInformation | null> {
    const conn = connection();
    if (!conn) return null;
    try {
      await conn.syncClock();
      last = await conn.deviceInformation();
      return last;
    } catch {
      return null;
    } finally {
      conn.close();
    }
  }

  async function answersAtAll(): Promise<boolean> {
    const conn = connection();
    if (!conn) return false;
    try {
      await conn.syncClock(Math.min(config.requestTimeoutMs, 2000));
      return true;
    } catch {
      return false;
    } finally {
      conn.close();
    }
  }

  async function uploadOnce(
    http: HttpTransport,
    image: FirmwareImage,
    opts: FirmwareInstallOptions,
  ): Promise<UploadVerdict> {
    const conn = connection();
    if (!conn) {
      const detail = `environment variable ${config.passwordEnv} is not set`;
      return { kind: 'refused', result: failed('ONVIF_PASSWORD_MISSING', detail, false) };
    }
    try {
      await conn.syncClock();
      const upload = await conn.startFirmwareUpgrade().catch((error: unknown) => {
        const e = classify(error);
        // A fault here is the camera's answer, not the network's: asking again would get the same.
        throw e.code === 'ONVIF_FAULT'
          ? new DriverError('ONVIF_FIRMWARE_UNSUPPORTED', `StartFirmwareUpgrade faulted: ${e.message}`, {
              cause: e,
            })
          : e;
      });
      const device = new URL(config.deviceUrl);
      const target = new URL(upload.uploadUri, device);
      // The camera names where the image goes; it may not send the box (and the image) elsewhere.
      if (target.origin !== device.origin) {
        const detail = `UploadUri ${target.origin} is not the camera's own address ${device.origin}`;
        return { kind: 'refused', result: failed('ONVIF_FIRMWARE_URI_FOREIGN', detail, false) };
      }
      const delayMs = Math.min(xsDurationMs(upload.uploadDelay) ?? 0, MAX_UPLOAD_DELAY_MS);
      if (delayMs > 0 && !(await sleep(delayMs, opts.signal))) throw abortError(opts.signal);
      const total = packageLength(image);
      const answer = await http.request('POST', `${target.pathname}${target.search}`, {
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(total) },
        body: counted(packageBytes(image, PROGRESS_SLICE), total, opts),
        signal: opts.signal,
        timeoutMs: fw.uploadTimeoutMs,
      });
      const said = answer.body.toString('utf8').slice(0, 200);
      if (answer.status === 200) {
        const downMs = Math.min(
          xsDurationMs(upload.expectedDownTime) ?? fw.rebootMarginMs,
          fw.maxRebootWaitMs,
        );
        return { kind: 'accepted', downMs };
      }
      // ONVIF Core: 415 for a file the device will not take (ours: a digest or the signature failed).
      if (answer.status === 415 || answer.status === 413) {
        const detail = `the camera refused the image (HTTP ${answer.status}): ${said}`;
        return { kind: 'refused', result: failed('ONVIF_FIRMWARE_REFUSED', detail, false) };
      }
      // A spent or expired UploadUri (404/410), or a failed flash (500): a fresh upload may succeed.
      return {
        kind: 'retry',
        code: 'ONVIF_FIRMWARE_UPLOAD_FAILED',
        detail: `HTTP ${answer.status}: ${said}`,
      };
    } catch (error) {
      if (opts.signal.aborted) throw abortError(opts.signal);
      const e = classify(error);
      if (e.code === 'ONVIF_AUTH_REFUSED')
        return { kind: 'refused', result: failed(e.code, e.message, false) };
      if (e.code === 'ONVIF_FIRMWARE_UNSUPPORTED')
        return { kind: 'refused', result: failed(e.code, e.message, false) };
      const code = error instanceof DriverError ? error.code : e.code;
      return { kind: 'retry', code, detail: errorText(error).slice(0, 300) };
    } finally {
      conn.close();
    }
  }

  /**
   * The camera answered 200 and reboots. First it must be seen gone (or its ExpectedDownTime pass):
   * a camera still answering in the instant before its reboot would otherwise read as back on the old
   * version. Then it must answer GetDeviceInformation, and the session must hold a pull point again.
   */
  async function awaitReturn(
    downMs: number,
    subscriptionsBefore: number,
    opts: FirmwareInstallOptions,
  ): Promise<FirmwareInstallResult> {
    const start = Date.now();
    const deadline = start + downMs + fw.rebootMarginMs;
    const pause = async () => {
      if (!(await sleep(fw.pollIntervalMs, opts.signal))) throw abortError(opts.signal);
    };
    while (Date.now() - start < downMs && (await answersAtAll())) await pause();
    let info: DeviceInformation | null = null;
    while (!info && Date.now() < deadline) {
      info = await ask();
      if (!info) await pause();
    }
    if (opts.signal.aborted) throw abortError(opts.signal);
    if (!info) {
      const detail = `the camera did not answer within ${downMs + fw.rebootMarginMs} ms of its reboot`;
      return failed('ONVIF_FIRMWARE_REBOOT_TIMEOUT', detail, true);
    }
    session.reconnectNow();
    const left = Math.max(deadline - Date.now(), fw.pollIntervalMs);
    const events = session.subscribedBeyond(
      subscriptionsBefore,
      AbortSignal.any([opts.signal, AbortSignal.timeout(left)]),
    );
    if (events) {
      await events.catch(() => {
        if (opts.signal.aborted) throw abortError(opts.signal);
        logger.warn({ terminalId }, 'onvif camera: back after firmware, but no pull point yet');
      });
    }
    logger.info({ terminalId, version: info.firmwareVersion }, 'onvif camera: back after firmware');
    return { outcome: 'installed', version: info.firmwareVersion };
  }

  async function deliver(image: FirmwareImage, opts: FirmwareInstallOptions): Promise<FirmwareInstallResult> {
    const origin = new URL(config.deviceUrl).origin;
    const http = await options.transports.open(
      { kind: 'http', baseUrl: origin, timeoutMs: config.requestTimeoutMs, maxResponseBytes: 64 * 1024 },
      opts.signal,
    );
    try {
      let lastFailure: { code: DriverErrorCode; detail: string } = {
        code: 'ONVIF_FIRMWARE_UPLOAD_FAILED',
        detail: 'no attempt made',
      };
      for (let attempt = 1; attempt <= fw.uploadAttempts; attempt++) {
        if (opts.signal.aborted) throw abortError(opts.signal);
        const subscriptionsBefore = session.subscriptions();
        const verdict = await uploadOnce(http, image, opts);
        if (verdict.kind === 'refused') return verdict.result;
        if (verdict.kind === 'accepted') {
          const total = packageLength(image);
          opts.onProgress?.({ bytesDone: total, bytesTotal: total, phase: 'reboot' });
          return await awaitReturn(verdict.downMs, subscriptionsBefore, opts);
        }
        lastFailure = verdict;
        logger.warn(
          { terminalId, code: verdict.code, attempt, attempts: fw.uploadAttempts },
          'onvif camera: firmware upload broke off; sending it again whole (ONVIF has no resume)',
        );
        const policy = {
          initialDelayMs: config.reconnect.initialDelayMs,
          maxDelayMs: config.reconnect.maxDelayMs,
        };
        if (attempt < fw.uploadAttempts && !(await sleep(fullJitterDelay(policy, attempt), opts.signal))) {
          throw abortError(opts.signal);
        }
      }
      return failed(
        lastFailure.code,
        `${fw.uploadAttempts} uploads failed; last: ${lastFailure.detail}`,
        true,
      );
    } finally {
      await http.close();
    }
  }

  async function exclusive(
    id: string,
    run: () => Promise<FirmwareInstallResult>,
  ): Promise<FirmwareInstallResult> {
    if (id !== terminalId)
      return failed('ONVIF_FIRMWARE_UNKNOWN_TERMINAL', `this driver is ${terminalId}`, false);
    if (busy) return failed('ONVIF_FIRMWARE_BUSY', 'an upgrade of this camera is under way', true);
    busy = true;
    try {
      return await run();
    } finally {
      busy = false;
    }
  }

  return {
    family: 'onvif-camera',
    async describe(id): Promise<FirmwareTerminalInfo> {
      const info = id === terminalId ? await ask() : null;
      const known = info ?? last;
      return {
        terminalId: id,
        family: 'onvif-camera',
        model: known?.model ?? '',
        hardware: known?.hardwareId ?? '',
        version: info ? info.firmwareVersion : null,
      };
    },
    install(id, image, opts) {
      return exclusive(id, () => deliver(image, opts));
    },
    rollback(id, previous, opts) {
      // ONVIF has no revert: the camera goes back by taking the package it ran before, uploaded again.
      if (!previous) {
        return Promise.resolve(
          failed('ONVIF_FIRMWARE_NO_PREVIOUS', 'ONVIF cannot revert without the previous package', false),
        );
      }
      return exclusive(id, () => deliver(previous, opts));
    },
  };
}

function failed(code: DriverErrorCode, detail: string, retryable: boolean): FirmwareInstallResult {
  return { outcome: 'failed', code, detail, retryable };
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('firmware install aborted');
}

/** The package stream, reporting what has been handed to the socket. */
async function* counted(
  bytes: AsyncIterable<Uint8Array>,
  total: number,
  opts: FirmwareInstallOptions,
): AsyncGenerator<Uint8Array> {
  let done = 0;
  opts.onProgress?.({ bytesDone: 0, bytesTotal: total, phase: 'transfer' });
  for await (const slice of bytes) {
    yield slice;
    done += slice.length;
    opts.onProgress?.({ bytesDone: done, bytesTotal: total, phase: 'transfer' });
  }
  // Every byte is out: the camera checks digests and signature before it answers.
  opts.onProgress?.({ bytesDone: done, bytesTotal: total, phase: 'verify' });
}
