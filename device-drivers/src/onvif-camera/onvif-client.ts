import { Agent } from 'node:http';
import onvif from 'onvif';
import { DriverError } from '../driver-error.ts';

/**
 * The unmodified `onvif` package's Cam, in promises, for one connection to one camera. What the
 * package offers is used as it is: connect() (GetSystemDateAndTime, GetServices or GetCapabilities,
 * GetProfiles, GetVideoSources), getDeviceInformation, getSnapshotUri, createPullPointSubscription,
 * pullMessages, renew, unsubscribe, all signed with its WS-UsernameToken PasswordDigest. DeviceIO
 * SetRelayOutputState, which it lacks, goes through its own `_request` with its own envelope, so the
 * relay call is signed and addressed exactly like the rest (docs/decisions.md, the ONVIF entry).
 *
 * Every connection has its own http.Agent, handed to the Cam and put on the pull point's address
 * (the package sends PullMessages/Renew/Unsubscribe to that URL object as request options): closing
 * the connection destroys the agent's sockets, so a PullMessages the camera holds for a minute ends at
 * once and no socket or timer outlives the driver.
 */
export interface OnvifConnectionOptions {
  deviceUrl: string;
  username: string;
  password: string;
  requestTimeoutMs: number;
}

/** One message of a PullMessagesResponse as the package hands it (xml2js, prefixes stripped). */
export type NotificationMessage = Record<string, unknown>;

export interface PullResult {
  messages: NotificationMessage[];
  /** Local time at which the camera will end the subscription unless renewed. */
  terminationAt: number;
}

type Callback = (err: Error | null, data?: unknown, xml?: string) => void;
/** The package's internal request path: typed here, once, for the DeviceIO call it has no method for. */
interface RawSoap {
  _request(options: { service?: string; action?: string; body: string }, callback: Callback): void;
  _envelopeHeader(openHeader?: boolean): string;
  _envelopeFooter(): string;
}

const DEVICE_IO_NS = 'http://www.onvif.org/ver10/deviceIO/wsdl';
const DEVICE_NS = 'http://www.onvif.org/ver10/device/wsdl';

/** GetDeviceInformation, as strings (the package turns "2" into a number). */
export interface DeviceInformation {
  manufacturer: string;
  model: string;
  firmwareVersion: string;
  serialNumber: string;
  hardwareId: string;
}

/** StartFirmwareUpgradeResponse (devicemgmt.wsdl): where to POST the image, when, and for how long it is gone. */
export interface FirmwareUpload {
  uploadUri: string;
  uploadDelay: string;
  expectedDownTime: string;
}
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'EPIPE',
]);

/** Sorts an error of the package into what the driver does about it. */
export function classify(error: unknown): DriverError {
  if (error instanceof DriverError) return error;
  const err = error as { code?: string; message?: string };
  const message = err?.message ?? String(error);
  if ((err?.code && NETWORK_CODES.has(err.code)) || /socket hang up|Network timeout/.test(message)) {
    return new DriverError('ONVIF_UNREACHABLE', message, { cause: error });
  }
  if (/^ONVIF SOAP Fault/.test(message)) {
    if (/not ?authori[sz]ed/i.test(message))
      return new DriverError('ONVIF_AUTH_REFUSED', message, { cause: error });
    return new DriverError('ONVIF_FAULT', message, { cause: error });
  }
  return new DriverError('ONVIF_RESPONSE_INVALID', message, { cause: error });
}

function localTermination(data: unknown): number {
  const d = data as { currentTime?: unknown; terminationTime?: unknown } | undefined;
  const current = d?.currentTime instanceof Date ? d.currentTime.getTime() : Number.NaN;
  const termination = d?.terminationTime instanceof Date ? d.terminationTime.getTime() : Number.NaN;
  if (!Number.isFinite(current) || !Number.isFinite(termination)) {
    throw new DriverError('ONVIF_RESPONSE_INVALID', 'no CurrentTime/TerminationTime in the answer');
  }
  // The camera's clock may be off: what counts is how long it has left, measured from now.
  return Date.now() + (termination - current);
}

export class OnvifConnection {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 4 });
  private readonly cam: onvif.Cam;
  private closed = false;
  snapshotUri: string | null = null;

  constructor(private readonly options: OnvifConnectionOptions) {
    const url = new URL(options.deviceUrl);
    this.cam = new onvif.Cam({
      hostname: url.hostname,
      port: Number(url.port || (url.protocol === 'https:' ? 443 : 80)),
      path: url.pathname,
      username: options.username,
      password: options.password,
      useSecure: url.protocol === 'https:',
      timeout: options.requestTimeoutMs,
      autoconnect: false,
      agent: this.agent,
    });
  }

  /** Runs one package call; a camera that does not answer within `timeoutMs` is cut off (ONVIF_SILENT). */
  private call<T>(what: string, timeoutMs: number, start: (done: Callback) => void): Promise<T> {
    if (this.closed)
      return Promise.reject(new DriverError('ONVIF_UNREACHABLE', `${what}: connection closed`));
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        reject(new DriverError('ONVIF_SILENT', `${what}: no answer within ${timeoutMs} ms`));
        this.close();
      }, timeoutMs);
      try {
        start((err, data) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (err) reject(classify(err));
          else resolve(data as T);
        });
      } catch (err) {
        settled = true;
        clearTimeout(timer);
        reject(classify(err));
      }
    });
  }

  async connect(): Promise<{ model: string }> {
    const t = this.options.requestTimeoutMs;
    // connect() runs several requests; give it room for them, each still bounded by the socket timeout.
    await this.call<void>('connect', 4 * t, (done) => this.cam.connect((err) => done(err)));
    if (!this.cam.uri?.events) {
      throw new DriverError(
        'ONVIF_NO_EVENTS',
        'the camera lists no event service (GetServices/GetCapabilities)',
      );
    }
    const info = await this.call<{ manufacturer?: unknown; model?: unknown }>(
      'GetDeviceInformation',
      t,
      (done) => this.cam.getDeviceInformation(done),
    );
    return { model: `${String(info?.manufacturer ?? '?')} ${String(info?.model ?? '?')}` };
  }

  /**
   * GetSystemDateAndTime only: the package learns the camera's clock from it (the UsernameToken's
   * Created is the camera's time), which is all a firmware exchange needs before its signed calls.
   */
  async syncClock(timeoutMs = this.options.requestTimeoutMs): Promise<void> {
    await this.call<unknown>('GetSystemDateAndTime', timeoutMs, (done) =>
      this.cam.getSystemDateAndTime(done),
    );
  }

  async deviceInformation(): Promise<DeviceInformation> {
    const info = await this.call<Record<string, unknown> | undefined>(
      'GetDeviceInformation',
      this.options.requestTimeoutMs,
      (done) => this.cam.getDeviceInformation(done),
    );
    const text = (key: string) => (info?.[key] === undefined ? '' : String(info[key]));
    return {
      manufacturer: text('manufacturer'),
      model: text('model'),
      firmwareVersion: text('firmwareVersion'),
      serialNumber: text('serialNumber'),
      hardwareId: text('hardwareId'),
    };
  }

  /**
   * Device StartFirmwareUpgrade (ONVIF Core, Device management "Start firmware upgrade"), which the
   * package lacks: through its own `_request` and envelope, so it is signed like every other call.
   */
  async startFirmwareUpgrade(): Promise<FirmwareUpload> {
    const raw = this.cam as unknown as RawSoap;
    const body =
      raw._envelopeHeader() + `<StartFirmwareUpgrade xmlns="${DEVICE_NS}"/>` + raw._envelopeFooter();
    const data = await this.call<unknown>('StartFirmwareUpgrade', this.options.requestTimeoutMs, (done) =>
      raw._request({ action: `${DEVICE_NS}/StartFirmwareUpgrade`, body }, done),
    );
    const answer = recordOf(recordOf(data)?.startFirmwareUpgradeResponse);
    const field = (name: string) => textOf(answer?.[name]);
    const uploadUri = field('uploadUri');
    if (!uploadUri) throw new DriverError('ONVIF_RESPONSE_INVALID', 'StartFirmwareUpgrade gave no UploadUri');
    return {
      uploadUri,
      uploadDelay: field('uploadDelay') ?? 'PT0S',
      expectedDownTime: field('expectedDownTime') ?? '',
    };
  }

  async loadSnapshotUri(): Promise<string | null> {
    if (!this.cam.activeSource) return null;
    const media = await this.call<{ uri?: unknown }>(
      'GetSnapshotUri',
      this.options.requestTimeoutMs,
      (done) => this.cam.getSnapshotUri({}, done),
    );
    this.snapshotUri = typeof media?.uri === 'string' ? media.uri : null;
    return this.snapshotUri;
  }

  async subscribe(): Promise<number> {
    const data = await this.call<unknown>(
      'CreatePullPointSubscription',
      this.options.requestTimeoutMs,
      (done) => this.cam.createPullPointSubscription(done),
    );
    const address = this.cam.events.subscription?.subscriptionReference?.address as
      | (Record<string, unknown> & { href?: string })
      | undefined;
    if (!address?.href)
      throw new DriverError('ONVIF_RESPONSE_INVALID', 'no pull point address in the answer');
    // The camera names where to pull; it may not send the box (and its signed tokens) to another host.
    const device = new URL(this.options.deviceUrl);
    const pullPoint = new URL(address.href);
    if (pullPoint.host !== device.host || pullPoint.protocol !== device.protocol) {
      throw new DriverError(
        'ONVIF_RESPONSE_INVALID',
        `the pull point ${pullPoint.origin} is not the camera's own address ${device.origin}`,
      );
    }
    // The package uses this URL object as the request options of every pull-point call.
    address.agent = this.agent;
    return localTermination(data);
  }

  async pull(silenceTimeoutMs: number, messageLimit = 10): Promise<PullResult> {
    const data = await this.call<Record<string, unknown>>('PullMessages', silenceTimeoutMs, (done) =>
      this.cam.pullMessages({ messageLimit }, done),
    );
    const raw = data?.notificationMessage;
    const messages = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    return { messages: messages as NotificationMessage[], terminationAt: localTermination(data) };
  }

  async renew(): Promise<number> {
    const data = await this.call<unknown>('Renew', this.options.requestTimeoutMs, (done) =>
      this.cam.renew({}, done),
    );
    return localTermination(data);
  }

  /** Best effort on the way out: the camera frees the pull point now rather than at its termination time. */
  async unsubscribe(): Promise<void> {
    if (!this.cam.events.subscription) return;
    await this.call<void>('Unsubscribe', Math.min(this.options.requestTimeoutMs, 1000), (done) =>
      this.cam.unsubscribe(done, true),
    ).catch(() => undefined);
  }

  async setRelay(token: string, state: 'active' | 'inactive'): Promise<void> {
    const raw = this.cam as unknown as RawSoap;
    if (!this.cam.uri || !('deviceIO' in this.cam.uri)) {
      throw new DriverError('ONVIF_RELAY_FAILED', 'the camera lists no DeviceIO service');
    }
    const body =
      raw._envelopeHeader() +
      `<SetRelayOutputState xmlns="${DEVICE_IO_NS}">` +
      `<RelayOutputToken>${xmlText(token)}</RelayOutputToken><LogicalState>${state}</LogicalState>` +
      '</SetRelayOutputState>' +
      raw._envelopeFooter();
    await this.call<void>('SetRelayOutputState', this.options.requestTimeoutMs, (done) =>
      // The SOAP action given, so the package need not parse our own body with xml2js to find it: this
      // call is on the barrier's critical path.
      raw._request({ service: 'deviceIO', action: `${DEVICE_IO_NS}/SetRelayOutputState`, body }, done),
    ).catch((error: unknown) => {
      const e = classify(error);
      throw e.code === 'ONVIF_FAULT' ? new DriverError('ONVIF_RELAY_FAILED', e.message, { cause: e }) : e;
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.agent.destroy();
  }
}

/** xml2js gives every element as an array of its occurrences: the first, as an element. */
function recordOf(value: unknown): Record<string, unknown> | undefined {
  const one = Array.isArray(value) ? value[0] : value;
  return one && typeof one === 'object' ? (one as Record<string, unknown>) : undefined;
}

/** The first occurrence's text (xml2js puts it under `_` when the element has attributes). */
function textOf(value: unknown): string | undefined {
  const one = Array.isArray(value) ? value[0] : value;
  if (typeof one === 'string') return one;
  const inner = recordOf(one)?._;
  return typeof inner === 'string' ? inner : undefined;
}

function xmlText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
