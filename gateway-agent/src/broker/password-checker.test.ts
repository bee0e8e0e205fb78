import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { createPasswordChecker, type PasswordChecker } from './password-checker.ts';
import { hashPassword } from './password-hash.ts';

/** The nice value of every thread of this process, from /proc (field 19 of stat, after the name). */
function threadNices(): number[] {
  return readdirSync(`/proc/${process.pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${process.pid}/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

let checker: PasswordChecker | undefined;
afterEach(async () => {
  await checker?.close();
  checker = undefined;
});

describe.runIf(process.platform === 'linux')('the password checker worker (D32)', () => {
  it('runs scrypt on a thread of its own at nice 19, leaving the agent thread at its priority', async () => {
    const before = threadNices().filter((n) => n === 19).length;
    checker = createPasswordChecker({ maxInFlight: 1, maxQueued: 1 });
    const hash = hashPassword('a long test password 7');
    const ok = checker.check(Buffer.from('a long test password 7'), hash);
    if (ok === 'busy') throw new Error('the queue is empty');
    expect(await ok).toBe(true);
    // One more thread at the lowest priority: the worker; the main thread is not touched.
    expect(threadNices().filter((n) => n === 19).length).toBe(before + 1);
    const main = readFileSync(`/proc/${process.pid}/task/${process.pid}/stat`, 'utf8');
    expect(Number(main.slice(main.lastIndexOf(')') + 2).split(' ')[16])).not.toBe(19);
  });
});
