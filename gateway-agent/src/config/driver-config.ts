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
  const options = drivers.map((d) => z.object({ driver: z.literal(d.id), config: d.configSchema }).strict());
  if (options.length === 0) return z.never();
  if (options.length === 1) return options[0]!;
  const [first, second, ...rest] = options;
  return z.discriminatedUnion('driver', [first!, second!, ...rest]);
}

/** The full box schema: the common part plus a `drivers` list typed by the registry. */
export function buildBoxConfigSchema(drivers: readonly DriverDefinition[] = DRIVER_REGISTRY) {
  return boxConfigSchema.extend({ drivers: z.array(driverEntrySchema(drivers)).default([]) });
}

export type FullBoxConfig = z.infer<typeof boxConfigSchema> & { drivers: DriverEntry[] };
