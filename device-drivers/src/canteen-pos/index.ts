import { defineDriver } from '../driver-api.ts';
import { createCanteenPosDriver } from './driver.ts';
import { canteenPosConfigSchema } from './schema.ts';

/** The canteen POS driver for the agent's registry (gateway-agent/src/drivers/registry.ts). */
export const canteenPosDriver = defineDriver({
  id: 'canteen-pos',
  apiVersion: 2,
  configSchema: canteenPosConfigSchema,
  emits: ['SaleRequested', 'VoidRequested', 'BlacklistVersionAsked', 'TerminalStatus', 'FrameRejected'],
  terminalIds: (config) => config.terminals.map((t) => t.id),
  create: (ctx, config) => createCanteenPosDriver(ctx, config),
});

export * from './codec.ts';
export * from './crc16.ts';
export { type CanteenPosDriverOptions, createCanteenPosDriver } from './driver.ts';
export * from './framing.ts';
export * from './messages.ts';
export { type CanteenCatalog, PRICE_ITEMS_PER_PAGE } from './request-handler.ts';
export { type CanteenPosConfig, type CanteenPosConfigInput, canteenPosConfigSchema } from './schema.ts';
