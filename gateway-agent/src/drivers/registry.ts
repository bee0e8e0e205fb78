import type { DriverDefinition } from '@sceneway/device-drivers';
import {
  canteenPosDriver,
  faceReaderDriver,
  hidReaderDriver,
  onvifCameraDriver,
} from '@sceneway/device-drivers';

/**
 * Every terminal driver the agent can run, listed explicitly and typed: no filesystem scanning, no
 * magic names (STYLE.md). A new terminal family is one import and one line here; its config schema
 * then appears in `sceneway config schema` and is validated under `drivers[i].config`.
 */
// Each definition is typed by its own schema; the registry holds them by the common shape (the agent
// validates each entry with that same schema before create() sees it).
export const DRIVER_REGISTRY: readonly DriverDefinition[] = [
  canteenPosDriver as unknown as DriverDefinition,
  hidReaderDriver as unknown as DriverDefinition,
  faceReaderDriver,
  onvifCameraDriver as unknown as DriverDefinition,
];

export function findDriver(id: string): DriverDefinition | undefined {
  return DRIVER_REGISTRY.find((d) => d.id === id);
}
