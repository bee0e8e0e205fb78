import { createHash } from 'node:crypto';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { sm2Verify } from '@sceneway/cloud-sync';
import type { FirmwareMessage, FwLastResult, NakReasonName } from './wire/index.ts';

/**
 * The firmware side of a simulated till (docs/protocols/canteen-pos.md §13): two slots, the image
 * being staged into the inactive one, and the checks a till makes before it switches (the vendor's
 * SM2 signature over the manifest under its pinned key, the manifest fits this till, the SM3 of the
 * image). The staged bytes and the slot table live in files under `stateDir`, so a simulator that is
 * killed and started again (a power cut) resumes where its last acknowledged chunk ended.
 */
export interface SimFirmwareFaults {
  /** Stop answering once, when a chunk would carry this byte offset of the transfer (a cut link). */
  failTransferAt?: number;
  /** The new image fails to boot: the till falls back to the slot it ran and reports that version. */
  bootFail?: boolean;
  /** Report this version whatever runs (a till with a wrong version string). */
  reportVersion?: string;
}

export interface SimFirmwareOptions {
  /** Where the slot table and the staged bytes are kept; without one they live in memory only. */
  stateDir?: string;
  /** Pinned vendor public keys (uncompressed SM2 point, hex). None pinned: every image is refused. */
  vendorKeys: string[];
  model: string;
  hardware: string;
  /** The factory image in slot A. */
  initialVersion: string;
  initialSigned?: boolean;
  /** Largest manifest + image the inactive slot takes. Default 64 MiB + 4 MiB. */
  slotBytes?: number;
  faults?: SimFirmwareFaults;
}

interface Slot {
  version: string;
  /** The image was verified against a pinned vendor key before it was activated. */
  signed: boolean;
}

interface Staging {
  digestHex: string;
  size: number;
  manifestSize: number;
  signatureHex: string;
  version: string;
}

interface State {
  slots: [Slot | null, Slot | null];
  active: 0 | 1;
  lastResult: FwLastResult;
  staging: Staging | null;
  /** failTransferAt fires once per simulator state, also across restarts. */
  failTransferFired: boolean;
}

export type ChunkOutcome = { nextOffset: number } | { nak: NakReasonName } | { cut: true };
export type ActivateOutcome = { nak: NakReasonName } | { reboot(): void };

/** SM2 SubjectPublicKeyInfo PEM (or 130 hex digits) → the uncompressed point in hex. */
export function vendorKeyFromText(text: string): string {
  const hex = text.trim();
  if (/^04[0-9a-fA-F]{128}$/.test(hex)) return hex.toLowerCase();
  const b64 = /-----BEGIN PUBLIC KEY-----([\s\S]+?)-----END PUBLIC KEY-----/.exec(text)?.[1];
  if (!b64) throw new Error('a vendor key is a PEM "PUBLIC KEY" or 130 hex digits (04 x y)');
  const der = Buffer.from(b64.replace(/\s+/g, ''), 'base64');
  // The BIT STRING holding the point ends the SubjectPublicKeyInfo: 0x00 unused bits, then 04 x y.
  const point = der.subarray(der.length - 65);
  if (point[0] !== 0x04 || der[der.length - 66] !== 0x00)
    throw new Error('not an uncompressed SM2 public key');
  return point.toString('hex');
}

const sm3 = (data: Uint8Array) => createHash('sm3').update(data).digest('hex');

/** Acknowledged offsets sent again: chunks heard that start below an offset the till had already acked. */
export function resentAcknowledged(log: SimFirmware['chunkLog']): number {
  let acked = 0;
  let resent = 0;
  for (const e of log) {
    if (e.kind === 'ack') acked = Math.max(acked, e.next);
    else if (e.offset < acked) resent++;
  }
  return resent;
}

/** The chunk log as a simulator wrote it under its state dir (firmware-chunks.log), across restarts. */
export function readChunkLog(stateDir: string): SimFirmware['chunkLog'] {
  const path = join(stateDir, 'firmware-chunks.log');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [kind, a, b] = line.split(' ');
      return kind === 'ack'
        ? { kind: 'ack' as const, next: Number(a) }
        : { kind: 'chunk' as const, offset: Number(a), length: Number(b) };
    });
}

export class SimFirmware {
  private state: State;
  private staged: Buffer[] = [];
  private stagedBytes = 0;
  /** Every chunk heard (offset, length) and every next offset acknowledged, in order: the resume evidence. */
  readonly chunkLog: Array<
    { kind: 'chunk'; offset: number; length: number } | { kind: 'ack'; next: number }
  > = [];
  readonly faults: SimFirmwareFaults;

  constructor(private readonly options: SimFirmwareOptions) {
    this.faults = { ...options.faults };
    const loaded = this.load();
    this.state = loaded ?? {
      slots: [{ version: options.initialVersion, signed: options.initialSigned ?? true }, null],
      active: 0,
      lastResult: 'none',
      staging: null,
      failTransferFired: false,
    };
    if (!loaded) this.save();
  }

  get runningVersion(): string {
    return this.faults.reportVersion ?? this.running.version;
  }

  get runningSigned(): boolean {
    return this.running.signed;
  }

  get previousVersion(): string | undefined {
    return this.state.slots[this.inactive]?.version;
  }

  get lastResult(): FwLastResult {
    return this.state.lastResult;
  }

  /** Bytes of the current transfer held (the next offset the till needs). */
  get nextOffset(): number {
    return this.stagedBytes;
  }

  get isStaging(): boolean {
    return this.state.staging !== null;
  }

  private get running(): Slot {
    return this.state.slots[this.state.active] ?? { version: this.options.initialVersion, signed: false };
  }

  private get inactive(): 0 | 1 {
    return this.state.active === 0 ? 1 : 0;
  }

  status(): Extract<FirmwareMessage, { type: 'fw-status' }> {
    const s = this.state.staging;
    const total = s ? s.manifestSize + s.size : 0;
    return {
      type: 'fw-status',
      version: this.runningVersion,
      signed: this.runningSigned,
      ...(this.previousVersion ? { previousVersion: this.previousVersion } : {}),
      model: this.options.model,
      hardware: this.options.hardware,
      state: !s ? 'idle' : this.stagedBytes >= total ? 'complete' : 'receiving',
      ...(s ? { digest: Buffer.from(s.digestHex, 'hex'), nextOffset: this.stagedBytes } : {}),
      lastResult: this.state.lastResult,
    };
  }

  /** FW_BEGIN: the same image resumes where it stopped; another image discards the old staging. */
  begin(m: Extract<FirmwareMessage, { type: 'fw-begin' }>): NakReasonName | null {
    if (m.manifestSize + m.size > (this.options.slotBytes ?? 68 * 1024 * 1024)) return 'FW_TOO_LARGE';
    const s = this.state.staging;
    const digestHex = m.digest.toString('hex');
    if (s && s.digestHex === digestHex && s.size === m.size && s.manifestSize === m.manifestSize) return null;
    this.state.staging = {
      digestHex,
      size: m.size,
      manifestSize: m.manifestSize,
      signatureHex: m.signature.toString('hex'),
      version: m.version,
    };
    this.resetStaged();
    this.save();
    return null;
  }

  /** FW_CHUNK: written only at the next offset it needs (durably, before the ack); anything else is acked with that offset. */
  chunk(m: Extract<FirmwareMessage, { type: 'fw-chunk' }>): ChunkOutcome {
    const s = this.state.staging;
    if (!s) return { nak: 'FW_NOT_STAGED' };
    if (m.offset + m.data.length > s.manifestSize + s.size) return { nak: 'FIELD_INVALID' };
    this.log({ kind: 'chunk', offset: m.offset, length: m.data.length });
    const at = this.faults.failTransferAt;
    if (
      at !== undefined &&
      !this.state.failTransferFired &&
      m.offset <= at &&
      at < m.offset + m.data.length
    ) {
      this.state.failTransferFired = true;
      this.save();
      return { cut: true };
    }
    if (m.offset === this.stagedBytes) this.append(m.data);
    this.log({ kind: 'ack', next: this.stagedBytes });
    return { nextOffset: this.stagedBytes };
  }

  /**
   * FW_ACTIVATE: every check a till makes before it switches slots. A refused image is discarded (it
   * will never verify); the outcome's reboot() switches (or, with bootFail, falls back) and is called
   * by the terminal once its ACK is on the line.
   */
  activate(digest: Buffer): ActivateOutcome {
    const s = this.state.staging;
    if (!s || s.digestHex !== digest.toString('hex') || this.stagedBytes < s.manifestSize + s.size) {
      return { nak: 'FW_NOT_STAGED' };
    }
    const all = this.stagedData();
    const manifestBytes = all.subarray(0, s.manifestSize);
    const signature = Buffer.from(s.signatureHex, 'hex');
    const refuse = (nak: NakReasonName): ActivateOutcome => {
      this.state.staging = null;
      this.resetStaged();
      this.save();
      return { nak };
    };
    if (!this.options.vendorKeys.some((k) => sm2Verify(manifestBytes, signature, k))) {
      return refuse('FW_SIGNATURE_INVALID');
    }
    let manifest: Record<string, unknown>;
    try {
      manifest = JSON.parse(manifestBytes.toString('utf8')) as Record<string, unknown>;
    } catch {
      return refuse('FW_NOT_FOR_THIS_TILL');
    }
    const models = Array.isArray(manifest.models) ? manifest.models : [];
    const hardware = Array.isArray(manifest.hardware) ? manifest.hardware : [];
    if (
      manifest.family !== 'canteen-pos' ||
      !models.includes(this.options.model) ||
      (hardware.length > 0 && !hardware.includes(this.options.hardware)) ||
      manifest.version !== s.version ||
      (typeof manifest.minPreviousVersion === 'string' &&
        versionBelow(this.running.version, manifest.minPreviousVersion))
    ) {
      return refuse('FW_NOT_FOR_THIS_TILL');
    }
    if (manifest.sm3 !== s.digestHex || manifest.size !== s.size) return refuse('FW_DIGEST_MISMATCH');
    if (sm3(all.subarray(s.manifestSize)) !== s.digestHex) return refuse('FW_DIGEST_MISMATCH');
    return {
      reboot: () => {
        const target = this.inactive;
        this.state.staging = null;
        this.resetStaged();
        if (this.faults.bootFail) {
          // The new slot does not come up: the boot loader falls back to the slot that ran.
          this.state.slots[target] = null;
          this.state.lastResult = 'boot-failed';
        } else {
          this.state.slots[target] = { version: s.version, signed: true };
          this.state.active = target;
          this.state.lastResult = 'activated';
        }
        this.save();
      },
    };
  }

  /** FW_ROLLBACK: boot the other slot, if it holds an image that ran. */
  rollback(): ActivateOutcome {
    const target = this.inactive;
    if (!this.state.slots[target]) return { nak: 'FW_NO_PREVIOUS' };
    return {
      reboot: () => {
        this.state.active = target;
        this.state.lastResult = 'rolled-back';
        this.save();
      },
    };
  }

  /** A retransmitted copy of a chunk frame, answered from the terminal's cache: heard again, so logged. */
  noteCopy(offset: number, length: number): void {
    this.log({ kind: 'chunk', offset, length });
  }

  private log(entry: SimFirmware['chunkLog'][number]): void {
    this.chunkLog.push(entry);
    if (this.options.stateDir) {
      const line = entry.kind === 'chunk' ? `chunk ${entry.offset} ${entry.length}\n` : `ack ${entry.next}\n`;
      appendFileSync(join(this.options.stateDir, 'firmware-chunks.log'), line);
    }
  }

  // ---- persistence -----------------------------------------------------------------------------

  private get statePath(): string | undefined {
    return this.options.stateDir ? join(this.options.stateDir, 'firmware-state.json') : undefined;
  }

  private get stagingPath(): string | undefined {
    return this.options.stateDir ? join(this.options.stateDir, 'firmware-staging.bin') : undefined;
  }

  private load(): State | null {
    const path = this.statePath;
    if (!path || !existsSync(path)) return null;
    const state = JSON.parse(readFileSync(path, 'utf8')) as State;
    const staging = this.stagingPath;
    if (state.staging && staging && existsSync(staging)) {
      // What survived the power cut: every chunk appended before its ack.
      this.stagedBytes = statSync(staging).size;
    }
    return state;
  }

  private save(): void {
    const path = this.statePath;
    if (!path) return;
    mkdirSync(this.options.stateDir!, { recursive: true });
    writeFileSync(`${path}.tmp`, JSON.stringify(this.state));
    renameSync(`${path}.tmp`, path);
  }

  private resetStaged(): void {
    this.staged = [];
    this.stagedBytes = 0;
    const path = this.stagingPath;
    if (path) {
      mkdirSync(this.options.stateDir!, { recursive: true });
      writeFileSync(path, Buffer.alloc(0));
    }
  }

  private append(data: Buffer): void {
    const path = this.stagingPath;
    if (path) appendFileSync(path, data);
    else this.staged.push(Buffer.from(data));
    this.stagedBytes += data.length;
  }

  private stagedData(): Buffer {
    const path = this.stagingPath;
    return path ? readFileSync(path) : Buffer.concat(this.staged);
  }
}

function versionBelow(a: string, b: string): boolean {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  if (pa.length !== 3 || pb.length !== 3 || [...pa, ...pb].some((n) => !Number.isInteger(n))) return false;
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! < pb[i]!;
  return false;
}
