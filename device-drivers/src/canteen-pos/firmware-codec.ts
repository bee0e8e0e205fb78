import { DriverError } from '../driver-error.ts';
import {
  Command,
  type FirmwareStaging,
  FW_DIGEST_BYTES,
  FW_LAST_RESULTS,
  MAX_FIRMWARE_VERSION_BYTES,
  MAX_FW_DATA_BYTES,
  MAX_FW_MANIFEST_BYTES,
  MAX_FW_SIGNATURE_BYTES,
  MAX_MODEL_BYTES,
  MIN_FW_SIGNATURE_BYTES,
  type PosMessage,
  type PosMessageOf,
  Tag,
} from './messages.ts';
import type { TlvReader, TlvWriter } from './tlv.ts';

/**
 * The firmware messages of docs/protocols/canteen-pos.md §13, pure like the rest of the codec: a TLV
 * reader in, a typed message out (and back). codec.ts dispatches to these by command.
 */

const STATE_IDLE = 0;
const STATE_RECEIVING = 1;
const STATE_COMPLETE = 2;

const invalid = (detail: string) => new DriverError('POS_FIELD_INVALID', detail);

function readStaging(r: TlvReader): FirmwareStaging {
  const state = r.u8(Tag.FW_STATE);
  if (state === STATE_IDLE) return { state: 'idle' };
  if (state !== STATE_RECEIVING && state !== STATE_COMPLETE)
    throw invalid(`FW_STATE ${state} is not 0, 1 or 2`);
  return {
    state: state === STATE_RECEIVING ? 'receiving' : 'complete',
    digest: r.bytes(Tag.FW_DIGEST, FW_DIGEST_BYTES, FW_DIGEST_BYTES),
    nextOffset: r.u32(Tag.FW_OFFSET),
  };
}

function readSigned(r: TlvReader): boolean {
  const v = r.u8(Tag.FW_SIGNED);
  if (v > 1) throw invalid(`FW_SIGNED ${v} is neither 0 nor 1`);
  return v === 1;
}

const version = (r: TlvReader, tag: number) => r.ascii(tag, 1, MAX_FIRMWARE_VERSION_BYTES);

/** The firmware commands' decoders; undefined for any other command. */
export function decodeFirmwareMessage(command: number, r: TlvReader): PosMessage | undefined {
  switch (command) {
    case Command.FW_BEGIN: {
      const digest = r.bytes(Tag.FW_DIGEST, FW_DIGEST_BYTES, FW_DIGEST_BYTES);
      const size = r.u32(Tag.FW_SIZE);
      if (size === 0) throw invalid('FW_SIZE: an image of 0 bytes');
      const manifestSize = r.u32(Tag.FW_MANIFEST_SIZE);
      if (manifestSize === 0 || manifestSize > MAX_FW_MANIFEST_BYTES)
        throw invalid(`FW_MANIFEST_SIZE ${manifestSize} is outside 1..${MAX_FW_MANIFEST_BYTES}`);
      if (size + manifestSize > 0xffffffff) throw invalid('manifest and image together pass 4 GiB');
      return {
        type: 'fw-begin',
        digest,
        size,
        manifestSize,
        signature: r.bytes(Tag.FW_SIGNATURE, MIN_FW_SIGNATURE_BYTES, MAX_FW_SIGNATURE_BYTES),
        version: version(r, Tag.FIRMWARE_VERSION),
      };
    }
    case Command.FW_CHUNK:
      return {
        type: 'fw-chunk',
        offset: r.u32(Tag.FW_OFFSET),
        data: r.bytes(Tag.FW_DATA, 1, MAX_FW_DATA_BYTES),
      };
    case Command.FW_STATUS_QUERY:
      return { type: 'fw-status-query' };
    case Command.FW_ACTIVATE:
      return { type: 'fw-activate', digest: r.bytes(Tag.FW_DIGEST, FW_DIGEST_BYTES, FW_DIGEST_BYTES) };
    case Command.FW_ROLLBACK:
      return { type: 'fw-rollback' };
    case Command.FW_CHUNK_ACK:
      return { type: 'fw-chunk-ack', nextOffset: r.u32(Tag.FW_OFFSET) };
    case Command.FW_STATUS: {
      const last = r.u8(Tag.FW_LAST_RESULT);
      const lastResult = FW_LAST_RESULTS[last];
      if (!lastResult) throw invalid(`FW_LAST_RESULT ${last} is not 0..3`);
      const msg: PosMessageOf<'fw-status'> = {
        type: 'fw-status',
        version: version(r, Tag.FIRMWARE_VERSION),
        signed: readSigned(r),
        model: r.ascii(Tag.MODEL, 1, MAX_MODEL_BYTES),
        hardware: r.ascii(Tag.HARDWARE, 1, MAX_MODEL_BYTES),
        staging: readStaging(r),
        lastResult,
      };
      if (r.has(Tag.FW_PREVIOUS_VERSION)) msg.previousVersion = version(r, Tag.FW_PREVIOUS_VERSION);
      return msg;
    }
    default:
      return undefined;
  }
}

function writeDigest(w: TlvWriter, digest: Uint8Array): TlvWriter {
  return w.bytes(Tag.FW_DIGEST, digest, FW_DIGEST_BYTES, FW_DIGEST_BYTES);
}

/** The firmware messages' bodies, in the field order of §13; false for any other message. */
export function writeFirmwareBody(w: TlvWriter, msg: PosMessage): boolean {
  switch (msg.type) {
    case 'fw-begin':
      if (msg.size < 1) throw invalid('FW_SIZE: an image of 0 bytes');
      if (msg.manifestSize < 1 || msg.manifestSize > MAX_FW_MANIFEST_BYTES)
        throw invalid(`FW_MANIFEST_SIZE ${msg.manifestSize} is outside 1..${MAX_FW_MANIFEST_BYTES}`);
      writeDigest(w, msg.digest)
        .u32(Tag.FW_SIZE, msg.size)
        .u32(Tag.FW_MANIFEST_SIZE, msg.manifestSize)
        .bytes(Tag.FW_SIGNATURE, msg.signature, MIN_FW_SIGNATURE_BYTES, MAX_FW_SIGNATURE_BYTES)
        .ascii(Tag.FIRMWARE_VERSION, msg.version, 1, MAX_FIRMWARE_VERSION_BYTES);
      return true;
    case 'fw-chunk':
      w.u32(Tag.FW_OFFSET, msg.offset).bytes(Tag.FW_DATA, msg.data, 1, MAX_FW_DATA_BYTES);
      return true;
    case 'fw-status-query':
    case 'fw-rollback':
      return true;
    case 'fw-activate':
      writeDigest(w, msg.digest);
      return true;
    case 'fw-chunk-ack':
      w.u32(Tag.FW_OFFSET, msg.nextOffset);
      return true;
    case 'fw-status': {
      w.ascii(Tag.FIRMWARE_VERSION, msg.version, 1, MAX_FIRMWARE_VERSION_BYTES).u8(
        Tag.FW_SIGNED,
        msg.signed ? 1 : 0,
      );
      if (msg.previousVersion !== undefined)
        w.ascii(Tag.FW_PREVIOUS_VERSION, msg.previousVersion, 1, MAX_FIRMWARE_VERSION_BYTES);
      w.ascii(Tag.MODEL, msg.model, 1, MAX_MODEL_BYTES).ascii(Tag.HARDWARE, msg.hardware, 1, MAX_MODEL_BYTES);
      const s = msg.staging;
      if (s.state === 'idle') w.u8(Tag.FW_STATE, STATE_IDLE);
      else {
        w.u8(Tag.FW_STATE, s.state === 'receiving' ? STATE_RECEIVING : STATE_COMPLETE);
        writeDigest(w, s.digest).u32(Tag.FW_OFFSET, s.nextOffset);
      }
      w.u8(Tag.FW_LAST_RESULT, FW_LAST_RESULTS.indexOf(msg.lastResult));
      return true;
    }
    default:
      return false;
  }
}
