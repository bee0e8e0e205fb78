import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FirmwareFamily } from '@sceneway/core';
import Database from 'better-sqlite3';
import { and, asc, eq } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { createTableSql } from '../ledger/sqlite-ddl.ts';
import { CAMPAIGN_SCHEMA_VERSION, CAMPAIGN_TABLES, campaigns, campaignTerminals } from './campaign-schema.ts';
import type {
  CampaignDetail,
  CampaignRequest,
  CampaignStatus,
  CampaignSummary,
  TerminalUpdate,
  TerminalUpdateState,
} from './campaign-types.ts';

/** What a campaign is born with; the rest of its summary (stage, status, times) the store keeps. */
export type NewCampaign = Pick<
  CampaignSummary,
  'id' | 'packageId' | 'family' | 'targetVersion' | 'request' | 'stages'
>;

export type TerminalChange = Partial<Omit<TerminalUpdate, 'terminalId' | 'stage' | 'updatedAt'>>;

/**
 * The campaigns' durable state. Every change is one synchronous SQLite transaction with
 * synchronous=FULL: the engine writes a step *before* it takes it (write-ahead), so after a crash or a
 * restart a terminal's row says what may be under way on it (a row in `transferring` is re-driven; the
 * driver resumes from what the terminal holds). Campaign writes are a handful a minute: FULL costs nothing.
 */
export function openCampaignStore(path: string, now: () => Date = () => new Date()) {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > CAMPAIGN_SCHEMA_VERSION)
    throw new Error(`campaign state v${version} is newer than this agent (v${CAMPAIGN_SCHEMA_VERSION})`);
  if (version === 0) {
    db.transaction(() => {
      for (const table of CAMPAIGN_TABLES) db.exec(createTableSql(table));
      db.pragma(`user_version = ${CAMPAIGN_SCHEMA_VERSION}`);
    })();
  }
  const orm = drizzle(db);
  const stamp = () => now().toISOString();

  const terminalRows = (campaignId: string): TerminalUpdate[] =>
    orm
      .select()
      .from(campaignTerminals)
      .where(eq(campaignTerminals.campaignId, campaignId))
      .orderBy(asc(campaignTerminals.stage), asc(campaignTerminals.terminalId))
      .all()
      .map((r) => ({
        terminalId: r.terminalId,
        stage: r.stage,
        state: r.state as TerminalUpdateState,
        previousVersion: r.previousVersion,
        previousPackageId: r.previousPackageId,
        reportedVersion: r.reportedVersion,
        code: r.code,
        detail: r.detail,
        bytesDone: r.bytesDone,
        bytesTotal: r.bytesTotal,
        attempts: r.attempts,
        installedAt: r.installedAt,
        updatedAt: r.updatedAt,
      }));

  const summaryOf = (row: typeof campaigns.$inferSelect, terminals: TerminalUpdate[]): CampaignSummary => {
    const byState: CampaignSummary['progress']['byState'] = {};
    let bytesDone = 0;
    let bytesTotal = 0;
    for (const t of terminals) {
      byState[t.state] = (byState[t.state] ?? 0) + 1;
      bytesDone += t.bytesDone;
      bytesTotal += t.bytesTotal;
    }
    return {
      id: row.id,
      packageId: row.packageId,
      family: row.family as FirmwareFamily,
      targetVersion: row.targetVersion,
      request: JSON.parse(row.spec) as CampaignRequest,
      stages: JSON.parse(row.stages) as string[][],
      currentStage: row.currentStage,
      status: row.status as CampaignStatus,
      reason: row.reason,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      progress: { terminals: terminals.length, byState, bytesDone, bytesTotal },
    };
  };

  return {
    create(campaign: NewCampaign): void {
      const at = stamp();
      db.transaction(() => {
        orm
          .insert(campaigns)
          .values({
            id: campaign.id,
            packageId: campaign.packageId,
            family: campaign.family,
            targetVersion: campaign.targetVersion,
            spec: JSON.stringify(campaign.request),
            stages: JSON.stringify(campaign.stages),
            currentStage: 0,
            status: 'running',
            reason: null,
            createdAt: at,
            updatedAt: at,
          })
          .run();
        campaign.stages.forEach((ids, stage) => {
          for (const terminalId of ids) {
            orm
              .insert(campaignTerminals)
              .values({
                key: `${campaign.id}/${terminalId}`,
                campaignId: campaign.id,
                terminalId,
                stage,
                state: 'pending',
                updatedAt: at,
              })
              .run();
          }
        });
      })();
    },

    get(id: string): CampaignDetail | undefined {
      const row = orm.select().from(campaigns).where(eq(campaigns.id, id)).get();
      if (!row) return undefined;
      const terminals = terminalRows(id);
      return { ...summaryOf(row, terminals), terminals };
    },

    list(): CampaignSummary[] {
      return orm
        .select()
        .from(campaigns)
        .orderBy(asc(campaigns.createdAt))
        .all()
        .map((row) => summaryOf(row, terminalRows(row.id)));
    },

    setCampaign(
      id: string,
      change: { status?: CampaignStatus; reason?: string | null; currentStage?: number },
    ): void {
      orm
        .update(campaigns)
        .set({ ...change, updatedAt: stamp() })
        .where(eq(campaigns.id, id))
        .run();
    },

    setTerminal(campaignId: string, terminalId: string, change: TerminalChange): void {
      orm
        .update(campaignTerminals)
        .set({ ...change, updatedAt: stamp() })
        .where(
          and(eq(campaignTerminals.campaignId, campaignId), eq(campaignTerminals.terminalId, terminalId)),
        )
        .run();
    },

    close(): void {
      db.close();
    },
  };
}

export type CampaignStore = ReturnType<typeof openCampaignStore>;
