import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { generateSm2KeyPair } from '@sceneway/cloud-sync';
import { type TestVendor, testFirmwareImage, writeTestPackage } from '@sceneway/firmware-tools/testing';
import {
  buildBoxConfigSchema,
  type CampaignDetail,
  type CampaignRequest,
  createLogger,
  type FullBoxConfig,
  openPackageRepository,
  type RunningAgent,
  startAgent,
} from '@sceneway/gateway-agent';
import { waitFor } from '@sceneway/gateway-agent/testing';
import { demoConfigDocument, ensureDemoBoxKeys } from '../demo-site/demo-parts.ts';

export const ADMIN_TOKEN = 'campaign-rig-admin-token-0123456789';

/**
 * A real agent (startAgent, the production driver registry and admin API) with a firmware section, for
 * the campaign tests: packages go in through the repository `sceneway firmware add` uses, campaigns
 * through the admin API with the bearer token. Restartable on the same data dir (restart survival).
 */
export interface CampaignRig {
  dataDir: string;
  config: FullBoxConfig;
  agent: RunningAgent;
  /** Packs, signs (the test vendor) and adds a package; returns its repository id. */
  addPackage(fields: Parameters<typeof writeTestPackage>[0]['fields'], size?: number): Promise<string>;
  post<T = CampaignDetail>(path: string, body?: unknown): Promise<{ status: number; body: T }>;
  get<T = CampaignDetail>(path: string): Promise<T>;
  start(request: CampaignRequest): Promise<CampaignDetail>;
  campaign(id: string): Promise<CampaignDetail>;
  /** Polls the status API (no sleeps in the test: a condition on what the agent says). */
  until(
    id: string,
    what: string,
    ok: (c: CampaignDetail) => boolean,
    timeoutMs?: number,
  ): Promise<CampaignDetail>;
  restart(): Promise<void>;
  logLines: string[];
  close(): Promise<void>;
}

export async function startCampaignRig(options: {
  vendor: TestVendor;
  drivers: Array<{ driver: string; config: unknown; scenario?: string }>;
  canteenLines?: Array<{ path: string; terminalId: string }>;
  healthDeadlineSeconds?: number;
  /** Gate: all these terminals up on the board before the rig returns. */
  terminals: string[];
  /** Extra `scenarios.*` the drivers feed (parking for cameras, gates for face readers). */
  scenarios?: Record<string, unknown>;
  /** After each (re)start, before the terminals must be up: MQTT terminals log in to the agent's broker. */
  afterBoot?: (agent: RunningAgent) => Promise<void>;
  prepare?: (config: FullBoxConfig, secrets: ReturnType<typeof ensureDemoBoxKeys>) => void;
}): Promise<CampaignRig> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sceneway-fw-campaign-'));
  const secrets = ensureDemoBoxKeys(dataDir);
  const tokenPath = join(dataDir, 'admin-token');
  writeFileSync(tokenPath, `${ADMIN_TOKEN}\n`);
  chmodSync(tokenPath, 0o600);
  const doc = demoConfigDocument({
    dataDir,
    ports: { admin: 0, broker: 0, bank: 0 },
    bankUrl: 'http://127.0.0.1:9',
    bankPrivateKeyHex: generateSm2KeyPair().privateKeyHex,
    canteenLines: options.canteenLines ?? [],
    extraDrivers: options.drivers,
  });
  const config = buildBoxConfigSchema().parse({
    ...doc,
    bank: { ...(doc.bank as object), blacklistPollSeconds: 0 },
    scenarios: { ...(doc.scenarios as object), ...options.scenarios },
    firmware: {
      vendorKeys: [options.vendor.publicKeyHex],
      dir: join(dataDir, 'firmware'),
      healthDeadlineSeconds: options.healthDeadlineSeconds ?? 5,
      healthPollSeconds: 0.1,
      apiTokenPath: tokenPath,
    },
  }) as FullBoxConfig;
  options.prepare?.(config, secrets);
  const logLines: string[] = [];
  const capture = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const boot = () =>
    startAgent({ config, secrets, logger: createLogger({ level: 'debug', destination: capture }) });
  const upAll = (agent: RunningAgent) =>
    waitFor(
      () => options.terminals.every((id) => agent.status().terminals.some((t) => t.id === id && t.up)),
      `terminals ${options.terminals.join(', ')} up`,
      60_000,
    );
  let agent = await boot();
  await options.afterBoot?.(agent);
  await upAll(agent);
  const repository = openPackageRepository({
    dir: config.firmware.dir,
    vendorPublicKeys: config.firmware.vendorKeys,
  });

  const rig: CampaignRig = {
    dataDir,
    config,
    get agent() {
      return agent;
    },
    logLines,
    async addPackage(fields, size) {
      const pkg = await writeTestPackage({
        dir: dataDir,
        vendor: options.vendor,
        fields,
        // An image of its own per family and version: two packages never share an image digest.
        image: testFirmwareImage(size ?? 40_000, `${fields?.family} ${fields?.version}`),
        name: `${fields?.family}-${fields?.version}-${fields?.models?.join('_')}.swfw`,
      });
      return (await repository.add(pkg.path)).id;
    },
    async post(path, body = {}) {
      const res = await fetch(new URL(path, agent.adminUrl), {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as never };
    },
    async get(path) {
      const res = await fetch(new URL(path, agent.adminUrl));
      if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
      return (await res.json()) as never;
    },
    async start(request) {
      const { status, body } = await rig.post('/api/firmware/campaigns', request);
      if (status !== 201) throw new Error(`campaign start: HTTP ${status} ${JSON.stringify(body)}`);
      return body;
    },
    campaign: (id) => rig.get(`/api/firmware/campaigns/${id}`),
    async until(id, what, ok, timeoutMs = 90_000) {
      let last: CampaignDetail | undefined;
      try {
        await waitFor(
          async () => {
            last = await rig.campaign(id);
            return ok(last);
          },
          what,
          timeoutMs,
        );
      } catch (err) {
        throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify(last, null, 1)}`);
      }
      return last as CampaignDetail;
    },
    async restart() {
      await agent.stop();
      agent = await boot();
      await options.afterBoot?.(agent);
      await upAll(agent);
    },
    async close() {
      await agent.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return rig;
}

export const stateOf = (c: CampaignDetail, terminalId: string) =>
  c.terminals.find((t) => t.terminalId === terminalId);
