// What the page reads of the fleet server's JSON: only the fields it uses. The server's own types
// (dashboards/src/fleet-server/fleet-store.ts) are checked to be assignable to these by
// dashboards/src/fleet-ui/web-types-agree.ts, under the server's tsconfig: importing them here would
// type-check the whole server graph against the browser's DOM library.

export interface TerminalView {
  id: string;
  driver: string;
  up: boolean;
  firmware: string | null;
}

/** A firmware campaign on the box, as its heartbeat counts it (docs/telemetry.md). */
export interface CampaignView {
  id: string;
  family: string;
  targetVersion: string;
  status: string;
  terminals: number;
  byState: Record<string, number>;
}

export interface HealthView {
  ledger: { depth: number; oldestUnsyncedAgeSeconds: number | null };
  sync: { state: string };
  terminals: TerminalView[];
  /** Absent from boxes whose agent predates firmware campaigns. */
  firmwareCampaigns?: CampaignView[];
  diskFreeMb: number | null;
}

export interface BoxState {
  boxId: string;
  siteId: string;
  online: boolean;
  reason: string;
  session: number;
  stateSince: number;
  lastHeartbeatAt: number | null;
  agentVersion: string;
  health: HealthView | null;
}

export interface HistoryPoint {
  receivedAt: number;
  sentAt: number;
  session: number;
  seq: number;
  ledgerDepth: number;
  oldestUnsyncedAgeSeconds: number | null;
  syncState: string;
  diskFreeMb: number | null;
  terminalsDown: number;
}

export interface FleetAlert {
  id: string;
  boxId: string;
  code: string;
  message: string;
  raisedAt: number;
  resolvedAt: number | null;
}

export interface SessionInfo {
  user: string;
  csrfToken: string;
  rpoSeconds: number;
  offlineAfterSeconds: number;
  /** Fleet-server time when the session was read: the page's clock may be off. */
  serverNow: number;
}
