// @sceneway/dashboards: the fleet server and the ops dashboard it serves (issue #14).
export { type AlertThresholds, DEFAULT_THRESHOLDS } from './fleet-server/alert-rules.ts';
export { fleetProgram, main as fleetMain } from './fleet-server/cli.ts';
export { type FleetServer, type FleetServerOptions, startFleetServer } from './fleet-server/fleet-server.ts';
export type { BoxState, FleetAlert, FleetStore, HistoryPoint } from './fleet-server/fleet-store.ts';
export { SqlFleetStore } from './fleet-server/sql-fleet-store.ts';
export { postgresRunner, sqliteRunner } from './fleet-server/sql-runners.ts';
