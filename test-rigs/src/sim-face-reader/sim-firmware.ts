import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { Agent, type IncomingMessage, request } from 'node:http';
import { join } from 'node:path';
import { sm2Verify } from '@sceneway/cloud-sync';
import { compareFirmwareVersions } from '@sceneway/core';
import {
  type FirmwareReport,
  type FirmwareUpdate,
  FW_PROTOCOL_VERSION,
  firmwareCommandSchema,
  type ReaderFirmwareStatus,
} from '@sceneway/device-drivers';

/**
 * The firmware side of a simulated face reader (docs/protocols/face-reader.md §8), written from the
 * document: two slots, a staged download under its state directory that survives a restart of the
 * simulator (resumed with Range from the bytes it holds), the manifest's SM2 signature checked with
 * the reader's own pinned vendor keys before it fetches a byte, every chunk's and the whole image's SM3
 * checked before it activates, then a reboot into the other slot (the MQTT link drops and comes back).
 *
 * Faults: `failTransferAt` (the HTTP connection drops once at that byte; the reader resumes),
 * `powerCutAt` (the reader dies at that byte: download and MQTT link stop; a new simulator on the same
 * state directory carries on), `bootFail` (the new slot does not boot: the old one runs again),
 * `reportVersion` (the reader reports that version whatever it runs).
 */
export interface SimFirmwareFaults {
  failTransferAt: number | undefined;
  powerCutAt: number | undefined;
  bootFail: boolean;
  reportVersion: string | undefined;
}

export interface SimFirmwareOptions {
  stateDir: string;
  /** Pinned vendor public keys, uncompressed hex (04 ‖ x ‖ y): the only keys whose images it takes. */
  vendorKeys: string[];
  model: string;
  hardware?: string;
  /** The factory image of slot a, for a fresh state directory. */
  factoryVersion?: string;
  /** Whether that factory image is a signed one (an unsigned one is what the campaign must replace). */
  factorySigned?: boolean;
  faults?: Partial<SimFirmwareFaults>;
  /** Bytes per Range request; default 256 KiB. */
  windowBytes?: number;
}

export interface SimFirmwareIo {
  now(): number;
  report(report: Omit<FirmwareReport, 'v' | 'at'>): Promise<void>;
  /** Drops the MQTT link as a reboot does and comes back (status first). */
  reboot(): Promise<void>;
  /** Power cut: everything stops, the link drops without DISCONNECT. */
  halt(): Promise<void>;
}

export interface SimFetch {
  transferId: string;
  start: number;
  status: number;
  received: number;
}

export interface SimFirmware {
  readonly faults: SimFirmwareFaults;
  /** Every GET it made, with the bytes it kept from each. */
  readonly fetches: ReadonlyArray<SimFetch>;
  /** Every update announcement it took (URL and token included: tests try them again afterwards). */
  readonly announcements: ReadonlyArray<FirmwareUpdate>;
  status(): ReaderFirmwareStatus;
  onCommand(payload: Buffer): void;
  /** After a (re)start: carries on with a staged download whose announcement is still valid. */
  resume(): void;
  /** Resolves once no download, check or reboot is under way. */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

interface Slot {
  version: string;
  signed: boolean;
  sm3: string | null;
}

interface State {
  active: 'a' | 'b';
  slots: { a: Slot | null; b: Slot | null };
  /** The slot that ran before the last update that booted: what a rollback returns to. */
  revertTo: 'a' | 'b' | null;
  last: ReaderFirmwareStatus['last'];
  /** The download in hand: the image it belongs to (by SM3) and the announcement to resume it with. */
  staging: { sm3: string; announce: FirmwareUpdate } | null;
}

interface Manifest {
  family: string;
  models: string[];
  hardware: string[];
  version: string;
  minPreviousVersion: string;
  size: number;
  chunkSize: number;
  sm3: string;
  chunks: string[];
  vendorKeyId: string;
}

class Refusal extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly final: boolean,
  ) {
    super(message);
  }
}

const other = (slot: 'a' | 'b') => (slot === 'a' ? 'b' : 'a');
const sm3 = (bytes: Uint8Array | string) => createHash('sm3').update(bytes).digest('hex');

export function createSimFirmware(options: SimFirmwareOptions, io: SimFirmwareIo): SimFirmware {
  mkdirSync(options.stateDir, { recursive: true });
  const statePath = join(options.stateDir, 'firmware.json');
  const partPath = join(options.stateDir, 'staging.part');
  const slotPath = (slot: 'a' | 'b') => join(options.stateDir, `slot-${slot}.bin`);
  const windowBytes = options.windowBytes ?? 256 * 1024;
  const faults: SimFirmwareFaults = {
    failTransferAt: undefined,
    powerCutAt: undefined,
    bootFail: false,
    reportVersion: undefined,
    ...options.faults,
  };
  const pinned = new Map(options.vendorKeys.map((k) => [sm3(Buffer.from(k, 'hex')), k.toLowerCase()]));
  const fetches: SimFetch[] = [];
  const announcements: FirmwareUpdate[] = [];
  const state: State = loadState();
  let job: Promise<void> = Promise.resolve();
  let current: { transferId: string; abort: AbortController } | null = null;
  let stopped = false;

  function loadState(): State {
    try {
      return JSON.parse(readFileSync(statePath, 'utf8')) as State;
    } catch {
      return {
        active: 'a',
        slots: {
          a: {
            version: options.factoryVersion ?? '1.0.0',
            signed: options.factorySigned ?? true,
            sm3: null,
          },
          b: null,
        },
        revertTo: null,
        last: undefined,
        staging: null,
      };
    }
  }
  async function saveState(): Promise<void> {
    const tmp = `${statePath}.tmp`;
    await writeFile(tmp, JSON.stringify(state));
    await rename(tmp, statePath);
  }
  const running = () => state.slots[state.active] as Slot;

  /** The reader's own check of an announcement, before any byte is fetched. */
  function checkAnnouncement(update: FirmwareUpdate): Manifest {
    const bytes = Buffer.from(update.manifest, 'base64');
    let manifest: Manifest;
    try {
      manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
    } catch {
      throw new Refusal('FW_MALFORMED', 'the manifest is not JSON', true);
    }
    const key = pinned.get(String(manifest.vendorKeyId));
    if (!key)
      throw new Refusal(
        'FW_UNKNOWN_VENDOR_KEY',
        'the manifest names a vendor key this reader does not pin',
        true,
      );
    if (!sm2Verify(bytes, Buffer.from(update.signature, 'base64'), key))
      throw new Refusal(
        'FW_SIGNATURE_INVALID',
        'the manifest signature does not verify with the pinned key',
        true,
      );
    // From here on the manifest is the vendor's word.
    if (manifest.family !== 'face-reader') throw new Refusal('FW_WRONG_FAMILY', manifest.family, true);
    if (!manifest.models.includes(options.model))
      throw new Refusal('FW_WRONG_MODEL', `not built for model ${options.model}`, true);
    if (manifest.hardware.length > 0 && !manifest.hardware.includes(options.hardware ?? ''))
      throw new Refusal('FW_WRONG_HARDWARE', `not built for hardware ${options.hardware ?? ''}`, true);
    if (compareFirmwareVersions(running().version, manifest.minPreviousVersion) < 0)
      throw new Refusal('FW_PREVIOUS_TOO_OLD', `needs at least ${manifest.minPreviousVersion}`, true);
    return manifest;
  }

  async function heldBytes(): Promise<number> {
    try {
      return (await stat(partPath)).size;
    } catch {
      return 0;
    }
  }

  /** One GET of [offset, offset + window): appends what arrives to the part file. Returns the new offset. */
  function fetchWindow(
    update: FirmwareUpdate,
    manifest: Manifest,
    offset: number,
    signal: AbortSignal,
    agent: Agent,
  ) {
    const end = Math.min(offset + windowBytes, manifest.size) - 1;
    const record: SimFetch = { transferId: update.transferId, start: offset, status: 0, received: 0 };
    fetches.push(record);
    return new Promise<number>((resolve, reject) => {
      const req = request(update.url, {
        headers: { authorization: `Bearer ${update.token}`, range: `bytes=${offset}-${end}` },
        agent,
        signal,
      });
      req.on('error', reject);
      req.on('response', (res: IncomingMessage) => {
        record.status = res.statusCode ?? 0;
        if (res.statusCode === 403) {
          res.resume();
          return reject(new Refusal('FACE_FW_TOKEN_REFUSED', 'the box refused the download token', false));
        }
        if (res.statusCode !== 206 || !res.headers['content-range']?.startsWith(`bytes ${offset}-`)) {
          res.resume();
          return reject(new Error(`unexpected answer ${res.statusCode} to a range from ${offset}`));
        }
        void (async () => {
          const file = await open(partPath, 'a');
          let at = offset;
          try {
            for await (const piece of res as AsyncIterable<Buffer>) {
              let keep = piece;
              const cutAt = faults.failTransferAt ?? faults.powerCutAt;
              if (cutAt !== undefined && at < cutAt && at + piece.length >= cutAt) {
                keep = piece.subarray(0, cutAt - at);
                await file.write(keep);
                at += keep.length;
                record.received += keep.length;
                const powerCut = faults.powerCutAt !== undefined;
                faults.failTransferAt = undefined;
                faults.powerCutAt = undefined;
                req.destroy();
                if (powerCut) {
                  stopped = true;
                  await io.halt();
                  return reject(new Refusal('SIM_POWER_CUT', 'power cut', true));
                }
                return reject(new Error(`link dropped at byte ${at}`));
              }
              await file.write(keep);
              at += keep.length;
              record.received += keep.length;
            }
            resolve(at);
          } catch (err) {
            reject(err);
          } finally {
            await file.close();
          }
        })();
      });
      req.end();
    });
  }

  async function download(update: FirmwareUpdate, manifest: Manifest, signal: AbortSignal): Promise<void> {
    let offset = await heldBytes();
    if (offset > manifest.size) {
      await rm(partPath, { force: true });
      offset = 0;
    }
    let failures = 0;
    // One kept-alive connection for the windows, as a reader's HTTP client would; a drop costs a new one.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      while (offset < manifest.size) {
        signal.throwIfAborted();
        await io.report({
          transferId: update.transferId,
          state: 'downloading',
          bytesDone: offset,
          bytesTotal: manifest.size,
        });
        try {
          offset = await fetchWindow(update, manifest, offset, signal, agent);
          failures = 0;
        } catch (err) {
          if (err instanceof Refusal || signal.aborted) throw err;
          if (++failures > 8) throw new Refusal('FACE_FW_DOWNLOAD_FAILED', (err as Error).message, false);
          // What arrived before the break is kept: the next request starts where the part file ends.
          offset = await heldBytes();
          await new Promise((r) => setTimeout(r, Math.min(500, 10 * 2 ** failures) * Math.random()));
        }
      }
    } finally {
      agent.destroy();
    }
  }

  async function verify(manifest: Manifest): Promise<void> {
    const file = await open(partPath, 'r');
    try {
      const whole = createHash('sm3');
      const buffer = Buffer.alloc(manifest.chunkSize);
      for (let i = 0, at = 0; at < manifest.size; i++, at += manifest.chunkSize) {
        const { bytesRead } = await file.read(
          buffer,
          0,
          Math.min(manifest.chunkSize, manifest.size - at),
          at,
        );
        const chunk = buffer.subarray(0, bytesRead);
        whole.update(chunk);
        if (sm3(chunk) !== manifest.chunks[i])
          throw new Refusal('FW_DIGEST_MISMATCH', `chunk ${i} does not match its digest`, true);
      }
      if (whole.digest('hex') !== manifest.sm3)
        throw new Refusal('FW_DIGEST_MISMATCH', 'the image does not match its digest', true);
    } finally {
      await file.close();
    }
  }

  async function takeUpdate(update: FirmwareUpdate, signal: AbortSignal): Promise<void> {
    const report = (s: Omit<FirmwareReport, 'v' | 'at' | 'transferId'>) =>
      io.report({ transferId: update.transferId, ...s });
    try {
      const manifest = checkAnnouncement(update);
      if (state.staging?.sm3 !== manifest.sm3) await rm(partPath, { force: true }); // another image: start over
      state.staging = { sm3: manifest.sm3, announce: update };
      await saveState();
      await download(update, manifest, signal);
      await report({ state: 'verifying', bytesDone: manifest.size, bytesTotal: manifest.size });
      try {
        await verify(manifest);
      } catch (err) {
        await rm(partPath, { force: true });
        throw err;
      }
      await report({ state: 'activating', bytesDone: manifest.size, bytesTotal: manifest.size });
      const target = other(state.active);
      await rename(partPath, slotPath(target));
      state.slots[target] = { version: manifest.version, signed: true, sm3: manifest.sm3 };
      state.staging = null;
      if (faults.bootFail) {
        state.last = { transferId: update.transferId, result: 'boot-failed' }; // the old slot boots again
      } else {
        state.revertTo = state.active;
        state.active = target;
        state.last = { transferId: update.transferId, result: 'booted' };
      }
      await saveState();
      await report({ state: 'rebooting' });
      await io.reboot();
    } catch (err) {
      if (signal.aborted || stopped) return;
      const refusal =
        err instanceof Refusal ? err : new Refusal('FACE_FW_READER_ERROR', (err as Error).message, false);
      if (refusal.code === 'SIM_POWER_CUT') return;
      if (refusal.code === 'FACE_FW_TOKEN_REFUSED' || refusal.final) {
        state.staging = refusal.final ? null : state.staging;
        await saveState();
      }
      await report({
        state: refusal.final ? 'refused' : 'failed',
        code: refusal.code,
        detail: refusal.message.slice(0, 200),
      });
    }
  }

  async function takeRollback(transferId: string): Promise<void> {
    // Back to what ran before the last update that booted; after a boot failure that is what runs now.
    if (state.revertTo && state.slots[state.revertTo]) {
      state.active = state.revertTo;
      state.revertTo = null;
    }
    state.last = { transferId, result: 'rolled-back' };
    await saveState();
    await io.report({ transferId, state: 'rebooting' });
    await io.reboot();
  }

  function enqueue(transferId: string, work: (signal: AbortSignal) => Promise<void>): void {
    current?.abort.abort();
    const abort = new AbortController();
    current = { transferId, abort };
    job = job
      .catch(() => undefined)
      .then(() => (abort.signal.aborted || stopped ? undefined : work(abort.signal)))
      .catch(() => undefined)
      .finally(() => {
        if (current?.abort === abort) current = null;
      });
  }

  return {
    faults,
    fetches,
    announcements,
    status() {
      const slot = running();
      return {
        model: options.model,
        hardware: options.hardware ?? '',
        version: faults.reportVersion ?? slot.version,
        signed: slot.signed,
        slot: state.active,
        ...(state.last ? { last: state.last } : {}),
      };
    },
    onCommand(payload) {
      let json: unknown;
      try {
        json = JSON.parse(payload.toString('utf8'));
      } catch {
        return;
      }
      const parsed = firmwareCommandSchema.safeParse(json);
      if (!parsed.success || stopped) return;
      const command = parsed.data;
      if (current?.transferId === command.transferId || state.last?.transferId === command.transferId) return; // a second copy
      if (command.op === 'update') announcements.push(command);
      if (command.op === 'update') enqueue(command.transferId, (signal) => takeUpdate(command, signal));
      else enqueue(command.transferId, () => takeRollback(command.transferId));
    },
    resume() {
      const staged = state.staging?.announce;
      if (!staged || staged.expiresAt < io.now()) return;
      enqueue(staged.transferId, (signal) => takeUpdate(staged, signal));
    },
    idle: () => job.then(() => undefined),
    async stop() {
      stopped = true;
      current?.abort.abort();
      await job.catch(() => undefined);
    },
  };
}

export { FW_PROTOCOL_VERSION };
