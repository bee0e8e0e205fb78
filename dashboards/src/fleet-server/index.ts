// The fleet server for other workspaces (the demo site, the benches, browser tests): `@sceneway/dashboards/fleet-server`.
export { type AlertThresholds, DEFAULT_THRESHOLDS } from './alert-rules.ts';
export { type FleetServer, type FleetServerOptions, startFleetServer } from './fleet-server.ts';
export type { BoxState, FleetAlert, FleetStore, HistoryPoint } from './fleet-store.ts';
export { SqlFleetStore } from './sql-fleet-store.ts';
export { postgresRunner, sqliteRunner } from './sql-runners.ts';
