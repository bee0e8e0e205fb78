import { defineDriver } from '../driver-api.ts';
import { createHidReaderSession } from './driver.ts';
import { hidReaderConfigSchema } from './schema.ts';

/** USB HID card and QR readers (keyboard-wedge or our vendor report format); see driver.ts. */
export const hidReaderDriver = defineDriver({
  id: 'hid-reader',
  apiVersion: 2,
  configSchema: hidReaderConfigSchema,
  emits: ['CredentialPresented', 'TerminalStatus', 'FrameRejected'],
  terminalIds: (config) => [config.id],
  create: createHidReaderSession,
});

export { type HidReaderConfig, hidReaderConfigSchema } from './schema.ts';
