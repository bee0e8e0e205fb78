import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sm2Verify } from '@sceneway/cloud-sync';
import { compareFirmwareVersions, isFirmwareVersion } from '@sceneway/core';
import { type PackageHead, PackageReader, PackageRejected } from './firmware-package-reader.ts';
import type { SlotImage } from './firmware-slots.ts';

/**
 * The camera's side of ONVIF StartFirmwareUpgrade: it issues an UploadUri that is unguessable, good
 * for one POST and for a limited time, and superseded by the next StartFirmwareUpgrade; it takes the
 * .swfw package as application/octet-stream, no more bytes than its manifest announces, checks the
 * vendor's signature over the manifest with its own pinned key as soon as the head is in (before the
 * image), then every chunk's SM3 and the whole image's. Answers as ONVIF Core words it: 200 when the
 * image is flashed (the camera then reboots), 415 for a file it will not take, 404 for an UploadUri
 * that is wrong, spent or expired, 413 for a body over the bound.
 */
export interface FirmwareFaults {
  /** Drop the upload connection once the package offset reaches this byte (once; then cleared). */
  failTransferAt?: number | null;
  /** The flashed image fails to boot: the camera falls back to the slot it ran. */
  bootFail?: boolean;
  /** GetDeviceInformation reports this FirmwareVersion whatever runs. */
  reportVersion?: string | null;
}

export interface FirmwareUploadsOptions {
  /** Pinned vendor SM2 public keys (uncompressed hex). None: images are taken unverified, signed: false. */
  vendorPublicKeys: readonly string[];
  maxImageBytes: number;
  uploadUriTtlMs: number;
  now(): number;
  camera(): { model: string; hardwareId: string; runningVersion: string; slotVersions: string[] };
}

export interface FirmwareUploadStats {
  urisIssued: number;
  uploadsStarted: number;
  /** Package bytes received over every upload, refused ones too. */
  bytesReceived: number;
  /** Refusals by HTTP status. */
  refused: Record<string, number>;
  transfersCut: number;
  flashed: number;
  /** SM3 of the whole body of the last upload the camera read to its end: what the box sent, exactly. */
  lastUploadSm3: string | null;
}

export type UploadOutcome = { kind: 'flashed'; image: SlotImage } | { kind: 'refused' } | { kind: 'cut' };

const PATH_PREFIX = '/onvif/firmware/';

export class FirmwareUploads {
  private live: { token: string; expiresAt: number } | null = null;
  readonly faults: FirmwareFaults = {};
  readonly stats: FirmwareUploadStats = {
    urisIssued: 0,
    uploadsStarted: 0,
    bytesReceived: 0,
    refused: {},
    transfersCut: 0,
    flashed: 0,
    lastUploadSm3: null,
  };
  private readonly keysById: Map<string, string>;

  constructor(private readonly options: FirmwareUploadsOptions) {
    this.keysById = new Map(
      options.vendorPublicKeys.map((k) => [createHash('sm3').update(Buffer.from(k, 'hex')).digest('hex'), k]),
    );
  }

  static isUploadPath(path: string): boolean {
    return path.startsWith(PATH_PREFIX);
  }

  /** A fresh one-time UploadUri; any earlier one is void from now on. */
  issue(base: string): { uri: string; ttlMs: number } {
    const token = randomBytes(24).toString('base64url');
    this.live = { token, expiresAt: this.options.now() + this.options.uploadUriTtlMs };
    this.stats.urisIssued++;
    return { uri: `${base}${PATH_PREFIX}${token}`, ttlMs: this.options.uploadUriTtlMs };
  }

  /** One POST to an upload path; the answer is sent here. */
  async receive(path: string, req: IncomingMessage, res: ServerResponse): Promise<UploadOutcome> {
    const token = path.slice(PATH_PREFIX.length);
    const live = this.live;
    // Spent on first use, whatever becomes of the upload: a captured URI cannot be played again.
    const valid = live !== null && token === live.token && this.options.now() <= live.expiresAt;
    if (live && token === live.token) this.live = null;
    if (req.method !== 'POST') return this.refuse(req, res, 405, 'POST the firmware to the UploadUri');
    if (!valid) return this.refuse(req, res, 404, 'no such upload: wrong, spent or expired UploadUri');
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/octet-stream') {
      return this.refuse(req, res, 415, 'the firmware goes as application/octet-stream');
    }
    this.stats.uploadsStarted++;
    const declared =
      req.headers['content-length'] === undefined ? null : Number(req.headers['content-length']);
    const read = await this.readPackage(req, declared);
    if (read.kind === 'cut') return { kind: 'cut' };
    if (read.kind === 'rejected') return this.refuse(req, res, read.error.status, read.error.message);
    const reader = read.reader;
    const head = reader.head as PackageHead;
    const image: SlotImage = {
      version: head.manifest.version,
      signed: this.keysById.size > 0,
      sm3: head.manifest.sm3.toLowerCase(),
      flashedAt: new Date(this.options.now()).toISOString(),
    };
    this.stats.flashed++;
    const text = `flashed ${image.version}; rebooting`;
    res.writeHead(200, {
      'content-type': 'text/plain',
      'content-length': Buffer.byteLength(text),
      connection: 'close',
    });
    res.end(text);
    return { kind: 'flashed', image };
  }

  /**
   * Reads the body through the package reader. Once the package is refused, an honest client's body
   * (its Content-Length within the bound) is read to its end and dropped, so that it gets the answer
   * rather than a reset; anything else is answered and cut at once.
   */
  private readPackage(
    req: IncomingMessage,
    declared: number | null,
  ): Promise<
    { kind: 'read'; reader: PackageReader } | { kind: 'rejected'; error: PackageRejected } | { kind: 'cut' }
  > {
    const reader = new PackageReader(this.options.maxImageBytes);
    const drainLimit = this.options.maxImageBytes + 1024 * 1024;
    let offset = 0;
    let checked = false;
    let rejected: PackageRejected | null = null;
    const body = createHash('sm3');
    return new Promise((resolve, reject) => {
      const settle = (value: Parameters<typeof resolve>[0]) => {
        req.off('data', onData);
        resolve(value);
      };
      const onData = (piece: Buffer) => {
        const cutAt = this.faults.failTransferAt;
        if (!rejected && typeof cutAt === 'number' && offset + piece.length >= cutAt) {
          this.stats.bytesReceived += Math.max(cutAt - offset, 0);
          this.faults.failTransferAt = null;
          this.stats.transfersCut++;
          req.socket.destroy();
          settle({ kind: 'cut' });
          return;
        }
        offset += piece.length;
        this.stats.bytesReceived += piece.length;
        body.update(piece);
        if (rejected) return;
        try {
          reader.push(piece);
          if (!checked && reader.head) {
            checked = true;
            this.checkHead(reader.head, declared);
          }
        } catch (error) {
          if (!(error instanceof PackageRejected)) {
            reject(error);
            return;
          }
          rejected = error;
          if (error.status === 413 || declared === null || declared > drainLimit)
            settle({ kind: 'rejected', error });
        }
      };
      req.on('data', onData);
      req.once('end', () => {
        this.stats.lastUploadSm3 = body.digest('hex');
        if (rejected) return settle({ kind: 'rejected', error: rejected });
        try {
          reader.finish();
          settle({ kind: 'read', reader });
        } catch (error) {
          if (error instanceof PackageRejected) settle({ kind: 'rejected', error });
          else reject(error);
        }
      });
      req.once('close', () => settle({ kind: 'cut' }));
    });
  }

  /** The head decides before any image byte counts: size bound, what the camera is, the signature. */
  private checkHead(head: PackageHead, declared: number | null): void {
    const m = head.manifest;
    if (declared !== null && declared !== head.length + m.size) {
      throw new PackageRejected(
        413,
        `Content-Length ${declared} is not the package's ${head.length + m.size}`,
      );
    }
    const camera = this.options.camera();
    if (m.format !== 1 || m.family !== 'onvif-camera')
      throw new PackageRejected(415, `not an onvif-camera image`);
    if (!m.models.includes(camera.model))
      throw new PackageRejected(415, `not built for model ${camera.model}`);
    if (m.hardware.length > 0 && !m.hardware.includes(camera.hardwareId)) {
      throw new PackageRejected(415, `not built for hardware ${camera.hardwareId}`);
    }
    if (!isFirmwareVersion(m.version) || !isFirmwareVersion(m.minPreviousVersion)) {
      throw new PackageRejected(415, 'manifest versions are not M.m.p');
    }
    if (
      isFirmwareVersion(camera.runningVersion) &&
      compareFirmwareVersions(camera.runningVersion, m.minPreviousVersion) < 0
    ) {
      throw new PackageRejected(415, `needs at least ${m.minPreviousVersion} running`);
    }
    // Anti-rollback with ONVIF's only way back (an upload): no version below the lower of its two
    // slots, i.e. back to what it ran before at most, never further.
    const floor = camera.slotVersions.filter(isFirmwareVersion).sort(compareFirmwareVersions)[0];
    if (floor && compareFirmwareVersions(m.version, floor) < 0) {
      throw new PackageRejected(415, `${m.version} is below ${floor}, the oldest image this camera holds`);
    }
    if (this.keysById.size === 0) return;
    if (head.signature.length === 0) throw new PackageRejected(415, 'unsigned image');
    const key = this.keysById.get(m.vendorKeyId.toLowerCase());
    if (!key) throw new PackageRejected(415, 'signed by a key this camera does not pin');
    if (!sm2Verify(head.manifestBytes, head.signature, key)) {
      throw new PackageRejected(415, 'the vendor signature over the manifest does not verify');
    }
  }

  private refuse(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    why: string,
  ): { kind: 'refused' } {
    this.stats.refused[status] = (this.stats.refused[status] ?? 0) + 1;
    // The rest of the body is not read: the connection closes with the answer.
    res.writeHead(status, {
      'content-type': 'text/plain',
      'content-length': Buffer.byteLength(why),
      connection: 'close',
    });
    res.end(why, () => req.socket.destroy());
    return { kind: 'refused' };
  }
}
