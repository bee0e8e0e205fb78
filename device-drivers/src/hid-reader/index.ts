import type { DriverDefinition } from '../driver-api.ts';
import { createHidReaderSession } from './driver.ts';
import { hidReaderConfigSchema } from './schema.ts';

/** USB HID card and QR readers (keyboard-wedge or our vendor report format); see driver.ts. */
export const hidReaderDriver: DriverDefinition<typeof hidReaderConfigSchema> = {
  id: 'hid-reader',
  apiVersion: 1,
  configSchema: hidReaderConfigSchema,
  create: createHidReaderSession,
};

export { type HidReaderConfig, hidReaderConfigSchema } from './schema.ts';
