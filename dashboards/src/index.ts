// @sceneway/dashboards: the fleet server and the ops dashboard it serves (issue #14).
export { type AlertThresholds, DEFAULT_THRESHOLDS } from './fleet-server/alert-rules.ts';
export { fleetProgram, main as fleetMain } from './fleet-server/cli.ts';
export { type FleetServer, type FleetServerOptions, startFleetServer } from './fleet-server/fleet-server.ts';
export type { BoxState, FleetAlert, FleetStore, HistoryPoint } from './fleet-server/fleet-store.ts';
export { SqlFleetStore } from './fleet-server/sql-fleet-store.ts';
export { postgresRunner, sqliteRunner } from './fleet-server/sql-runners.ts';
export { buildOpsDashboard } from './fleet-ui/build-ops-dashboard.ts';
export { DEFAULT_WEB_ROOT, type FleetUiOptions, SESSION_COOKIE } from './fleet-ui/fleet-ui.ts';
export { parseUiUsers, type UiUser, uiUsersFromFile } from './fleet-ui/ui-users.ts';
