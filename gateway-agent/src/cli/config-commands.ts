import type { Command } from 'commander';
import { z } from 'zod';
import { buildBoxConfigSchema } from '../config/driver-config.ts';
import { acknowledgedInsecurity } from '../config/insecure-exceptions.ts';
import { ConfigError, loadBoxConfig } from '../config/load-config.ts';

export function registerConfigCommands(program: Command, setExit: (code: number) => void): void {
  const config = program.command('config').description('Check and describe the box configuration file.');
  config
    .command('validate')
    .description('Validate a YAML or JSON box config; print every problem with the field it concerns.')
    .argument('<file>', 'config file (.yaml, .yml or .json)')
    .option('--print', 'print the effective config (defaults filled, older versions migrated) as JSON')
    .action((file: string, opts: { print?: boolean }) => {
      try {
        const { config: parsed, migratedFrom } = loadBoxConfig(file);
        const note =
          migratedFrom === null
            ? ''
            : ` (migrated from version ${migratedFrom}; save the migrated form with --print)`;
        process.stdout.write(
          `${file}: valid config for site ${parsed.site.id}, box ${parsed.box.id}, ${parsed.drivers.length} driver(s)${note}\n`,
        );
        for (const warning of acknowledgedInsecurity(parsed))
          process.stderr.write(`warning: ${warning.message}\n`);
        if (opts.print) process.stdout.write(`${JSON.stringify(parsed, null, 2)}\n`);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        process.stderr.write(`${file}: ${err.issues.length} problem(s)\n`);
        for (const issue of err.issues) process.stderr.write(`  ${issue.path}: ${issue.message}\n`);
        setExit(1);
      }
    });
  config
    .command('schema')
    .description(
      'Print the JSON Schema of the box config (generated from the same zod schema the agent validates with).',
    )
    .action(() => {
      const jsonSchema = z.toJSONSchema(buildBoxConfigSchema(), { io: 'input', unrepresentable: 'any' });
      process.stdout.write(`${JSON.stringify(jsonSchema, null, 2)}\n`);
    });
}
