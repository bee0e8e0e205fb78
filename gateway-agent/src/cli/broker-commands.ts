import type { Command } from 'commander';
import { hashPassword } from '../broker/password-hash.ts';
import { MIN_PASSWORD_CHARS, passwordWeakness } from '../broker/password-strength.ts';

export function registerBrokerCommands(program: Command, setExit: (code: number) => void): void {
  const broker = program
    .command('broker')
    .description('Tools for the embedded MQTT broker that terminals log in to.');
  broker
    .command('hash-password')
    .description(
      "Read a password from stdin and print its scrypt hash: the passwordHash of an MQTT terminal in its driver's config, of a broker service, or of the installer UI (admin.installer.passwordHash).",
    )
    .option('--password-stdin', 'read the password from stdin (the default, and the only source)')
    .addHelpText(
      'after',
      [
        '',
        'The password is read from stdin, never from an argument, so it stays out of shell history and `ps`.',
        `It must have at least ${MIN_PASSWORD_CHARS} characters and no obvious word or keyboard run (exit code 2 otherwise).`,
        'On a terminal it is asked for without echo; piped input may end with one newline, which is dropped.',
        "Only the hash is printed. Put it in the config next to the terminal's username, under its driver:",
        '',
        '  drivers:',
        '    - driver: face-reader',
        '      config:',
        '        terminals:',
        '          - id: face-gate-1',
        '            username: face-gate-1',
        "            passwordHash: 'scrypt$32768$8$1$...'",
        '',
        'Example:  printf %s "$PASSWORD" | sceneway broker hash-password',
      ].join('\n'),
    )
    .action(async () => {
      const password = process.stdin.isTTY
        ? await promptHidden('terminal password: ')
        : await readPipedPassword();
      if (password.length === 0 || /[\r\n]/.test(password)) {
        process.stderr.write(
          password.length === 0
            ? 'error: the password is empty\n'
            : 'error: the password spans several lines; give one line\n',
        );
        setExit(2);
        return;
      }
      const weakness = passwordWeakness(password);
      if (weakness !== null) {
        process.stderr.write(
          `error: ${weakness}. Terminal passwords need at least ${MIN_PASSWORD_CHARS} characters and no obvious words (a generated one: openssl rand -base64 18).\n`,
        );
        setExit(2);
        return;
      }
      process.stdout.write(`${hashPassword(password)}\n`);
    });
}

async function readPipedPassword(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk as Buffer | string));
  // `echo secret |` adds one newline; it is not part of the password.
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** Reads one line from a TTY without echoing it; Ctrl-C aborts. */
function promptHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    let typed = '';
    const finish = (result: () => void) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      result();
    };
    const onData = (text: string) => {
      for (const ch of text) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return finish(() => resolve(typed));
        if (ch === '\u0003') return finish(() => reject(new Error('cancelled')));
        typed = ch === '\u007f' || ch === '\b' ? typed.slice(0, -1) : typed + ch;
      }
    };
    stdin.on('data', onData);
  });
}
