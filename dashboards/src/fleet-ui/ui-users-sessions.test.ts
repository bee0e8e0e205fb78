import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword } from '@sceneway/gateway-agent';
import { afterAll, describe, expect, it } from 'vitest';
import { createUiSessions } from './ui-sessions.ts';
import { parseUiUsers, uiUsersFromFile } from './ui-users.ts';

const dir = mkdtempSync(join(tmpdir(), 'sceneway-ui-users-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const hash = hashPassword('a-long-ops-password-42');

describe('--ui-users file', () => {
  it('reads name:hash lines from a 0600 file; one others can read is refused, naming the fix', () => {
    const file = join(dir, 'users');
    writeFileSync(file, `# ops\n\nops:${hash}\nnight-shift:${hash}\n`, { mode: 0o600 });
    expect(uiUsersFromFile(file).map((u) => u.name)).toEqual(['ops', 'night-shift']);
    chmodSync(file, 0o640);
    expect(() => uiUsersFromFile(file)).toThrow(/chmod 600/);
  });

  it('refuses a bad line by its number, never echoing the hash', () => {
    const err = (text: string) => {
      try {
        parseUiUsers(text);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(err(`ops:${hash}\nops2:scrypt$1$1$1$AAAA$BBBB\n`)).toMatch(/line 2: the hash is not one/);
    expect(err(`ops:${hash}\nops2:scrypt$1$1$1$AAAA$BBBB\n`)).not.toContain('AAAA');
    expect(err(`:${hash}`)).toMatch(/line 1: expected name:<hash>/);
    expect(err(`ops:${hash}\nops:${hash}`)).toMatch(/ops appears twice/);
    expect(err('# nobody\n')).toMatch(/names no user/);
  });
});

describe('dashboard sessions', () => {
  it('end after the idle time and at the maximum age, and the oldest unused goes when full', () => {
    let now = 0;
    const ended: string[] = [];
    const sessions = createUiSessions({
      idleMs: 1000,
      maxAgeMs: 5000,
      maxSessions: 2,
      now: () => now,
      onEnd: (id) => ended.push(id),
    });
    const a = sessions.create('ops');
    expect(a.csrfToken).not.toBe(a.id);
    now = 900;
    expect(sessions.get(a.id)?.user).toBe('ops'); // used: idle time starts again
    now = 1800;
    expect(sessions.isLive(a.id)).toBe(true);
    now = 2000;
    expect(sessions.get(a.id)).toBeNull(); // 1100 ms unused
    expect(ended).toEqual([a.id]);

    const b = sessions.create('ops');
    for (now = 2500; now <= 7000; now += 500) sessions.get(b.id);
    expect(sessions.get(b.id)).toBeNull(); // used all along, but older than 5000 ms
    now = 10_000;
    const c = sessions.create('ops');
    const d = sessions.create('ops');
    sessions.get(c.id); // c used after d: d is now the least recently used
    sessions.create('ops');
    expect(sessions.size()).toBe(2);
    expect(sessions.get(d.id)).toBeNull();
    expect(sessions.get(c.id)).not.toBeNull();
  });
});
