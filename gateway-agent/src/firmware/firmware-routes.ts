import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FIRMWARE_FAMILIES } from '@sceneway/core';
import { z } from 'zod';
import type { AdminRoutes } from '../admin/admin-server.ts';
import { GatewayError, isGatewayError } from '../gateway-error.ts';
import type { CampaignEngine } from './campaign-engine.ts';

const MAX_BODY_BYTES = 64 * 1024;
const MIN_TOKEN_LENGTH = 16;

const versionText = z.string().regex(/^\d+\.\d+\.\d+$/, 'expected M.m.p');
const idText = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/);

/** A campaign request as the admin API takes it; what `sceneway firmware campaign start` sends. */
export const campaignRequestSchema = z.strictObject({
  packageId: idText,
  target: z.strictObject({
    family: z.enum(FIRMWARE_FAMILIES),
    models: z.array(z.string().min(1).max(64)).min(1).max(64).optional(),
    versions: z.array(versionText).min(1).max(64).optional(),
    terminalIds: z.array(idText).min(1).max(4096).optional(),
  }),
  canary: z.number().int().min(0).max(4096).default(1),
  waves: z.array(z.number().gt(0).max(100)).max(20).default([100]),
});

/** The token file must be the owner's alone (0600), like every secret on the box. */
export function readAdminToken(file: string): string {
  const mode = statSync(file).mode;
  if ((mode & 0o077) !== 0)
    throw new GatewayError(
      'CONFIG_INVALID',
      `firmware.apiTokenPath: ${file} is readable by group or others (mode ${(mode & 0o777).toString(8)})`,
      `run chmod 600 ${file}`,
    );
  const token = readFileSync(file, 'utf8').trim();
  if (token.length < MIN_TOKEN_LENGTH)
    throw new GatewayError(
      'CONFIG_INVALID',
      `firmware.apiTokenPath: the token is shorter than ${MIN_TOKEN_LENGTH} characters`,
    );
  return token;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body, null, 2));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES)
    throw new GatewayError('ADMIN_BODY_TOO_LARGE', `body over ${MAX_BODY_BYTES} bytes`);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES)
      throw new GatewayError('ADMIN_BODY_TOO_LARGE', `body over ${MAX_BODY_BYTES} bytes`);
    parts.push(chunk);
  }
  if (size === 0) return {};
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8'));
  } catch {
    throw new GatewayError('ADMIN_BAD_REQUEST', 'the body is not JSON');
  }
}

const STATUS_OF: Record<string, number> = {
  FIRMWARE_CAMPAIGN_NOT_FOUND: 404,
  FIRMWARE_PACKAGE_UNKNOWN: 404,
  FIRMWARE_CAMPAIGN_STATE: 409,
  FIRMWARE_CAMPAIGN_OVERLAP: 409,
  ADMIN_BODY_TOO_LARGE: 413,
};

/**
 * The firmware routes of the admin API. Reading (campaigns, packages) is open like /api/status on the
 * loopback listener; every change needs `Authorization: Bearer <firmware.apiTokenPath>`, checked before
 * the body is read (DESIGN invariant 8: cheapest refusal first). No token configured = no changes.
 */
export function firmwareRoutes(options: {
  engine: () => CampaignEngine;
  tokenPath?: string | undefined;
}): AdminRoutes {
  const token = options.tokenPath ? readAdminToken(options.tokenPath) : undefined;
  return async (req, res, path) => {
    if (!path.startsWith('/api/firmware/')) return false;
    try {
      await route(req, res, path);
    } catch (err) {
      if (isGatewayError(err)) {
        send(res, STATUS_OF[err.code] ?? 400, { code: err.code, message: err.message, hint: err.hint });
        return true;
      }
      const code = (err as { code?: unknown }).code;
      // A package that fails verification (firmware-tools' FW_* refusal) is the caller's problem, named.
      if (typeof code === 'string' && code.startsWith('FW_')) {
        send(res, 422, { code, message: (err as Error).message });
        return true;
      }
      throw err;
    }
    return true;
  };

  async function route(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const engine = options.engine();
    const parts = path.split('/').filter(Boolean); // api, firmware, campaigns, [id], [action]
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (path === '/api/firmware/campaigns') return send(res, 200, { campaigns: engine.list() });
      if (parts[2] === 'campaigns' && parts.length === 4) return send(res, 200, engine.get(parts[3]!));
      if (path === '/api/firmware/packages') return send(res, 200, { packages: await engine.packages() });
      return send(res, 404, { code: 'ADMIN_NOT_FOUND', message: `no route ${path}` });
    }
    if (req.method !== 'POST') return send(res, 405, { code: 'ADMIN_METHOD', message: 'GET or POST' });
    if (!token)
      return send(res, 403, {
        code: 'ADMIN_WRITE_DISABLED',
        message: 'firmware changes need a bearer token and none is configured',
        hint: 'set firmware.apiTokenPath to a 0600 file holding a token of at least 16 characters',
      });
    if (!timingSafeEqual(digest(req.headers.authorization ?? ''), digest(`Bearer ${token}`))) {
      res.setHeader('www-authenticate', 'Bearer');
      return send(res, 401, { code: 'ADMIN_UNAUTHORIZED', message: 'missing or wrong bearer token' });
    }
    if (path === '/api/firmware/campaigns') {
      const parsed = campaignRequestSchema.safeParse(await readBody(req));
      if (!parsed.success)
        return send(res, 400, { code: 'ADMIN_BAD_REQUEST', message: z.prettifyError(parsed.error) });
      const t = parsed.data.target;
      const campaign = await engine.create({
        packageId: parsed.data.packageId,
        target: {
          family: t.family,
          ...(t.models ? { models: t.models } : {}),
          ...(t.versions ? { versions: t.versions } : {}),
          ...(t.terminalIds ? { terminalIds: t.terminalIds } : {}),
        },
        canary: parsed.data.canary,
        waves: parsed.data.waves,
      });
      return send(res, 201, campaign);
    }
    if (parts[2] === 'campaigns' && parts.length === 5) {
      const id = parts[3]!;
      const action = parts[4];
      if (action === 'pause') return send(res, 200, engine.pause(id));
      if (action === 'resume') return send(res, 200, engine.resume(id));
      if (action === 'abort') return send(res, 200, await engine.abort(id));
    }
    return send(res, 404, { code: 'ADMIN_NOT_FOUND', message: `no route POST ${path}` });
  }
}
