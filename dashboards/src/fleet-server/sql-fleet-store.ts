import { randomUUID } from 'node:crypto';
import type { TelemetryHeartbeat, TelemetryStatus } from '@sceneway/gateway-agent';
import { type SQL, sql } from 'drizzle-orm';
import type { BoxState, FleetAlert, FleetStore, HistoryPoint } from './fleet-store.ts';

/** The two things a dialect must do; everything else is the same SQL in SQLite and PostgreSQL. */
export interface SqlRunner {
  readonly dialect: 'sqlite' | 'postgres';
  run(query: SQL): Promise<void>;
  rows<T>(query: SQL): Promise<T[]>;
  /** A table of this store, quoted (a prefix in SQLite, a schema in PostgreSQL). */
  table(name: 'boxes' | 'history' | 'alerts'): string;
  /** An index name for CREATE INDEX (PostgreSQL: bare, in its table's schema; SQLite: prefixed). */
  index(name: string): string;
  close(): Promise<void>;
}

interface BoxRow {
  box_id: string;
  site_id: string;
  online: number | boolean;
  reason: string;
  session: number | string;
  state_since: number | string;
  last_heartbeat_at: number | string | null;
  agent_version: string;
  health: string | null;
}

interface AlertRow {
  id: string;
  box_id: string;
  code: string;
  message: string;
  raised_at: number | string;
  resolved_at: number | string | null;
}

const n = (v: number | string) => Number(v);

/**
 * The fleet store in SQL both dialects speak (upserts with a WHERE, RETURNING, a partial unique index).
 * Stale-message rule: a status or heartbeat applies when its session is newer than the stored one; in
 * the same session an "offline" wins over a late heartbeat or "online" (replicas may see them out of order).
 */
export class SqlFleetStore implements FleetStore {
  constructor(private readonly db: SqlRunner) {}

  get dialect() {
    return this.db.dialect;
  }

  async init(): Promise<void> {
    const { db } = this;
    const big = db.dialect === 'postgres' ? 'BIGINT' : 'INTEGER';
    await db.run(sql`CREATE TABLE IF NOT EXISTS ${this.t('boxes')} (
      box_id TEXT PRIMARY KEY, site_id TEXT NOT NULL, online INTEGER NOT NULL, reason TEXT NOT NULL,
      session ${sql.raw(big)} NOT NULL, last_seq ${sql.raw(big)} NOT NULL DEFAULT 0,
      state_since ${sql.raw(big)} NOT NULL, last_heartbeat_at ${sql.raw(big)}, agent_version TEXT NOT NULL,
      health TEXT)`);
    await db.run(sql`CREATE TABLE IF NOT EXISTS ${this.t('history')} (
      box_id TEXT NOT NULL, session ${sql.raw(big)} NOT NULL, seq ${sql.raw(big)} NOT NULL,
      received_at ${sql.raw(big)} NOT NULL, sent_at ${sql.raw(big)} NOT NULL, ledger_depth INTEGER NOT NULL,
      oldest_unsynced_age DOUBLE PRECISION, sync_state TEXT NOT NULL, disk_free_mb DOUBLE PRECISION,
      terminals_down INTEGER NOT NULL, PRIMARY KEY (box_id, session, seq))`);
    await db.run(
      sql.raw(
        `CREATE INDEX IF NOT EXISTS ${this.db.index('history_by_time')} ON ${this.db.table('history')} (box_id, received_at)`,
      ),
    );
    await db.run(sql`CREATE TABLE IF NOT EXISTS ${this.t('alerts')} (
      id TEXT PRIMARY KEY, box_id TEXT NOT NULL, code TEXT NOT NULL, message TEXT NOT NULL,
      raised_at ${sql.raw(big)} NOT NULL, resolved_at ${sql.raw(big)})`);
    // One active alert per box and code, across every replica: the dedupe is the database's.
    await db.run(
      sql.raw(
        `CREATE UNIQUE INDEX IF NOT EXISTS ${this.db.index('one_active_alert')} ON ${this.db.table('alerts')} (box_id, code) WHERE resolved_at IS NULL`,
      ),
    );
  }

  private t(name: 'boxes' | 'history' | 'alerts'): SQL {
    return sql.raw(this.db.table(name));
  }

  async applyStatus(status: TelemetryStatus, receivedAt: number): Promise<boolean> {
    const online = status.state === 'online' ? 1 : 0;
    const t = this.t('boxes');
    const changed = await this.db.rows<{ box_id: string }>(sql`
      INSERT INTO ${t} (box_id, site_id, online, reason, session, state_since, agent_version)
      VALUES (${status.boxId}, ${status.siteId}, ${online}, ${status.reason}, ${status.session}, ${receivedAt}, ${status.agentVersion})
      ON CONFLICT (box_id) DO UPDATE SET site_id = excluded.site_id, online = excluded.online,
        reason = excluded.reason, session = excluded.session, agent_version = excluded.agent_version,
        state_since = CASE WHEN ${t}.online = excluded.online AND ${t}.session = excluded.session
          THEN ${t}.state_since ELSE excluded.state_since END
      WHERE ${t}.session < excluded.session OR (${t}.session = excluded.session AND (excluded.online = 0 OR ${t}.online = 1))
      RETURNING box_id`);
    return changed.length > 0;
  }

  async applyHeartbeat(h: TelemetryHeartbeat, receivedAt: number): Promise<boolean> {
    const health = h.health;
    const down = health.terminals.filter((x) => !x.up).length;
    const history = this.t('history');
    const inserted = await this.db.rows<{ box_id: string }>(sql`
      INSERT INTO ${history} (box_id, session, seq, received_at, sent_at, ledger_depth, oldest_unsynced_age,
        sync_state, disk_free_mb, terminals_down)
      VALUES (${h.boxId}, ${h.session}, ${h.seq}, ${receivedAt}, ${h.sentAt}, ${health.ledger.depth},
        ${health.ledger.oldestUnsyncedAgeSeconds}, ${health.sync.state}, ${health.diskFreeMb}, ${down})
      ON CONFLICT DO NOTHING RETURNING box_id`);
    if (inserted.length === 0) return false; // a QoS 1 duplicate
    const t = this.t('boxes');
    await this.db.run(sql`
      INSERT INTO ${t} (box_id, site_id, online, reason, session, last_seq, state_since, last_heartbeat_at, agent_version, health)
      VALUES (${h.boxId}, ${h.siteId}, 1, 'heartbeat', ${h.session}, ${h.seq}, ${receivedAt}, ${receivedAt}, ${h.agentVersion}, ${JSON.stringify(health)})
      ON CONFLICT (box_id) DO UPDATE SET site_id = excluded.site_id, session = excluded.session,
        last_seq = excluded.last_seq, last_heartbeat_at = excluded.last_heartbeat_at,
        agent_version = excluded.agent_version, health = excluded.health,
        online = CASE WHEN ${t}.session < excluded.session THEN 1 ELSE ${t}.online END,
        reason = CASE WHEN ${t}.session < excluded.session THEN 'heartbeat' ELSE ${t}.reason END,
        state_since = CASE WHEN ${t}.session < excluded.session AND ${t}.online = 0 THEN excluded.state_since ELSE ${t}.state_since END
      WHERE ${t}.session < excluded.session OR (${t}.session = excluded.session AND ${t}.last_seq < excluded.last_seq)`);
    return true;
  }

  async boxes(): Promise<BoxState[]> {
    const rows = await this.db.rows<BoxRow>(sql`SELECT * FROM ${this.t('boxes')} ORDER BY box_id`);
    return rows.map(boxOf);
  }

  async box(boxId: string): Promise<BoxState | null> {
    const rows = await this.db.rows<BoxRow>(sql`SELECT * FROM ${this.t('boxes')} WHERE box_id = ${boxId}`);
    return rows[0] ? boxOf(rows[0]) : null;
  }

  async history(boxId: string, limit: number): Promise<HistoryPoint[]> {
    const rows = await this.db.rows<Record<string, number | string | null>>(sql`
      SELECT * FROM ${this.t('history')} WHERE box_id = ${boxId} ORDER BY received_at DESC, session DESC, seq DESC LIMIT ${limit}`);
    return rows.reverse().map((r) => ({
      receivedAt: Number(r.received_at),
      sentAt: Number(r.sent_at),
      session: Number(r.session),
      seq: Number(r.seq),
      ledgerDepth: Number(r.ledger_depth),
      oldestUnsyncedAgeSeconds: r.oldest_unsynced_age === null ? null : Number(r.oldest_unsynced_age),
      syncState: String(r.sync_state),
      diskFreeMb: r.disk_free_mb === null ? null : Number(r.disk_free_mb),
      terminalsDown: Number(r.terminals_down),
    }));
  }

  async raiseAlert(alert: Omit<FleetAlert, 'id' | 'resolvedAt'>): Promise<FleetAlert | null> {
    const rows = await this.db.rows<AlertRow>(sql`
      INSERT INTO ${this.t('alerts')} (id, box_id, code, message, raised_at)
      VALUES (${randomUUID()}, ${alert.boxId}, ${alert.code}, ${alert.message}, ${alert.raisedAt})
      ON CONFLICT (box_id, code) WHERE resolved_at IS NULL DO NOTHING RETURNING *`);
    return rows[0] ? alertOf(rows[0]) : null;
  }

  async resolveAlert(boxId: string, code: string, at: number): Promise<FleetAlert | null> {
    const rows = await this.db.rows<AlertRow>(sql`
      UPDATE ${this.t('alerts')} SET resolved_at = ${at}
      WHERE box_id = ${boxId} AND code = ${code} AND resolved_at IS NULL RETURNING *`);
    return rows[0] ? alertOf(rows[0]) : null;
  }

  async alerts(options: { activeOnly: boolean; boxId?: string; limit?: number }): Promise<FleetAlert[]> {
    const where: SQL[] = [];
    if (options.activeOnly) where.push(sql`resolved_at IS NULL`);
    if (options.boxId !== undefined) where.push(sql`box_id = ${options.boxId}`);
    const clause = where.length ? sql`WHERE ${sql.join(where, sql` AND `)}` : sql``;
    const rows = await this.db.rows<AlertRow>(
      sql`SELECT * FROM ${this.t('alerts')} ${clause} ORDER BY raised_at DESC, id LIMIT ${options.limit ?? 500}`,
    );
    return rows.map(alertOf);
  }

  close(): Promise<void> {
    return this.db.close();
  }
}

function boxOf(r: BoxRow): BoxState {
  return {
    boxId: r.box_id,
    siteId: r.site_id,
    online: r.online === 1 || r.online === true,
    reason: r.reason,
    session: n(r.session),
    stateSince: n(r.state_since),
    lastHeartbeatAt: r.last_heartbeat_at === null ? null : n(r.last_heartbeat_at),
    agentVersion: r.agent_version,
    health: r.health === null ? null : JSON.parse(r.health),
  };
}

function alertOf(r: AlertRow): FleetAlert {
  return {
    id: r.id,
    boxId: r.box_id,
    code: r.code,
    message: r.message,
    raisedAt: n(r.raised_at),
    resolvedAt: r.resolved_at === null ? null : n(r.resolved_at),
  };
}
