export { type ParkingConfig, parkingConfigSchema } from './parking-config.ts';
export { createParkingRules, type ParkingRules } from './parking-rules.ts';
export { parkingScenario } from './parking-scenario.ts';
