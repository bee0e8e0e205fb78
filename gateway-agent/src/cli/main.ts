import { Command, CommanderError } from 'commander';
import { isGatewayError } from '../gateway-error.ts';
import { AGENT_VERSION } from '../version.ts';
import { registerBrokerCommands } from './broker-commands.ts';
import { registerConfigCommands } from './config-commands.ts';
import { registerFirmwareCommands } from './firmware-commands.ts';
import { registerGatesCommands } from './gates-commands.ts';
import { registerKeysCommands } from './keys-commands.ts';
import { registerLedgerCommands } from './ledger-commands.ts';
import { registerStartCommand } from './start-command.ts';
import { registerStatusCommand } from './status-command.ts';
import { registerTerminalCommands } from './terminal-commands.ts';

/**
 * Exit codes: 0 success; 1 the thing checked is bad (broken chain, invalid config); 2 usage error or
 * the command could not run (missing file, unreachable agent). Scripts on a box rely on these.
 */
export async function main(argv: string[]): Promise<number> {
  const program = new Command('sceneway')
    .description(
      'Sceneway edge gateway: drives site terminals, keeps every transaction durable, syncs signed batches to the bank.',
    )
    .version(AGENT_VERSION)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  let exitCode = 0;
  const setExit = (code: number) => {
    exitCode = code;
  };
  registerStartCommand(program);
  registerConfigCommands(program, setExit);
  registerLedgerCommands(program, setExit);
  registerStatusCommand(program, setExit);
  registerKeysCommands(program, setExit);
  registerBrokerCommands(program, setExit);
  registerTerminalCommands(program, setExit);
  registerGatesCommands(program, setExit);
  registerFirmwareCommands(program, setExit);
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : 2;
    }
    if (isGatewayError(err)) {
      process.stderr.write(
        `error ${err.code}: ${err.message}\n${err.hint ? `what to do: ${err.hint}\n` : ''}`,
      );
      return err.code === 'CONFIG_INVALID' ? 1 : 2;
    }
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
}
