import type { DriverDefinition } from '@sceneway/device-drivers/driver-api';

/**
 * Every terminal driver the agent can run, listed explicitly and typed: no filesystem scanning, no
 * magic names (STYLE.md). A new terminal family is one import and one line here; its config schema
 * then appears in `sceneway config schema` and is validated under `drivers[i].config`.
 */
export const DRIVER_REGISTRY: readonly DriverDefinition[] = [];

export function findDriver(id: string): DriverDefinition | undefined {
  return DRIVER_REGISTRY.find((d) => d.id === id);
}
