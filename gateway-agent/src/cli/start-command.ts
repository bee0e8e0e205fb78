import type { Command } from 'commander';
import { loadBoxConfig } from '../config/load-config.ts';
import type { GatewayError } from '../gateway-error.ts';
import { resolvePassphrase } from '../keys/passphrase.ts';
import { stretchBoxKey } from '../keys/sealed-key.ts';
import type { Logger } from '../logger.ts';

/** `sceneway start`'s exit code when the ledger could not sync to disk (LEDGER_SYNC_FAILED). */
export const EXIT_LEDGER_FATAL = 3;

/**
 * What the daemon does when the ledger reports a failed fsync: one best-effort log line, then exit
 * at once with EXIT_LEDGER_FATAL, without the orderly stop (which would still write: a last sync, a
 * checkpoint). The supervisor restarts the agent; its boot check decides what reached the disk, and
 * the terminals resend what was left unanswered (docs/decisions.md D17).
 */
export function exitOnLedgerFatal(
  logger: Logger,
  exit: (code: number) => never = process.exit,
): (error: GatewayError) => void {
  return (error) => {
    try {
      logger.fatal(
        { code: error.code, exitCode: EXIT_LEDGER_FATAL },
        `${error.message}; exiting for the supervisor to restart the agent`,
      );
    } catch {
      // Best effort: the exit matters more than the line.
    }
    exit(EXIT_LEDGER_FATAL);
  };
}

/**
 * `sceneway start`: the daemon. Logs are JSON on stderr (for journald / a log shipper); stdout gets
 * the one human line an installer looks for: where the admin API is. Ctrl-C / SIGTERM stop cleanly,
 * letting every queued ledger append commit first.
 */
export function registerStartCommand(program: Command): void {
  program
    .command('start')
    .description(
      'Run the gateway agent: ledger, terminal broker, drivers, uploader and the local admin API. ' +
        'Exit codes: 0 stopped by SIGINT/SIGTERM; 1 invalid config; 2 could not start; ' +
        `${EXIT_LEDGER_FATAL} the ledger could not sync to disk (LEDGER_SYNC_FAILED): check the storage; ` +
        'the supervisor should restart the agent, whose boot check decides what reached the disk.',
    )
    .requiredOption(
      '--config <file>',
      'box config (YAML or JSON); check it first with `sceneway config validate`',
    )
    .option('--passphrase-file <file>', 'file holding the key passphrase (else SCENEWAY_KEY_PASSPHRASE)')
    .option('--log-level <level>', 'fatal, error, warn, info, debug or trace (overrides log.level)')
    .action(async (opts: { config: string; passphraseFile?: string; logLevel?: string }) => {
      const { config } = loadBoxConfig(opts.config);
      // scrypt starts first, on the thread pool; the SM2 code, the logger and the agent (chunks of the
      // bundle of their own, D21) load on this thread meanwhile: the two biggest costs of a cold start
      // overlap. Promise.all, so a failed stretch is never a rejection nobody is waiting on.
      const [stretched, { openBoxKey }, { createLogger }, { startAgent }] = await Promise.all([
        stretchBoxKey({ dir: config.keys.dir, passphrase: resolvePassphrase(opts.passphraseFile) }),
        import('../keys/box-keys.ts'),
        import('../logger.ts'),
        import('../agent.ts').then((agentModule) => {
          warmUpDateFormatting();
          return agentModule;
        }),
      ]);
      const secrets = openBoxKey(stretched);
      const logger = createLogger({ level: opts.logLevel ?? config.log.level, destination: process.stderr });
      const agent = await startAgent({
        config,
        secrets,
        logger,
        onLedgerFatal: exitOnLedgerFatal(logger),
        configFile: opts.config,
      });
      const broker = agent.broker.tcpAddress;
      process.stdout.write(
        `sceneway ready: admin ${agent.adminUrl} (status: ${agent.adminUrl}/api/status, metrics: ${agent.adminUrl}/metrics), ` +
          `terminal broker mqtt://${broker.host}:${broker.port}` +
          (config.admin.installer ? `, installer UI ${agent.adminUrl}/ui/` : '') +
          '\n',
      );
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          logger.info({ signal }, 'stopping');
          resolve();
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
      await agent.stop();
    });
}

/**
 * A process's first Intl.DateTimeFormat initialises ICU's date-time data (15–35 ms measured): node-cron
 * would pay that in startAgent, when it schedules the first daily job. Done here, once the agent's code
 * is loaded, it falls in the time this thread waits for scrypt anyway (D21).
 */
function warmUpDateFormatting(): void {
  new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', hour: '2-digit' }).format(0);
}
