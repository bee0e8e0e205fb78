import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A pseudo-terminal pair joined by socat: what one end writes, the other reads, like a null-modem
 * cable. Drivers and simulators open the two links with the real `serialport`, so tests exercise
 * the production byte path (DESIGN "Testing without hardware").
 *
 * Killing socat is how a test unplugs the cable: both ptys vanish, open ports see EIO and close, the
 * links disappear. Replug is a new pair on the same directory: same link names, new ptys, exactly what
 * /dev/serial/by-id does when a USB adapter comes back.
 */
export interface PtyPair {
  /** Link path of one end (give it to the driver). */
  a: string;
  /** Link path of the other end (give it to the simulator). */
  b: string;
  /** Kills socat and waits until it has exited and both links are gone. Idempotent. */
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 5000;

/**
 * socat outlives a test process that exits without closing its pairs (a failed hook, process.exit):
 * kill every live one on exit. One listener for all pairs, so many pairs raise no listener warning.
 */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

export async function openPtyPair(given?: string): Promise<PtyPair> {
  // A folder made here is the pair's own and goes with it; a caller's folder (a replug on the same
  // names) stays for the caller to remove.
  const dir = given ?? mkdtempSync(join(tmpdir(), 'pty-'));
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  if (existsSync(a) || existsSync(b)) {
    throw new Error(`${dir} already holds a pty pair (a or b exists): close the old pair first`);
  }
  const child = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], {
    stdio: ['ignore', 'ignore', 'pipe'],
    // Its own process group: a Ctrl-C at the terminal must not pull the cable out from under the
    // agent before the demo has stopped it; close() (and the exit hook) end socat instead.
    detached: true,
  });
  track(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    // socat -d -d logs the pty names and the transfer start; keep a tail for error messages only.
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));

  const started = Date.now();
  for (;;) {
    // socat creates both links before it starts copying; both present = ready.
    if (existsSync(a) && existsSync(b)) break;
    const failure = await Promise.race([
      spawnError.then((e) => `socat could not start: ${e.message}`),
      exited.then((code) => `socat exited early (code ${code}): ${stderr.trim()}`),
      new Promise<null>((resolve) => setTimeout(() => resolve(null), 10)),
    ]);
    if (failure !== null) throw new Error(failure);
    if (Date.now() - started > READY_TIMEOUT_MS) {
      child.kill('SIGKILL');
      throw new Error(`socat did not create ${a} and ${b} within ${READY_TIMEOUT_MS} ms: ${stderr.trim()}`);
    }
  }

  let closing: Promise<void> | null = null;
  return {
    a,
    b,
    close() {
      closing ??= stop(child, exited, [a, b]).then(() => {
        if (given === undefined) rmSync(dir, { recursive: true, force: true });
      });
      return closing;
    },
  };
}

async function stop(child: ChildProcess, exited: Promise<number | null>, links: string[]): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  const killTimer = setTimeout(() => child.kill('SIGKILL'), 2000);
  await exited;
  clearTimeout(killTimer);
  // socat removes its links on exit; wait for it so a replug on the same names cannot race the cleanup.
  for (let i = 0; i < 200 && links.some((l) => existsSync(l)); i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
