import { defineDriver } from '../driver-api.ts';
import { createFaceReaderDriver } from './face-reader-driver.ts';
import { READER_PUBLISHES, READER_SUBSCRIBES } from './messages.ts';
import { faceReaderConfigSchema } from './schema.ts';

/**
 * MQTT face/attendance readers (docs/protocols/face-reader.md). The readers are clients of the box's
 * embedded broker; this definition declares, as data, the login of each and the topics it may use.
 */
export const faceReaderDriver = defineDriver({
  id: 'face-reader',
  apiVersion: 2,
  configSchema: faceReaderConfigSchema,
  emits: ['FaceRecognized', 'PersonListAsked', 'TerminalStatus', 'FrameRejected', 'TerminalAlert'],
  terminalIds: (config) => config.readers.map((r) => r.id),
  mqttTerminals: (config) =>
    config.readers.map((r) => ({
      terminalId: r.id,
      username: r.username,
      passwordHash: r.passwordHash,
      publish: READER_PUBLISHES,
      subscribe: READER_SUBSCRIBES,
    })),
  create: createFaceReaderDriver,
});

export { createFaceReaderDriver, type FaceReaderDriverInstance } from './face-reader-driver.ts';
export type { FirmwareImageServer, ImageRefusal, TransferServing } from './firmware-image-server.ts';
export * from './firmware-messages.ts';
export * from './messages.ts';
export { openPersonField, PERSONS_KEY_LABEL, personsKeyOf, sealPersonField } from './person-seal.ts';
export { type FaceReaderConfig, type FaceReaderConfigInput, faceReaderConfigSchema } from './schema.ts';
