// @sceneway/device-drivers: the public API. Other packages import only from here or from a named entry in
// package.json "exports"; biome refuses deep imports (docs/decisions.md D20).
export { decodeMessage, encodeMessage, encodePosFrame, encodeRecordFields } from './canteen-pos/codec.ts';
export { crc16 } from './canteen-pos/crc16.ts';
// v2 MACs and the box's session state: for the agent (the key check value), the fuzz bench and tests.
// The simulator must not use them: it encodes from its own code, written from the document (issue #12).
export {
  boxProof,
  keyCheckValue,
  recordMac,
  sealFrame,
  sessionKeys,
  terminalProof,
} from './canteen-pos/frame-mac.ts';
export {
  createFrameParser,
  encodeFrame,
  type Frame,
  HEADER_LENGTH,
  TRAILER_LENGTH,
} from './canteen-pos/framing.ts';
export { canteenPosConfigSchema, canteenPosDriver } from './canteen-pos/index.ts';
export {
  Command,
  MACED_TO_BOX,
  MAX_RECORDS_PER_UPLOAD,
  type NakReasonName,
  nameOf,
  type OfflineRecord,
  type PosMessage,
  type PosMessageOf,
  type TerminalRequest,
} from './canteen-pos/messages.ts';
export type { CanteenPosConfigInput } from './canteen-pos/schema.ts';
export { SessionAuth } from './canteen-pos/session-auth.ts';
export {
  type AccessDecision,
  type CredentialAnswer,
  DECLINE_REASONS,
  type DeclineReasonName,
  type DriverContext,
  type DriverDefinition,
  type DriverFirmware,
  type DriverInstance,
  type DriverLogger,
  defineDriver,
  type EventReplies,
  type FaceRecognition,
  type FirmwareImage,
  type FirmwareInstallOptions,
  type FirmwareInstallResult,
  type FirmwareProgress,
  type FirmwareTerminalInfo,
  type MqttTerminalGrant,
  type PaymentCredential,
  type PersonList,
  type PlateSighting,
  type ReplyTo,
  type SaleDecision,
  type SaleRequest,
  type SaleStatus,
  type TerminalEvent,
  type TerminalEventOf,
  type TerminalEventType,
  type TerminalKey,
  type TerminalProbeResult,
  type VoidRequest,
} from './driver-api.ts';
export { DriverError } from './driver-error.ts';
export {
  type CommandAck,
  commandAckSchema,
  DENY_REASONS,
  type DenyReason,
  type DoorCommand,
  doorCommandSchema,
  FACE_PROTOCOL_VERSION,
  type FaceReaderConfigInput,
  faceReaderConfigSchema,
  faceReaderDriver,
  openPersonField,
  PERSONS_KEY_LABEL,
  type PersonSync,
  personSyncAckSchema,
  personSyncSchema,
  personsKeyOf,
  READER_PUBLISHES,
  READER_SUBSCRIBES,
  type ReaderStatus,
  type RecognitionEvent,
  readerStatusSchema,
  recognitionEventSchema,
  sealedFieldSchema,
  sealPersonField,
} from './face-reader/index.ts';
export { hidReaderDriver } from './hid-reader/index.ts';
export { encodeKeyboardWedge } from './hid-reader/keyboard-wedge.ts';
export { mqttLoginSchema } from './mqtt-login.ts';
export { type OnvifCameraConfig, onvifCameraConfigSchema, onvifCameraDriver } from './onvif-camera/index.ts';
export type {
  ByteTransportFactory,
  MqttTransport,
  MqttTransportFactory,
  Transport,
  TransportFactory,
} from './transport.ts';
export { createHidTransportFactory } from './transports/hid-transport.ts';
export { createTransportFactory, type TransportParts } from './transports/index.ts';
export { createMemoryTransports, type MemoryPort } from './transports/memory-transport.ts';
export { createSerialTransportFactory } from './transports/serial-transport.ts';
