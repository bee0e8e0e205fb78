import type { DriverDefinition } from '@sceneway/device-drivers';
import { z } from 'zod';
import { DRIVER_REGISTRY } from '../drivers/registry.ts';
import { SCENARIO_REGISTRY } from '../scenarios/registry.ts';
import type { ScenarioDefinition } from '../scenarios/scenario-api.ts';
import { boxConfigSchema } from './schema.ts';

/** One configured driver instance: which driver, its own config, and optionally the scenario it feeds. */
export interface DriverEntry {
  driver: string;
  config: unknown;
  scenario?: string | undefined;
}

function driverEntrySchema(drivers: readonly DriverDefinition[], scenarioIds: readonly string[]) {
  const scenario = z
    .string()
    .refine((id) => scenarioIds.includes(id), { message: `expected one of: ${scenarioIds.join(', ')}` })
    .optional()
    .describe('The scenario this driver feeds; needed only when two configured scenarios decide its events.');
  const options = drivers.map((d) =>
    z
      .strictObject({
        driver: z.literal(d.id).describe('Which driver runs this entry (one of the driver registry).'),
        config: d.configSchema.describe(d.configSchema.description ?? `Config of the ${d.id} driver.`),
        scenario,
      })
      .describe(`A ${d.id} driver instance.`),
  );
  if (options.length === 0) return z.never();
  if (options.length === 1) return options[0]!;
  const [first, second, ...rest] = options;
  return z.discriminatedUnion('driver', [first!, second!, ...rest]);
}

function scenariosSchema(scenarios: readonly ScenarioDefinition[]) {
  const shape = Object.fromEntries(
    scenarios.map((s) => [
      s.id,
      s.configSchema.optional().describe(`The ${s.id} scenario; absent = not run.`),
    ]),
  );
  return z
    .strictObject(shape)
    .default({})
    .describe('Which kinds of site decision this box makes, each with its own settings.');
}

/**
 * The full box schema: the common part plus `drivers` typed by the driver registry and `scenarios` by
 * the scenario registry. A new family or scenario never edits this file or the config root.
 */
export function buildBoxConfigSchema(
  drivers: readonly DriverDefinition[] = DRIVER_REGISTRY,
  scenarios: readonly ScenarioDefinition[] = SCENARIO_REGISTRY,
) {
  return boxConfigSchema.extend({
    scenarios: scenariosSchema(scenarios),
    drivers: z
      .array(
        driverEntrySchema(
          drivers,
          scenarios.map((s) => s.id),
        ),
      )
      .default([])
      .describe('The terminal families on this box: one entry per port, bus, reader or camera group.'),
  });
}

export type FullBoxConfig = z.infer<typeof boxConfigSchema> & {
  drivers: DriverEntry[];
  scenarios: Record<string, unknown>;
};
