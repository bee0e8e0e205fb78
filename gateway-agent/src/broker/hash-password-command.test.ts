import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { verifyPassword } from './password-hash.ts';

const agentDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Runs `sceneway broker …` through commander in a real process, with stdin piped as an installer would. */
function runBroker(args: string[], input: string) {
  const script = `
    import { Command } from 'commander';
    import { registerBrokerCommands } from './src/cli/broker-commands.ts';
    const program = new Command('sceneway').exitOverride();
    let code = 0;
    registerBrokerCommands(program, (c) => { code = c; });
    try { await program.parseAsync(process.argv.slice(1), { from: 'user' }); } catch { code = 2; }
    process.exitCode = code;`;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, ...args], {
    cwd: agentDir,
    input,
    encoding: 'utf8',
  });
}

describe('sceneway broker hash-password', () => {
  it('prints only the hash of the password read from stdin', () => {
    const run = runBroker(['broker', 'hash-password'], 'gate reader pw 7\n');
    expect(run.status).toBe(0);
    const lines = run.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^scrypt\$/);
    expect(verifyPassword('gate reader pw 7', lines[0] ?? '')).toBe(true);
    expect(run.stdout + run.stderr).not.toContain('gate reader pw 7');

    const explicit = runBroker(['broker', 'hash-password', '--password-stdin'], 'no newline at end');
    expect(verifyPassword('no newline at end', explicit.stdout.trim())).toBe(true);
  });

  it('refuses an empty or multi-line password with exit code 2', () => {
    const empty = runBroker(['broker', 'hash-password'], '\n');
    expect(empty.status).toBe(2);
    expect(empty.stdout).toBe('');
    expect(empty.stderr).toContain('empty');
    const twoLines = runBroker(['broker', 'hash-password'], 'one\ntwo\n');
    expect(twoLines.status).toBe(2);
    expect(twoLines.stdout).toBe('');
  });

  it('refuses weak passwords with a clear reason and exit code 2, printing no hash', () => {
    for (const [weak, why] of [
      ['x', '1 characters'],
      ['short pw 9', 'at least 12'],
      ['aaaaaaaaaaaaaaaa', 'repeats'],
      ['MyPassword2024!', '"password"'],
      ['98765432109876', 'run'],
      ['qwertyuiopasdf', '"qwerty"'],
    ] as const) {
      const run = runBroker(['broker', 'hash-password'], `${weak}\n`);
      expect(run.status, weak).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(why);
      expect(run.stderr).not.toContain(weak);
    }
  });

  it('explains in --help where the hash goes', () => {
    const help = runBroker(['broker', 'hash-password', '--help'], '');
    // commander wraps the description to the terminal width: compare with the line breaks folded
    const text = help.stdout.replace(/\s+/g, ' ');
    expect(text).toContain('passwordHash of an MQTT terminal');
    expect(text).toContain('installer UI (admin.installer.passwordHash)');
    expect(text).toContain('stdin');
  });
});
