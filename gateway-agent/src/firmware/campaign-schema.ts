import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/**
 * The campaign state file's tables (its own SQLite file, not the ledger: a firmware campaign must never
 * hold the ledger's write lock, and a ledger quarantine must not lose a half-done campaign). Written
 * ahead of every step a terminal takes, so a restarted agent resumes each terminal where it was.
 */
export const campaigns = sqliteTable('campaigns', {
  id: text('id').primaryKey(),
  packageId: text('package_id').notNull(),
  family: text('family').notNull(),
  targetVersion: text('target_version').notNull(),
  /** The request as made (target, canary, waves), JSON: shown back by the status API. */
  spec: text('spec').notNull(),
  /** string[][]: terminal ids per stage, fixed at creation (stage-plan.ts). */
  stages: text('stages').notNull(),
  currentStage: integer('current_stage').notNull(),
  /** running | paused | completed | aborted */
  status: text('status').notNull(),
  /** Why it paused or stopped: the failed gate, the refusal or the operator. */
  reason: text('reason'),
  createdAt: text('created_at').notNull(),
  updatedAt: text('updated_at').notNull(),
});

/** One row per targeted terminal; the key is `<campaign id>/<terminal id>` (one column, see sqlite-ddl.ts). */
export const campaignTerminals = sqliteTable('campaign_terminals', {
  key: text('key').primaryKey(),
  campaignId: text('campaign_id').notNull(),
  terminalId: text('terminal_id').notNull(),
  stage: integer('stage').notNull(),
  /** pending | transferring | installed | healthy | failed | rolled-back | refused */
  state: text('state').notNull(),
  /** The version it ran before this campaign touched it (from describe()), and its package if the box has it. */
  previousVersion: text('previous_version'),
  previousPackageId: text('previous_package_id'),
  reportedVersion: text('reported_version'),
  code: text('code'),
  detail: text('detail'),
  bytesDone: integer('bytes_done').notNull().default(0),
  bytesTotal: integer('bytes_total').notNull().default(0),
  attempts: integer('attempts').notNull().default(0),
  /** Epoch ms the install came back: the health deadline runs from here, across restarts too. */
  installedAt: integer('installed_at'),
  updatedAt: text('updated_at').notNull(),
});

export const CAMPAIGN_TABLES = [campaigns, campaignTerminals];
export const CAMPAIGN_SCHEMA_VERSION = 1;
