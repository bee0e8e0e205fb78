import { defineDriver } from '../driver-api.ts';
import { createOnvifCameraSession } from './driver.ts';
import { onvifCameraConfigSchema } from './schema.ts';

/** ONVIF licence-plate cameras at parking lanes (PullPoint events, DeviceIO barrier relay); see driver.ts. */
export const onvifCameraDriver = defineDriver({
  id: 'onvif-camera',
  apiVersion: 2,
  configSchema: onvifCameraConfigSchema,
  emits: ['PlateSighted', 'PlateSnapshotTaken', 'TerminalStatus', 'FrameRejected', 'TerminalAlert'],
  terminalIds: (config) => [config.id],
  create: createOnvifCameraSession,
});

export { type ParsedMessage, type PlateRead, parseNotification } from './plate-event.ts';
export { type OnvifCameraConfig, onvifCameraConfigSchema } from './schema.ts';
