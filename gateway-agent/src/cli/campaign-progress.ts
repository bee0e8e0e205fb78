import type { CampaignDetail, CampaignSummary } from '../firmware/campaign-types.ts';

const BAR_WIDTH = 24;

function share(c: CampaignSummary): number {
  const settled = (c.progress.byState.healthy ?? 0) + (c.progress.byState.refused ?? 0);
  return c.progress.terminals === 0 ? 1 : settled / c.progress.terminals;
}

function counts(c: CampaignSummary): string {
  return Object.entries(c.progress.byState)
    .filter(([, n]) => (n ?? 0) > 0)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');
}

/** One plain line per campaign: for logs and pipes (no TTY), and the tail of the bar line. */
export function campaignLine(c: CampaignSummary): string {
  const stage = Math.min(c.currentStage + 1, c.stages.length);
  const bytes =
    c.progress.bytesTotal > 0
      ? ` ${(c.progress.bytesDone / 1048576).toFixed(1)}/${(c.progress.bytesTotal / 1048576).toFixed(1)} MiB`
      : '';
  return (
    `${c.id} ${c.family} → ${c.targetVersion} ${c.status.toUpperCase()} stage ${stage}/${c.stages.length}: ` +
    `${counts(c)}${bytes}${c.reason ? ` — ${c.reason}` : ''}`
  );
}

/** `[########----------------]  33%` then the plain line: what a TTY redraws in place. */
export function campaignBar(c: CampaignSummary): string {
  const filled = Math.round(share(c) * BAR_WIDTH);
  const pct = `${Math.round(share(c) * 100)}%`.padStart(4);
  return `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${pct} ${campaignLine(c)}`;
}

/** Per-terminal lines for `campaign status <id>`. */
export function terminalLines(c: CampaignDetail): string[] {
  return c.terminals.map((t) => {
    const pct =
      t.state === 'transferring' && t.bytesTotal > 0
        ? ` ${Math.floor((100 * t.bytesDone) / t.bytesTotal)}%`
        : '';
    const version = t.reportedVersion ?? t.previousVersion;
    return (
      `  stage ${t.stage + 1} ${t.terminalId.padEnd(16)} ${t.state}${pct}` +
      `${version ? ` (runs ${version})` : ''}${t.code ? ` ${t.code}` : ''}${t.detail ? `: ${t.detail}` : ''}`
    );
  });
}

export function isFinished(c: CampaignSummary): boolean {
  return c.status === 'completed' || c.status === 'aborted';
}
