import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The benches' load generators run in child processes (a terminal fleet must not share the box's event
 * loop) and talk to the bench over lines: the bench writes commands (`GO`, `QUIT`) on the child's
 * stdin, the child answers `READY` and `RESULT <json>` on its stdout. Both ends of that, once.
 */
export interface LineChild {
  /** Resolves with the rest of the first unread stdout line starting with `prefix`, and consumes it. */
  nextLine(prefix: string): Promise<string>;
  /** Writes one line to the child's stdin. */
  send(line: string): void;
  /** Writes a last line, closes stdin and resolves once the child has exited and its stdout is read. */
  finish(line?: string): Promise<void>;
  /** Resolves once the child has exited and its stdout is read. */
  closed(): Promise<void>;
}

/** Starts `script` (a module URL) under tsx; `what` names it in the error when it dies early. */
export function spawnLineChild(script: string, what: string, argv: string[] = []): LineChild {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(script), ...argv], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  const wake = () => {
    for (const w of waiters.splice(0)) w();
  };
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    const parts = out.split('\n');
    out = parts.pop() ?? '';
    lines.push(...parts);
    wake();
  });
  let exited: string | null = null;
  // 'close', not 'exit': it comes after the child's stdout has been read to the end.
  child.once('close', (code, signal) => {
    exited = `${what} exited (code ${code}, signal ${signal})`;
    wake();
  });
  const closed = () =>
    exited ? Promise.resolve() : new Promise<void>((r) => child.once('close', () => r()));
  return {
    async nextLine(prefix) {
      for (;;) {
        const at = lines.findIndex((l) => l.startsWith(prefix));
        if (at !== -1) return (lines.splice(at, 1)[0] ?? '').slice(prefix.length);
        // A generator that died (serialport has crashed natively on ptys) must fail the bench, not hang it.
        if (exited) throw new Error(exited);
        await new Promise<void>((r) => waiters.push(r));
      }
    },
    send(line) {
      child.stdin.write(`${line}\n`);
    },
    finish(line) {
      child.stdin.end(line === undefined ? undefined : `${line}\n`);
      return closed();
    },
    closed,
  };
}

/** The child's end: its stdin as a queue of lines. */
export function stdinLines(): () => Promise<string> {
  const input: string[] = [];
  const waiting: Array<(line: string) => void> = [];
  let buf = '';
  process.stdin.on('data', (c: Buffer) => {
    buf += c.toString();
    const parts = buf.split('\n');
    buf = parts.pop() ?? '';
    for (const p of parts) {
      const w = waiting.shift();
      if (w) w(p);
      else input.push(p);
    }
  });
  return () =>
    new Promise<string>((resolve) => {
      const l = input.shift();
      if (l !== undefined) resolve(l);
      else waiting.push(resolve);
    });
}
