import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CampaignDetail, CampaignSummary } from '../firmware/campaign-types.ts';
import { GatewayError } from '../gateway-error.ts';
import { campaignBar, campaignLine, isFinished, terminalLines } from './campaign-progress.ts';

// firmware-tools (SM2, SM3) and SQLite load inside the actions, not with the CLI (D21).

const TOKEN_ENV = 'SCENEWAY_ADMIN_TOKEN';

interface ApiOptions {
  url: string;
  tokenFile?: string;
}

function tokenOf(opts: ApiOptions): string {
  if (opts.tokenFile) return readFileSync(opts.tokenFile, 'utf8').trim();
  const fromEnv = process.env[TOKEN_ENV];
  if (fromEnv) return fromEnv;
  throw new GatewayError(
    'CLI_USAGE',
    'a campaign change needs the admin token',
    `pass --token-file <the file of firmware.apiTokenPath> or set ${TOKEN_ENV}`,
  );
}

async function api<T>(opts: ApiOptions, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(new URL(path, opts.url), {
      method: body === undefined ? 'GET' : 'POST',
      headers:
        body === undefined
          ? {}
          : { authorization: `Bearer ${tokenOf(opts)}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (cause) {
    if (cause instanceof GatewayError) throw cause;
    throw new GatewayError(
      'STATUS_UNREACHABLE',
      `no agent answered at ${opts.url}`,
      'Is `sceneway start` running? Pass --url.',
      { cause },
    );
  }
  const answer = (await res.json()) as T & { code?: string; message?: string; hint?: string };
  if (!res.ok) {
    process.stderr.write(
      `error ${answer.code ?? res.status}: ${answer.message ?? ''}\n${answer.hint ? `what to do: ${answer.hint}\n` : ''}`,
    );
    throw new CampaignCommandFailed();
  }
  return answer;
}

class CampaignCommandFailed extends Error {}

const list = (text: string | undefined) =>
  text
    ? text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;

/**
 * Follows campaigns until they finish (or, without --watch, prints once). On a TTY one bar per campaign
 * is redrawn in place; otherwise a plain line is printed each time a campaign's line changes, so a log
 * or a pipe gets a readable history, not carriage returns.
 */
async function follow(
  opts: ApiOptions & { watch?: boolean; id?: string },
  intervalMs = 1000,
): Promise<CampaignSummary[]> {
  const tty = process.stdout.isTTY === true;
  const last = new Map<string, string>();
  let drawn = 0;
  for (;;) {
    const campaigns = opts.id
      ? [await api<CampaignDetail>(opts, `/api/firmware/campaigns/${encodeURIComponent(opts.id)}`)]
      : (await api<{ campaigns: CampaignSummary[] }>(opts, '/api/firmware/campaigns')).campaigns;
    if (tty) {
      if (drawn > 0) process.stdout.write(`\x1b[${drawn}A`);
      for (const c of campaigns) process.stdout.write(`\x1b[2K${campaignBar(c)}\n`);
      drawn = campaigns.length;
    } else {
      for (const c of campaigns) {
        const line = campaignLine(c);
        if (last.get(c.id) !== line) process.stdout.write(`${line}\n`);
        last.set(c.id, line);
      }
    }
    // --watch ends when nothing is running any more: completed, aborted, or paused for the operator.
    if (!opts.watch || campaigns.every((c) => c.status !== 'running')) {
      if (opts.id && !opts.watch) {
        for (const line of terminalLines(campaigns[0] as CampaignDetail)) process.stdout.write(`${line}\n`);
      }
      return campaigns;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function registerFirmwareCommands(program: Command, setExit: (code: number) => void): void {
  const firmware = program
    .command('firmware')
    .description(
      "Terminal firmware: the box's package repository and rollout campaigns (docs/firmware-format.md).",
    );

  firmware
    .command('add')
    .argument('<package>', 'a .swfw package file')
    .description(
      'Verify a package (vendor SM2 signature under a key pinned in firmware.vendorKeys, every chunk SM3, the image SM3) and store it in firmware.dir. Exits 1 with the FW_* code when it is refused.',
    )
    .requiredOption('--config <file>', 'box config (firmware.vendorKeys, firmware.dir)')
    .action(async (pkg: string, opts: { config: string }) => {
      const [{ loadBoxConfig }, { openPackageRepository }] = await Promise.all([
        import('../config/load-config.ts'),
        import('../firmware/package-repository.ts'),
      ]);
      const { config } = loadBoxConfig(opts.config);
      const repo = openPackageRepository({
        dir: config.firmware.dir,
        vendorPublicKeys: config.firmware.vendorKeys,
      });
      try {
        const stored = await repo.add(pkg);
        const m = stored.manifest;
        process.stdout.write(
          `${stored.added ? 'added' : 'already stored'} ${stored.id}: ${m.family} ${m.version} for ${m.models.join(', ')}` +
            ` (from ${m.minPreviousVersion}, ${m.size} bytes, signed by vendor key ${m.vendorKeyId.slice(0, 16)}…)\n`,
        );
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'string' && code.startsWith('FW_')) {
          process.stderr.write(`refused ${code}: ${(err as Error).message}\nnothing was stored\n`);
          setExit(1);
          return;
        }
        throw err;
      }
    });

  firmware
    .command('list')
    .description('The packages in firmware.dir (as verified on add; verified again before each use).')
    .requiredOption('--config <file>', 'box config')
    .option('--json', 'print JSON')
    .action(async (opts: { config: string; json?: boolean }) => {
      const [{ loadBoxConfig }, { openPackageRepository }, { byVersionDescending }] = await Promise.all([
        import('../config/load-config.ts'),
        import('../firmware/package-repository.ts'),
        import('../firmware/campaign-engine.ts'),
      ]);
      const { config } = loadBoxConfig(opts.config);
      const repo = openPackageRepository({
        dir: config.firmware.dir,
        vendorPublicKeys: config.firmware.vendorKeys,
      });
      const packages = (await repo.list()).sort(byVersionDescending);
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify(
            packages.map((p) => ({ id: p.id, manifest: p.manifest })),
            null,
            2,
          )}\n`,
        );
        return;
      }
      if (packages.length === 0) process.stdout.write(`no packages in ${config.firmware.dir}\n`);
      for (const p of packages)
        process.stdout.write(
          `${p.id}  ${p.manifest.family} ${p.manifest.version}  models ${p.manifest.models.join(',')}  from ${p.manifest.minPreviousVersion}  ${p.manifest.size} B\n`,
        );
    });

  const campaign = firmware
    .command('campaign')
    .description('Roll a package out to terminals: canary, then waves, each behind a health gate.');
  const withApi = (c: Command) =>
    c
      .option('--url <url>', 'admin API of the running agent', 'http://127.0.0.1:8080')
      .option(
        '--token-file <file>',
        `file holding the admin token (firmware.apiTokenPath); else ${TOKEN_ENV}`,
      );
  const run = (fn: () => Promise<void>) =>
    fn().catch((err: unknown) => {
      if (err instanceof CampaignCommandFailed) setExit(1);
      else throw err;
    });

  withApi(
    campaign
      .command('start')
      .description(
        'Start a campaign on the running agent: the canary terminals first, then waves up to each cumulative percentage; each stage waits for the one before to pass its health gate.',
      )
      .addHelpText(
        'after',
        '\nExample:\n  sceneway firmware campaign start --package canteen-pos-2.5.0-1a2b3c4d5e6f \\\n' +
          '    --family canteen-pos --canary 1 --waves 50,100 --token-file /etc/sceneway/admin-token --watch\n',
      )
      .requiredOption('--package <id>', 'package id from `sceneway firmware list`')
      .requiredOption('--family <family>', 'canteen-pos | face-reader | onvif-camera')
      .option('--models <list>', 'only terminals of these models (comma separated)')
      .option('--versions <list>', 'only terminals running these versions')
      .option('--terminals <list>', 'only these terminal ids')
      .option('--canary <n>', 'terminals in the first stage', '1')
      .option('--waves <list>', 'cumulative percentages of the target after each wave', '100')
      .option('--watch', 'follow the campaign until it completes, pauses or is aborted'),
  ).action((opts: ApiOptions & Record<string, string | boolean | undefined>) =>
    run(async () => {
      const models = list(opts.models as string | undefined);
      const versions = list(opts.versions as string | undefined);
      const terminalIds = list(opts.terminals as string | undefined);
      const created = await api<CampaignDetail>(opts, '/api/firmware/campaigns', {
        packageId: opts.package,
        target: {
          family: opts.family,
          ...(models ? { models } : {}),
          ...(versions ? { versions } : {}),
          ...(terminalIds ? { terminalIds } : {}),
        },
        canary: Number(opts.canary),
        waves: (list(opts.waves as string) ?? ['100']).map(Number),
      });
      process.stdout.write(
        `started ${created.id}: ${created.progress.terminals} terminals in ${created.stages.length} stages\n`,
      );
      const [end] = await follow({ ...opts, id: created.id, watch: opts.watch === true });
      if (opts.watch && end && end.status !== 'completed') setExit(1);
    }),
  );

  withApi(
    campaign
      .command('status')
      .argument('[id]', 'one campaign (with its terminals); absent = all')
      .description('Campaign progress from the running agent; --watch follows until nothing runs.')
      .option('--watch', 'follow until every campaign is completed, paused or aborted')
      .option('--json', 'print the raw JSON once'),
  ).action((id: string | undefined, opts: ApiOptions & { watch?: boolean; json?: boolean }) =>
    run(async () => {
      if (opts.json) {
        const body = id
          ? await api(opts, `/api/firmware/campaigns/${encodeURIComponent(id)}`)
          : await api(opts, '/api/firmware/campaigns');
        process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
        return;
      }
      const shown = await follow({ ...opts, ...(id ? { id } : {}) });
      if (shown.length === 0) process.stdout.write('no firmware campaigns\n');
      if (opts.watch && shown.some((c) => !isFinished(c) || c.status === 'aborted')) setExit(1);
    }),
  );

  for (const action of ['pause', 'resume', 'abort'] as const) {
    withApi(
      campaign.command(action).argument('<id>', 'campaign id').description(
        {
          pause: 'Pause: terminals under way finish their step, no new terminal starts.',
          resume: 'Resume a paused campaign; its failed and rolled-back terminals are tried again.',
          abort:
            'Abort: transfers under way are cut (terminals keep their running image), nothing more starts.',
        }[action],
      ),
    ).action((id: string, opts: ApiOptions) =>
      run(async () => {
        const c = await api<CampaignDetail>(
          opts,
          `/api/firmware/campaigns/${encodeURIComponent(id)}/${action}`,
          {},
        );
        process.stdout.write(`${campaignLine(c)}\n`);
      }),
    );
  }
}
