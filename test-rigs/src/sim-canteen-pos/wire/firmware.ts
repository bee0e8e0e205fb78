import { Command, Tag } from './codes.ts';
import type { TlvBuilder, TlvFields } from './tlv.ts';
import { WireError } from './wire-error.ts';

/**
 * The firmware messages of docs/protocols/canteen-pos.md §13 as the terminal reads and writes them,
 * typed in from the document (field ranges of §13.2). The till's slot logic is ../sim-firmware.ts.
 */
export const FW_DIGEST_LENGTH = 32;
/** §13.2: FW_DATA is at most what fits a 4096-byte body with FW_OFFSET and the MAC fields. */
export const FW_DATA_MAX = 4060;
export const FW_MANIFEST_MAX = 4 * 1024 * 1024;
const VERSION_MAX = 32;

export type FwStagingState = 'idle' | 'receiving' | 'complete';
export type FwLastResult = 'none' | 'activated' | 'boot-failed' | 'rolled-back';
const STAGING_STATES: readonly FwStagingState[] = ['idle', 'receiving', 'complete'];
const LAST_RESULTS: readonly FwLastResult[] = ['none', 'activated', 'boot-failed', 'rolled-back'];

export type FirmwareMessage =
  | {
      type: 'fw-begin';
      digest: Buffer;
      size: number;
      manifestSize: number;
      signature: Buffer;
      version: string;
    }
  | { type: 'fw-chunk'; offset: number; data: Buffer }
  | { type: 'fw-status-query' }
  | { type: 'fw-activate'; digest: Buffer }
  | { type: 'fw-rollback' }
  | { type: 'fw-chunk-ack'; nextOffset: number }
  | {
      type: 'fw-status';
      version: string;
      signed: boolean;
      previousVersion?: string;
      model: string;
      hardware: string;
      state: FwStagingState;
      /** Present unless the state is idle. */
      digest?: Buffer;
      nextOffset?: number;
      lastResult: FwLastResult;
    };

export const FIRMWARE_COMMAND_OF: Record<FirmwareMessage['type'], number> = {
  'fw-begin': Command.FW_BEGIN,
  'fw-chunk': Command.FW_CHUNK,
  'fw-status-query': Command.FW_STATUS_QUERY,
  'fw-activate': Command.FW_ACTIVATE,
  'fw-rollback': Command.FW_ROLLBACK,
  'fw-chunk-ack': Command.FW_CHUNK_ACK,
  'fw-status': Command.FW_STATUS,
};

const latin1 = (s: string) => Buffer.from(s, 'latin1');

/** The reader for a firmware command, or undefined if the command is not one of §13. */
export function decodeFirmware(command: number, f: TlvFields): FirmwareMessage | undefined {
  switch (command) {
    case Command.FW_BEGIN: {
      const m: FirmwareMessage = {
        type: 'fw-begin',
        digest: f.bytes(Tag.FW_DIGEST, FW_DIGEST_LENGTH, FW_DIGEST_LENGTH),
        size: f.uint(Tag.FW_SIZE, 4, 1),
        manifestSize: f.uint(Tag.FW_MANIFEST_SIZE, 4, 1, FW_MANIFEST_MAX),
        signature: f.bytes(Tag.FW_SIGNATURE, 8, 128),
        version: f.ascii(Tag.FIRMWARE_VERSION, 1, VERSION_MAX),
      };
      if (m.size + m.manifestSize > 0xffffffff)
        throw new WireError('FIELD_INVALID', 'FW_SIZE + FW_MANIFEST_SIZE pass 0xFFFFFFFF');
      return m;
    }
    case Command.FW_CHUNK:
      return {
        type: 'fw-chunk',
        offset: f.uint(Tag.FW_OFFSET, 4),
        data: f.bytes(Tag.FW_DATA, 1, FW_DATA_MAX),
      };
    case Command.FW_STATUS_QUERY:
      return { type: 'fw-status-query' };
    case Command.FW_ACTIVATE:
      return { type: 'fw-activate', digest: f.bytes(Tag.FW_DIGEST, FW_DIGEST_LENGTH, FW_DIGEST_LENGTH) };
    case Command.FW_ROLLBACK:
      return { type: 'fw-rollback' };
    case Command.FW_CHUNK_ACK:
      return { type: 'fw-chunk-ack', nextOffset: f.uint(Tag.FW_OFFSET, 4) };
    case Command.FW_STATUS: {
      const state = STAGING_STATES[f.uint(Tag.FW_STATE, 1, 0, 2)]!;
      const m: FirmwareMessage = {
        type: 'fw-status',
        version: f.ascii(Tag.FIRMWARE_VERSION, 1, VERSION_MAX),
        signed: f.uint(Tag.FW_SIGNED, 1, 0, 1) === 1,
        model: f.ascii(Tag.MODEL, 1, VERSION_MAX),
        hardware: f.ascii(Tag.HARDWARE, 1, VERSION_MAX),
        state,
        lastResult: LAST_RESULTS[f.uint(Tag.FW_LAST_RESULT, 1, 0, 3)]!,
      };
      if (f.has(Tag.FW_PREVIOUS_VERSION))
        m.previousVersion = f.ascii(Tag.FW_PREVIOUS_VERSION, 1, VERSION_MAX);
      if (state !== 'idle') {
        m.digest = f.bytes(Tag.FW_DIGEST, FW_DIGEST_LENGTH, FW_DIGEST_LENGTH);
        m.nextOffset = f.uint(Tag.FW_OFFSET, 4);
      }
      return m;
    }
    default:
      return undefined;
  }
}

function digest(b: Buffer): Buffer {
  if (b.length !== FW_DIGEST_LENGTH) throw new RangeError(`FW_DIGEST must be ${FW_DIGEST_LENGTH} bytes`);
  return b;
}

/** The body of a firmware message in the order of §13.2. */
export function firmwareBody(b: TlvBuilder, m: FirmwareMessage): TlvBuilder {
  switch (m.type) {
    case 'fw-begin':
      return b
        .field(Tag.FW_DIGEST, digest(m.digest))
        .uint(Tag.FW_SIZE, 4, m.size)
        .uint(Tag.FW_MANIFEST_SIZE, 4, m.manifestSize)
        .field(Tag.FW_SIGNATURE, m.signature)
        .field(Tag.FIRMWARE_VERSION, latin1(m.version));
    case 'fw-chunk':
      if (m.data.length < 1 || m.data.length > FW_DATA_MAX) throw new RangeError('FW_DATA 1..4060 bytes');
      return b.uint(Tag.FW_OFFSET, 4, m.offset).field(Tag.FW_DATA, m.data);
    case 'fw-status-query':
    case 'fw-rollback':
      return b;
    case 'fw-activate':
      return b.field(Tag.FW_DIGEST, digest(m.digest));
    case 'fw-chunk-ack':
      return b.uint(Tag.FW_OFFSET, 4, m.nextOffset);
    case 'fw-status':
      b.field(Tag.FIRMWARE_VERSION, latin1(m.version)).uint(Tag.FW_SIGNED, 1, m.signed ? 1 : 0);
      if (m.previousVersion !== undefined) b.field(Tag.FW_PREVIOUS_VERSION, latin1(m.previousVersion));
      b.field(Tag.MODEL, latin1(m.model))
        .field(Tag.HARDWARE, latin1(m.hardware))
        .uint(Tag.FW_STATE, 1, STAGING_STATES.indexOf(m.state));
      if (m.state !== 'idle') {
        b.field(Tag.FW_DIGEST, digest(m.digest ?? Buffer.alloc(0))).uint(Tag.FW_OFFSET, 4, m.nextOffset ?? 0);
      }
      return b.uint(Tag.FW_LAST_RESULT, 1, LAST_RESULTS.indexOf(m.lastResult));
  }
}
