import type { DriverDefinition } from '@sceneway/device-drivers/driver-api';
import { z } from 'zod';
import { DRIVER_REGISTRY } from '../drivers/registry.ts';
import { boxConfigSchema } from './schema.ts';

/** One configured driver instance: which driver, and its own config (validated by the driver's schema). */
export interface DriverEntry {
  driver: string;
  config: unknown;
}

function driverEntrySchema(drivers: readonly DriverDefinition[]) {
  const options = drivers.map((d) =>
    z
      .strictObject({
        driver: z.literal(d.id).describe('Which driver runs this entry (one of the driver registry).'),
        config: d.configSchema.describe(d.configSchema.description ?? `Config of the ${d.id} driver.`),
      })
      .describe(`A ${d.id} driver instance.`),
  );
  if (options.length === 0) return z.never();
  if (options.length === 1) return options[0]!;
  const [first, second, ...rest] = options;
  return z.discriminatedUnion('driver', [first!, second!, ...rest]);
}

/** The full box schema: the common part plus a `drivers` list typed by the registry. */
export function buildBoxConfigSchema(drivers: readonly DriverDefinition[] = DRIVER_REGISTRY) {
  return boxConfigSchema.extend({
    drivers: z
      .array(driverEntrySchema(drivers))
      .default([])
      .describe('Terminal drivers on this box: one entry per serial port, HID reader or terminal group.'),
  });
}

export type FullBoxConfig = z.infer<typeof boxConfigSchema> & { drivers: DriverEntry[] };
