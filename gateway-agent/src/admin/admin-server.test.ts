import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.ts';
import { type AdminServer, type AgentStatus, startAdminServer } from './admin-server.ts';
import { createAgentMetrics } from './agent-metrics.ts';

const status: AgentStatus = {
  version: '0.1.0',
  siteId: 'site-1',
  boxId: 'box-1',
  uptimeSeconds: 12,
  ledger: { headSeq: 42, depth: 7, oldestUnsyncedAgeSeconds: 3.5, lastSyncedSeq: 35 },
  sync: { status: 'idle', lastError: null },
  terminals: [{ id: 'pos-1', driver: 'canteen-pos', up: true }],
  alerts: [],
};

describe('admin API', () => {
  let server: AdminServer | undefined;
  afterEach(async () => {
    await server?.close();
  });

  async function start() {
    const metrics = createAgentMetrics();
    metrics.ledgerRecordsAppended.inc({ kind: 'sale' }, 3);
    metrics.salesDecided.inc({ outcome: 'declined', reason: 'DAILY_LIMIT' });
    server = await startAdminServer({
      host: '127.0.0.1',
      port: 0,
      status: () => status,
      beforeScrape: () => metrics.ledgerUnsyncedRecords.set(status.ledger.depth),
      metrics,
      logger: silentLogger,
    });
    return server;
  }

  it('answers /healthz and /api/status', async () => {
    const { url } = await start();
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const body = (await (await fetch(`${url}/api/status`)).json()) as AgentStatus;
    expect(body.ledger.depth).toBe(7);
    expect(body.terminals[0]?.id).toBe('pos-1');
    const missing = await fetch(`${url}/nope`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe('ADMIN_NOT_FOUND');
  });

  it('serves Prometheus text that promtool accepts', async () => {
    const { url } = await start();
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/^sceneway_ledger_records_appended_total\{kind="sale"\} 3$/m);
    expect(text).toMatch(/^sceneway_ledger_unsynced_records 7$/m);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(check.error).toBeUndefined();
    expect(`${check.stdout}${check.stderr}`.trim()).toBe('');
    expect(check.status).toBe(0);
  });
});
