import { defineDriver } from '../driver-api.ts';
import { createCanteenPosDriver } from './driver.ts';
import { canteenPosConfigSchema } from './schema.ts';

/** The canteen POS driver for the agent's registry (gateway-agent/src/drivers/registry.ts). */
export const canteenPosDriver = defineDriver({
  id: 'canteen-pos',
  apiVersion: 2,
  configSchema: canteenPosConfigSchema,
  emits: [
    'SaleRequested',
    'VoidRequested',
    'SaleStatusAsked',
    'BlacklistVersionAsked',
    'TerminalStatus',
    'FrameRejected',
    'TerminalAlert',
  ],
  terminalIds: (config) => config.terminals.map((t) => t.id),
  terminalFacts: (config) =>
    Object.fromEntries(
      config.terminals.map((t) => [t.id, { protocol: t.protocol, insecure: t.protocol === 1 }]),
    ),
  create: (ctx, config) => createCanteenPosDriver(ctx, config),
});

export * from './codec.ts';
export * from './crc16.ts';
export { type CanteenPosDriverOptions, createCanteenPosDriver } from './driver.ts';
export {
  firmwareChunkBytes,
  firmwareFramingEfficiency,
  type PosDriverFirmware,
  type StageResult,
} from './firmware-delivery.ts';
export * from './frame-mac.ts';
export * from './framing.ts';
export * from './messages.ts';
export { type CanteenCatalog, PRICE_ITEMS_PER_PAGE, recordResultOf } from './request-handler.ts';
export {
  type CanteenPosConfig,
  type CanteenPosConfigInput,
  type CanteenPosTerminalConfig,
  canteenPosConfigSchema,
} from './schema.ts';
export { type AuthRefusal, SessionAuth, type SessionChannel } from './session-auth.ts';
