import type { Command } from 'commander';
import type { AgentStatus } from '../admin/admin-server.ts';
import { GatewayError } from '../gateway-error.ts';

function age(seconds: number | null): string {
  if (seconds === null) return 'none';
  if (seconds < 120) return `${seconds.toFixed(0)} s`;
  if (seconds < 7200) return `${(seconds / 60).toFixed(0)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function registerStatusCommand(program: Command, setExit: (code: number) => void): void {
  program
    .command('status')
    .description(
      'Ask a running agent for its status (ledger depth, oldest unsynced age, sync, terminals, alerts).',
    )
    .option('--url <url>', 'admin API of the agent', 'http://127.0.0.1:8080')
    .option('--json', 'print the raw JSON')
    .action(async (opts: { url: string; json?: boolean }) => {
      let status: AgentStatus;
      try {
        const res = await fetch(new URL('/api/status', opts.url), { signal: AbortSignal.timeout(5000) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        status = (await res.json()) as AgentStatus;
      } catch (cause) {
        throw new GatewayError(
          'STATUS_UNREACHABLE',
          `no agent answered at ${opts.url}`,
          'Is `sceneway start` running? Pass --url if its admin API listens elsewhere (config admin.host/admin.port).',
          { cause },
        );
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
        return;
      }
      const lines = [
        `Sceneway ${status.version}  site ${status.siteId}  box ${status.boxId}  up ${age(status.uptimeSeconds)}`,
        `ledger: head #${status.ledger.headSeq}, ${status.ledger.depth} unsynced, oldest unsynced ${age(status.ledger.oldestUnsyncedAgeSeconds)}`,
        `sync:   ${status.sync.status}${status.sync.lastError ? ` (last error: ${status.sync.lastError})` : ''}`,
        `terminals: ${status.terminals.length === 0 ? 'none configured' : ''}`,
        ...status.terminals.map(
          (t) =>
            `  ${t.up ? 'UP  ' : 'DOWN'} ${t.id} (${t.driver}${t.protocol === undefined ? '' : `, protocol ${t.protocol}`})` +
            `${t.insecure ? ' INSECURE' : ''}${t.detail ? ` ${t.detail}` : ''}`,
        ),
        ...(status.firmwareCampaigns && status.firmwareCampaigns.length > 0
          ? [
              'firmware campaigns:',
              ...status.firmwareCampaigns.map(
                (c) =>
                  `  ${c.id} ${c.family} → ${c.targetVersion} ${c.status.toUpperCase()}: ` +
                  Object.entries(c.byState)
                    .map(([state, n]) => `${n} ${state}`)
                    .join(', ') +
                  (c.reason ? ` — ${c.reason}` : ''),
              ),
            ]
          : []),
        `alerts: ${status.alerts.length === 0 ? 'none' : ''}`,
        ...status.alerts.map((a) => `  ${a.at} ${a.code}: ${a.message}`),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
      if (status.alerts.length > 0) setExit(1);
    });
}
