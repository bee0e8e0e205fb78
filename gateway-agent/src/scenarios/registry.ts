import { canteenScenario } from '../canteen/canteen-scenario.ts';
import { gatesScenario } from '../gates/gates-scenario.ts';
import { parkingScenario } from '../parking/parking-scenario.ts';
import type { ScenarioDefinition } from './scenario-api.ts';

/**
 * Every kind of site decision the agent can make, listed explicitly (STYLE.md: no scanning, no magic
 * names). A new kind is one module and one line here; its config appears under `scenarios.<id>`.
 */
export const SCENARIO_REGISTRY: readonly ScenarioDefinition[] = [
  canteenScenario,
  gatesScenario,
  parkingScenario,
];
