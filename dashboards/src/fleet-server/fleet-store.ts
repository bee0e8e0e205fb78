import type { TelemetryHealth, TelemetryHeartbeat, TelemetryStatus } from '@sceneway/gateway-agent';

/** What the fleet knows of a box now: its last status and its last heartbeat's figures. */
export interface BoxState {
  boxId: string;
  siteId: string;
  online: boolean;
  /** Why it is in that state: connected, last-will, stopped, or heartbeat (a heartbeat of a newer session). */
  reason: string;
  session: number;
  /** Fleet-server time of the last status change or heartbeat that set `online`. */
  stateSince: number;
  /** Fleet-server time the last heartbeat was received; null before any. */
  lastHeartbeatAt: number | null;
  agentVersion: string;
  health: TelemetryHealth | null;
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

/**
 * The fleet's state, shared by every replica that uses the same database (PostgreSQL at fleet scale).
 * Each write is one conditional statement, so replicas splitting a shared subscription cannot undo each
 * other: a message of an older session never overwrites a newer one, and an alert is raised or resolved
 * by exactly one of them (the one whose statement changed the row), which is the one that notifies.
 */
export interface FleetStore {
  readonly dialect: 'sqlite' | 'postgres';
  init(): Promise<void>;
  applyStatus(status: TelemetryStatus, receivedAt: number): Promise<boolean>;
  applyHeartbeat(heartbeat: TelemetryHeartbeat, receivedAt: number): Promise<boolean>;
  boxes(): Promise<BoxState[]>;
  box(boxId: string): Promise<BoxState | null>;
  history(boxId: string, limit: number): Promise<HistoryPoint[]>;
  /** Inserts an active alert unless one with this box and code is active; the new alert, or null. */
  raiseAlert(alert: Omit<FleetAlert, 'id' | 'resolvedAt'>): Promise<FleetAlert | null>;
  /** Resolves the active alert of this box and code; the resolved alert, or null when none was active. */
  resolveAlert(boxId: string, code: string, at: number): Promise<FleetAlert | null>;
  alerts(options: { activeOnly: boolean; boxId?: string; limit?: number }): Promise<FleetAlert[]>;
  close(): Promise<void>;
}
