import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FirmwareSlots, type SlotState } from './firmware-slots.ts';
import { type FirmwareFaults, type FirmwareUploadStats, FirmwareUploads } from './firmware-upload.ts';
import { NS, TOPIC_HIK_VEHICLE, TOPIC_LICENSE_PLATE } from './namespaces.ts';
import * as reply from './onvif-responses.ts';
import { type PullPoint, PullPoints } from './pull-points.ts';
import { snapshotJpeg } from './snapshot-jpeg.ts';
import {
  childText,
  envelope,
  escapeXml,
  faultBody,
  readEnvelope,
  type SoapFault,
  SoapReadError,
  type XmlElement,
} from './soap-xml.ts';
import { createUsernameTokenChecker, type TokenVerdict } from './ws-username-token.ts';
import { durationOrInstantMs } from './xs-duration.ts';

/**
 * A simulated ONVIF licence-plate camera: a real HTTP server speaking SOAP 1.2 as the ONVIF WSDLs do
 * (Device, Media, Events with pull points and WS-Addressing, DeviceIO relays), checking WS-Security
 * UsernameToken digests, and emitting plate events in the standard Recognition/LicensePlate topic or
 * the Hikvision Vehicle flavour. Fault modes: a reboot that forgets subscriptions, slow answers, SOAP
 * faults, refused credentials, silence, a junk answer, the network going away.
 */
export interface SimOnvifCameraOptions {
  username?: string;
  password?: string;
  host?: string;
  /** 0 (default) for an ephemeral port. */
  port?: number;
  relayTokens?: readonly string[];
  identity?: Partial<reply.CameraIdentity>;
  /** Camera clock minus ours: a camera whose clock is off (the UsernameToken window is the camera's). */
  clockSkewMs?: number;
  /** Accepted |Created - camera time| for a UsernameToken; default 5 minutes. */
  createdWindowMs?: number;
  /** The longest the camera holds a PullMessages waiting for events, whatever Timeout asks; default 60 s. */
  maxPullWaitMs?: number;
  /** Caps the termination time a client asks for (devices may grant less); default 10 minutes. */
  maxLeaseMs?: number;
  /** Fault: the pull-point address names this origin instead of the camera's own (a hostile device). */
  pullPointOrigin?: string;
  /** Pinned vendor SM2 public keys (uncompressed hex) the camera verifies firmware manifests with. */
  vendorPublicKeys?: readonly string[];
  /** Where the camera keeps its firmware slots across a simulator restart; none: in memory only. */
  stateDir?: string;
  /** How long a firmware reboot keeps the camera off the network (its ExpectedDownTime); default 1 s. */
  firmwareRebootMs?: number;
  /**
   * After answering the upload, the camera goes on answering (on its old image) this long before it
   * reboots, as real ones do while they write flash; default 100 ms. A client that asks at once and
   * believes the answer reads the old version.
   */
  activateMs?: number;
  /** UploadDelay the camera announces; default 0. */
  uploadDelayMs?: number;
  /** How long an UploadUri stays good; default 60 s. */
  uploadUriTtlMs?: number;
  /** Largest image the camera takes; default 256 MiB. */
  maxImageBytes?: number;
  /** Whether the factory image counts as signed; default true. */
  factorySigned?: boolean;
  firmwareFaults?: FirmwareFaults;
  /** Fault: the UploadUri names this origin instead of the camera's own (a hostile device). */
  uploadUriOrigin?: string;
}

/** What the camera says of its firmware (sim status endpoint and CLI): the e2e asserts `signed`. */
export interface SimFirmwareStatus {
  version: string;
  reportedVersion: string;
  signed: boolean;
  slots: SlotState;
  uploads: FirmwareUploadStats;
  faults: FirmwareFaults;
}

export interface PlateToEmit {
  plate: string;
  /** 0..1. The Hikvision flavour sends it as an integer percentage. */
  likelihood: number;
  flavour?: 'onvif' | 'hikvision';
  plateType?: string;
  countryCode?: string;
  /** Key/ObjectId of the event; a fresh id by default. */
  objectId?: string;
}

export interface RelayCommand {
  token: string;
  state: 'active' | 'inactive';
  /** performance.now() when the command was received (bench: event emitted → relay received). */
  receivedAt: number;
}

export interface SimStats {
  subscriptionsCreated: number;
  renewals: number;
  unsubscribes: number;
  pulls: number;
  authRefusals: Record<string, number>;
  liveSubscriptions: number;
  boots: number;
}

type Operation = `${string}#${string}`;
type FirmwareOptionName =
  | 'identity'
  | 'vendorPublicKeys'
  | 'stateDir'
  | 'firmwareRebootMs'
  | 'activateMs'
  | 'uploadDelayMs'
  | 'uploadUriTtlMs'
  | 'maxImageBytes'
  | 'factorySigned'
  | 'firmwareFaults'
  | 'uploadUriOrigin';

const MAX_BODY_BYTES = 64 * 1024;
/** Operations ONVIF Core §5.9.4 puts in the PRE_AUTH class: answered without a UsernameToken. */
const PRE_AUTH = new Set<Operation>([
  `${NS.tds}#GetSystemDateAndTime`,
  `${NS.tds}#GetServices`,
  `${NS.tds}#GetCapabilities`,
  `${NS.tds}#GetServiceCapabilities`,
]);

const ACTION = {
  createPullPoint: `${NS.tev}/EventPortType/CreatePullPointSubscriptionResponse`,
  pull: `${NS.tev}/PullPointSubscription/PullMessagesResponse`,
  renew: 'http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/RenewResponse',
  unsubscribe: 'http://docs.oasis-open.org/wsn/bw-2/SubscriptionManager/UnsubscribeResponse',
};

export class SimOnvifCamera extends EventEmitter {
  private readonly options: Required<Omit<SimOnvifCameraOptions, FirmwareOptionName>> & {
    identity: reply.CameraIdentity;
  };
  private readonly slots: FirmwareSlots;
  readonly firmware: FirmwareUploads;
  private readonly firmwareRebootMs: number;
  private readonly activateMs: number;
  private readonly uploadUriOrigin: string;
  private readonly uploadDelayMs: number;
  private rebooting: Promise<void> | null = null;
  private readonly users = new Map<string, string>();
  private readonly pullPoints = new PullPoints();
  private readonly sockets = new Set<Socket>();
  private readonly held = new Set<ServerResponse>();
  private server: Server | null = null;
  private boundPort = 0;
  private slowMs = 0;
  private silent = false;
  private refuseAllAuth = false;
  private junkNextPull = false;
  private readonly faults = new Map<string, SoapFault>();
  private readonly relayStates = new Map<string, 'active' | 'inactive'>();
  readonly stats: SimStats = {
    subscriptionsCreated: 0,
    renewals: 0,
    unsubscribes: 0,
    pulls: 0,
    authRefusals: {},
    liveSubscriptions: 0,
    boots: 1,
  };
  private readonly tokens;

  constructor(options: SimOnvifCameraOptions = {}) {
    super();
    this.options = {
      username: options.username ?? 'admin',
      password: options.password ?? 'camera-pass',
      host: options.host ?? '127.0.0.1',
      port: options.port ?? 0,
      relayTokens: options.relayTokens ?? ['relay_barrier'],
      clockSkewMs: options.clockSkewMs ?? 0,
      createdWindowMs: options.createdWindowMs ?? 5 * 60_000,
      maxPullWaitMs: options.maxPullWaitMs ?? 60_000,
      maxLeaseMs: options.maxLeaseMs ?? 10 * 60_000,
      pullPointOrigin: options.pullPointOrigin ?? '',
      identity: {
        manufacturer: 'Sceneway Sim',
        model: 'LPR-Cam-1',
        firmwareVersion: '1.0.0',
        serialNumber: randomUUID().slice(0, 8).toUpperCase(),
        hardwareId: 'sim-onvif-1',
        ...options.identity,
      },
    };
    this.firmwareRebootMs = options.firmwareRebootMs ?? 1000;
    this.activateMs = options.activateMs ?? 100;
    this.uploadUriOrigin = options.uploadUriOrigin ?? '';
    this.uploadDelayMs = options.uploadDelayMs ?? 0;
    this.slots = new FirmwareSlots(options.stateDir, {
      version: this.options.identity.firmwareVersion,
      signed: options.factorySigned ?? true,
      sm3: null,
      flashedAt: new Date(this.now()).toISOString(),
    });
    this.firmware = new FirmwareUploads({
      vendorPublicKeys: options.vendorPublicKeys ?? [],
      maxImageBytes: options.maxImageBytes ?? 256 * 1024 * 1024,
      uploadUriTtlMs: options.uploadUriTtlMs ?? 60_000,
      now: () => this.now(),
      camera: () => ({
        model: this.options.identity.model,
        hardwareId: this.options.identity.hardwareId,
        runningVersion: this.slots.running().version,
        slotVersions: this.slots.versions(),
      }),
    });
    Object.assign(this.firmware.faults, options.firmwareFaults);
    this.users.set(this.options.username, this.options.password);
    for (const t of this.options.relayTokens) this.relayStates.set(t, 'inactive');
    this.tokens = createUsernameTokenChecker({
      users: () => this.users,
      now: () => this.now(),
      windowMs: this.options.createdWindowMs,
    });
  }

  /** The camera's own clock. */
  now(): number {
    return Date.now() + this.options.clockSkewMs;
  }

  /** Moves the camera's clock on (an UploadUri's expiry, without a test that sleeps). */
  advanceClock(ms: number): void {
    this.options.clockSkewMs += ms;
  }

  /** Sets firmware faults; a field given as null or false clears it. */
  setFirmwareFaults(faults: FirmwareFaults): void {
    Object.assign(this.firmware.faults, faults);
  }

  /** The version it reports, the one it runs, and whether that image's signature was verified. */
  firmwareStatus(): SimFirmwareStatus {
    const running = this.slots.running();
    return {
      version: running.version,
      reportedVersion: this.reportedVersion(),
      signed: running.signed,
      slots: this.slots.snapshot,
      uploads: structuredClone(this.firmware.stats),
      faults: { ...this.firmware.faults },
    };
  }

  /** Resolves once a firmware reboot under way (if any) has the camera back on the network. */
  async firmwareSettled(): Promise<void> {
    await this.rebooting;
  }

  private reportedVersion(): string {
    return this.firmware.faults.reportVersion || this.slots.running().version;
  }

  get port(): number {
    return this.boundPort;
  }

  /** The device service address a client is configured with. */
  get deviceUrl(): string {
    return `http://${this.options.host}:${this.boundPort}/onvif/device_service`;
  }

  private base(): string {
    return `http://${this.options.host}:${this.boundPort}`;
  }

  async start(): Promise<string> {
    if (this.server) return this.deviceUrl;
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(err));
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort || this.options.port, this.options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (server.address() as AddressInfo).port;
    this.server = server;
    return this.deviceUrl;
  }

  /** The network goes away (cable pulled): no listener, every connection cut; state is kept. */
  async disconnect(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const res of this.held) res.destroy();
    this.held.clear();
    this.pullPoints.wakeAll();
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The network comes back on the same port. */
  async reconnect(): Promise<void> {
    await this.start();
  }

  /**
   * Power cycle: the camera drops off the network, forgets every subscription (devices keep them in
   * RAM), and comes back after `downMs` on the same address. Resolves once it answers again.
   */
  async reboot(downMs = 50): Promise<void> {
    await this.disconnect();
    this.pullPoints.clear();
    this.stats.liveSubscriptions = 0;
    this.stats.boots++;
    this.slots.boot(this.firmware.faults.bootFail === true);
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.start();
    this.emit('rebooted', this.stats.boots);
  }

  async close(): Promise<void> {
    this.silent = false;
    await this.disconnect();
    this.pullPoints.clear();
  }

  /** Every answer waits this long first (a loaded or distant camera). */
  setSlow(ms: number): void {
    this.slowMs = ms;
  }

  /** Requests are read and never answered (a hung camera); turning it off cuts the held ones. */
  setSilent(silent: boolean): void {
    this.silent = silent;
    if (!silent) {
      for (const res of this.held) res.destroy();
      this.held.clear();
    }
  }

  /** The camera's password was changed behind our back: every UsernameToken is refused. */
  setRefuseAllAuth(refuse: boolean): void {
    this.refuseAllAuth = refuse;
  }

  /** Every request for `operation` (local name, e.g. 'PullMessages') gets this fault; null clears it. */
  setFault(operation: string, fault: SoapFault | null): void {
    if (fault) this.faults.set(operation, fault);
    else this.faults.delete(operation);
  }

  /** The next PullMessages is answered with bytes that are no SOAP envelope (firmware bug). */
  junkNext(): void {
    this.junkNextPull = true;
  }

  relayState(token: string): 'active' | 'inactive' | undefined {
    return this.relayStates.get(token);
  }

  /** Queues a plate event on every live pull point; returns its ObjectId. */
  emitPlate(p: PlateToEmit): string {
    const objectId = p.objectId ?? randomUUID();
    const hik = p.flavour === 'hikvision';
    const data: Record<string, string> = hik
      ? {
          LicensePlate: p.plate,
          PlateType: p.plateType ?? 'civil',
          Country: p.countryCode ?? 'CN',
          Confidence: String(Math.round(p.likelihood * 100)),
        }
      : {
          PlateNumber: p.plate,
          PlateType: p.plateType ?? 'Normal',
          CountryCode: p.countryCode ?? 'CN',
          Likelihood: String(p.likelihood),
        };
    this.emitEvent({
      topic: hik ? TOPIC_HIK_VEHICLE : TOPIC_LICENSE_PLATE,
      utcTime: this.now(),
      source: hik
        ? { VideoSource: reply.VIDEO_SOURCE_TOKEN }
        : { VideoSource: reply.VIDEO_SOURCE_TOKEN, Rule: 'LaneLPR' },
      key: { ObjectId: objectId },
      data,
    });
    return objectId;
  }

  /** Queues any event (an unknown topic, for a client's tolerance). */
  emitEvent(event: reply.QueuedEvent): void {
    this.pullPoints.publish(event, this.now());
  }

  private addresses(): reply.ServiceAddresses {
    const b = this.base();
    return {
      device: `${b}/onvif/device_service`,
      media: `${b}/onvif/media_service`,
      events: `${b}/onvif/events_service`,
      deviceIO: `${b}/onvif/deviceio_service`,
    };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', this.base()).pathname;
    // The upload is streamed through the package reader, never read whole (it may be tens of MiB).
    if (FirmwareUploads.isUploadPath(path) && !this.silent) {
      await this.receiveFirmware(path, req, res);
      return;
    }
    const body = await readBody(req);
    if (req.method === 'GET' && path === '/sim/status') {
      const json = JSON.stringify({ firmware: this.firmwareStatus(), stats: this.stats });
      res
        .writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) })
        .end(json);
      return;
    }
    if (this.silent) {
      this.held.add(res);
      res.on('close', () => this.held.delete(res));
      return;
    }
    if (this.slowMs > 0) await new Promise((resolve) => setTimeout(resolve, this.slowMs));
    if (req.method === 'GET' && path.startsWith('/onvif/snapshot/')) {
      const jpeg = snapshotJpeg(`snapshot ${path} at ${new Date(this.now()).toISOString()}`);
      res.writeHead(200, { 'content-type': 'image/jpeg', 'content-length': jpeg.length }).end(jpeg);
      return;
    }
    if (req.method !== 'POST') {
      res.writeHead(405, { allow: 'POST' }).end();
      return;
    }
    if (body === null) {
      this.sendFault(res, { code: 'Sender', subcodes: [], reason: `request over ${MAX_BODY_BYTES} bytes` });
      return;
    }
    let parsed: ReturnType<typeof readEnvelope>;
    try {
      parsed = readEnvelope(body.toString('utf8'));
    } catch (err) {
      if (!(err instanceof SoapReadError)) throw err;
      this.sendFault(res, { code: 'Sender', subcodes: ['ter:WellFormed'], reason: err.message });
      return;
    }
    const { header, operation } = parsed;
    const op: Operation = `${operation.ns}#${operation.local}`;
    if (!PRE_AUTH.has(op)) {
      const verdict: TokenVerdict = this.refuseAllAuth
        ? { ok: false, reason: 'bad-digest' }
        : this.tokens.verify(header);
      if (!verdict.ok) {
        this.stats.authRefusals[verdict.reason] = (this.stats.authRefusals[verdict.reason] ?? 0) + 1;
        this.emit('auth-refused', verdict.reason);
        this.sendFault(res, {
          code: 'Sender',
          subcodes: ['ter:NotAuthorized'],
          reason: `Sender not Authorized (${verdict.reason})`,
        });
        return;
      }
    }
    const fault = this.faults.get(operation.local);
    if (fault) {
      this.sendFault(res, fault);
      return;
    }
    const answer = await this.dispatch(path, op, operation, header);
    if ('fault' in answer) this.sendFault(res, answer.fault);
    else if ('junk' in answer)
      res.writeHead(200, { 'content-type': 'application/soap+xml' }).end(answer.junk);
    else this.sendBody(res, answer.body, answer.headers ?? '');
  }

  private async dispatch(
    path: string,
    op: Operation,
    el: XmlElement,
    header: XmlElement | null,
  ): Promise<{ body: string; headers?: string } | { fault: SoapFault } | { junk: string }> {
    const unknown = {
      fault: {
        code: 'Sender' as const,
        subcodes: ['ter:ActionNotSupported'],
        reason: `${el.local} is not supported at ${path}`,
      },
    };
    const subMatch = /^\/onvif\/subscription\/([\w-]+)$/.exec(path);
    if (subMatch) return this.subscriptionOperation(subMatch[1] as string, op, el, header);
    switch (path) {
      case '/onvif/device_service':
        switch (op) {
          case `${NS.tds}#GetSystemDateAndTime`:
            return { body: reply.systemDateAndTime(this.now()) };
          case `${NS.tds}#GetServices`:
            return { body: reply.services(this.addresses()) };
          case `${NS.tds}#GetCapabilities`:
            return { body: reply.capabilities(this.addresses()) };
          case `${NS.tds}#GetDeviceInformation`:
            return {
              body: reply.deviceInformation({
                ...this.options.identity,
                firmwareVersion: this.reportedVersion(),
              }),
            };
          case `${NS.tds}#StartFirmwareUpgrade`: {
            const { uri } = this.firmware.issue(this.uploadUriOrigin || this.base());
            this.emit('firmware-upgrade-started', uri);
            // Announced with room to spare, as cameras do: a client that waits to see it gone is not
            // misled by a reboot that starts late on a loaded machine.
            const downMs = 4 * (this.activateMs + this.firmwareRebootMs);
            return { body: reply.firmwareUpgradeStarted(uri, this.uploadDelayMs, downMs) };
          }
        }
        return unknown;
      case '/onvif/media_service':
        switch (op) {
          case `${NS.trt}#GetProfiles`:
            return { body: reply.profiles() };
          case `${NS.trt}#GetVideoSources`:
            return { body: reply.videoSources() };
          case `${NS.trt}#GetSnapshotUri`: {
            const token = childText(el, NS.trt, 'ProfileToken');
            if (token !== reply.PROFILE_TOKEN) {
              return {
                fault: {
                  code: 'Sender',
                  subcodes: ['ter:InvalidArgVal', 'ter:NoProfile'],
                  reason: 'no such profile',
                },
              };
            }
            return { body: reply.snapshotUri(`${this.base()}/onvif/snapshot/${token}.jpg`) };
          }
        }
        return unknown;
      case '/onvif/events_service':
        switch (op) {
          case `${NS.tev}#GetEventProperties`:
            return { body: reply.eventProperties() };
          case `${NS.tev}#CreatePullPointSubscription`:
            return this.createPullPoint(el, header);
        }
        return unknown;
      case '/onvif/deviceio_service':
        switch (op) {
          case `${NS.tmd}#GetRelayOutputs`:
            return { body: reply.relayOutputs(this.options.relayTokens) };
          case `${NS.tmd}#SetRelayOutputState`:
            return this.setRelay(el);
        }
        return unknown;
    }
    return unknown;
  }

  private async receiveFirmware(path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const outcome = await this.firmware.receive(path, req, res);
    this.emit('firmware-upload', outcome.kind);
    if (outcome.kind !== 'flashed') return;
    this.slots.flash(outcome.image);
    // ONVIF Core: the device answers the POST, then reprograms itself and reboots.
    res.once('finish', () => {
      this.rebooting = new Promise((resolve) => setTimeout(resolve, this.activateMs))
        .then(() => this.reboot(this.firmwareRebootMs))
        .finally(() => {
          this.rebooting = null;
        });
    });
  }

  private lease(requested: string | undefined, now: number, fallbackMs: number): number {
    const asked = requested === undefined ? fallbackMs : durationOrInstantMs(requested, now);
    return Math.min(Math.max(asked ?? fallbackMs, 1000), this.options.maxLeaseMs);
  }

  private createPullPoint(el: XmlElement, header: XmlElement | null) {
    const now = this.now();
    const terminationAt = now + this.lease(childText(el, NS.tev, 'InitialTerminationTime'), now, 60_000);
    const { id, address } = this.pullPoints.create(
      `${this.options.pullPointOrigin || this.base()}/onvif/subscription`,
      terminationAt,
    );
    this.stats.subscriptionsCreated++;
    this.stats.liveSubscriptions = this.pullPoints.size;
    this.emit('subscribed', id);
    return {
      body: reply.subscriptionCreated(address, now, terminationAt),
      headers: this.addressingReply(ACTION.createPullPoint, header),
    };
  }

  private async subscriptionOperation(
    id: string,
    op: Operation,
    el: XmlElement,
    header: XmlElement | null,
  ): Promise<{ body: string; headers?: string } | { fault: SoapFault } | { junk: string }> {
    const now = this.now();
    const found = this.pullPoints.live(id, now);
    this.stats.liveSubscriptions = this.pullPoints.size;
    // WS-Addressing: a request to a subscription names it in wsa:To; one naming another is misrouted.
    const to = childText(header, NS.wsa, 'To');
    if (to !== undefined && found && new URL(to, this.base()).pathname !== new URL(found.address).pathname) {
      return {
        fault: {
          code: 'Sender',
          subcodes: ['wsa:DestinationUnreachable'],
          reason: `wsa:To ${to} is not this subscription`,
        },
      };
    }
    if (!found) {
      return {
        fault: {
          code: 'Sender',
          subcodes: ['wsa:DestinationUnreachable'],
          reason: 'no such subscription: it expired, was unsubscribed, or the device restarted',
        },
      };
    }
    const live: PullPoint = found;
    switch (op) {
      case `${NS.tev}#PullMessages`: {
        this.stats.pulls++;
        if (this.junkNextPull) {
          this.junkNextPull = false;
          return { junk: '\u0000\u00ffnot soap at all<<<' };
        }
        const limit = Math.max(1, Number(childText(el, NS.tev, 'MessageLimit') ?? '1') || 1);
        const timeoutMs = durationOrInstantMs(childText(el, NS.tev, 'Timeout') ?? 'PT0S', now) ?? 0;
        const wait = Math.min(Math.max(timeoutMs, 0), this.options.maxPullWaitMs);
        await this.pullPoints.waitForEvents(live, wait);
        if (!this.pullPoints.has(id)) {
          return { fault: { code: 'Receiver', subcodes: [], reason: 'subscription ended while pulling' } };
        }
        const batch = live.queue.splice(0, limit);
        const producer = `${this.base()}/onvif/events_service`;
        return {
          body: reply.pulled(
            batch.map((e) => reply.notificationMessage(e, live.address, producer)),
            this.now(),
            live.terminationAt,
          ),
          headers: this.addressingReply(ACTION.pull, header),
        };
      }
      case `${NS.wsnt}#Renew`: {
        live.terminationAt = now + this.lease(childText(el, NS.wsnt, 'TerminationTime'), now, 60_000);
        this.stats.renewals++;
        this.emit('renewed', id);
        return {
          body: reply.renewed(now, live.terminationAt),
          headers: this.addressingReply(ACTION.renew, header),
        };
      }
      case `${NS.wsnt}#Unsubscribe`: {
        this.pullPoints.remove(id);
        this.stats.unsubscribes++;
        this.stats.liveSubscriptions = this.pullPoints.size;
        return {
          body: '<wsnt:UnsubscribeResponse/>',
          headers: this.addressingReply(ACTION.unsubscribe, header),
        };
      }
    }
    return {
      fault: {
        code: 'Sender',
        subcodes: ['ter:ActionNotSupported'],
        reason: `${el.local} is not an operation of a pull point`,
      },
    };
  }

  private setRelay(el: XmlElement) {
    const token = childText(el, NS.tmd, 'RelayOutputToken');
    const state = childText(el, NS.tmd, 'LogicalState');
    if (!token || !this.relayStates.has(token)) {
      return {
        fault: {
          code: 'Sender' as const,
          subcodes: ['ter:InvalidArgVal', 'ter:RelayToken'],
          reason: `no relay "${token}"`,
        },
      };
    }
    if (state !== 'active' && state !== 'inactive') {
      return {
        fault: {
          code: 'Sender' as const,
          subcodes: ['ter:InvalidArgVal', 'ter:ModeError'],
          reason: `LogicalState "${state}"`,
        },
      };
    }
    this.relayStates.set(token, state);
    const command: RelayCommand = { token, state, receivedAt: performance.now() };
    this.emit('relay', command);
    return { body: '<tmd:SetRelayOutputStateResponse/>' };
  }

  /** WS-Addressing headers of an answer: its Action, and RelatesTo when the request had a MessageID. */
  private addressingReply(action: string, header: XmlElement | null): string {
    const messageId = childText(header, NS.wsa, 'MessageID');
    return (
      `<wsa:Action>${action}</wsa:Action>` +
      (messageId ? `<wsa:RelatesTo>${escapeXml(messageId)}</wsa:RelatesTo>` : '')
    );
  }

  private sendBody(res: ServerResponse, body: string, headers: string): void {
    const xml = envelope(body, headers);
    res
      .writeHead(200, {
        'content-type': 'application/soap+xml; charset=utf-8',
        'content-length': Buffer.byteLength(xml),
      })
      .end(xml);
  }

  private sendFault(res: ServerResponse, fault: SoapFault): void {
    const xml = envelope(faultBody(fault));
    // SOAP 1.2 HTTP binding: a Sender fault is 400, a Receiver fault 500.
    res
      .writeHead(fault.code === 'Sender' ? 400 : 500, {
        'content-type': 'application/soap+xml; charset=utf-8',
        'content-length': Buffer.byteLength(xml),
      })
      .end(xml);
  }
}

/** The request body, or null when it is over the limit (the rest is not read into memory). */
async function readBody(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function startSimOnvifCamera(options: SimOnvifCameraOptions = {}): Promise<SimOnvifCamera> {
  const camera = new SimOnvifCamera(options);
  await camera.start();
  return camera;
}
