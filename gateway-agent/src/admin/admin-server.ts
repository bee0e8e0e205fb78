import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FirmwareFamily } from '@sceneway/core';
import type { CampaignStatus } from '../firmware/campaign-types.ts';
import type { Installer } from '../installer/installer-api.ts';
import type { Logger } from '../logger.ts';
import type { AgentMetrics } from './agent-metrics.ts';

/** What `/api/status` reports; gathered fresh on each request by the agent. */
export interface AgentStatus {
  version: string;
  siteId: string;
  boxId: string;
  uptimeSeconds: number;
  ledger: {
    headSeq: number;
    /** Records the bank has not acknowledged. */
    depth: number;
    oldestUnsyncedAgeSeconds: number | null;
    lastSyncedSeq: number;
  };
  sync: { status: string; lastError: string | null };
  terminals: Array<{
    id: string;
    driver: string;
    up: boolean;
    detail?: string;
    protocol?: number;
    insecure?: boolean;
  }>;
  alerts: Array<{ code: string; message: string; at: string }>;
  /** Unfinished firmware campaigns and the last finished ones (gateway-agent/src/firmware/). */
  firmwareCampaigns?: Array<{
    id: string;
    family: FirmwareFamily;
    targetVersion: string;
    status: CampaignStatus;
    reason: string | null;
    terminals: number;
    byState: Record<string, number>;
  }>;
}

/**
 * Extra routes a part serves on the admin listener (the firmware campaigns): answers and returns true
 * for its own paths, false for the rest.
 */
export type AdminRoutes = (req: IncomingMessage, res: ServerResponse, path: string) => Promise<boolean>;

export interface AdminServerOptions {
  host: string;
  port: number;
  status: () => AgentStatus;
  /** Refresh gauges that are cheaper to read on scrape than to push on every change. */
  beforeScrape?: () => void;
  metrics: AgentMetrics;
  logger: Logger;
  /** The commissioning UI under /ui/ (D39): on this listener, behind its own login. */
  installer?: Installer;
  routes?: AdminRoutes;
}

export interface AdminServer {
  url: string;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, null, 2);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

/**
 * The local admin API. It listens on loopback by default: it is for the installer on site and for a
 * Prometheus scraper, not for the internet. `/healthz` is the health-check interface the bank's
 * standard asks for (004 §5.4 c).
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if ((path === '/ui' || path.startsWith('/ui/')) && options.installer) {
      await options.installer.handle(req, res, path);
      return;
    }
    if (options.routes && (await options.routes(req, res, path))) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, {
        code: 'ADMIN_METHOD',
        message: 'only GET is supported (the installer UI is under /ui/)',
      });
      return;
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('ok\n');
      return;
    }
    if (path === '/api/status') {
      sendJson(res, 200, options.status());
      return;
    }
    if (path === '/metrics') {
      options.beforeScrape?.();
      const text = await options.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': options.metrics.registry.contentType });
      res.end(text);
      return;
    }
    sendJson(res, 404, {
      code: 'ADMIN_NOT_FOUND',
      message: `no route ${path}; try /healthz, /api/status, /metrics, /ui/`,
    });
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      options.logger.error({ err }, 'admin request failed');
      if (!res.headersSent)
        sendJson(res, 500, { code: 'ADMIN_INTERNAL', message: 'internal error; see the agent log' });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
