export { type ParkingConfig, parkingConfigSchema } from './parking-config.ts';
export { type ParkingRules, createParkingRules } from './parking-rules.ts';
export { parkingScenario } from './parking-scenario.ts';
