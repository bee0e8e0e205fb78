import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildEnrolmentAnswer, generateSm2KeyPair } from '@sceneway/cloud-sync';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openLedger } from '../ledger/ledger.ts';
import { saleInput, TEST_DATA_KEY } from '../ledger/test-support.ts';

const BIN = fileURLToPath(new URL('../../bin/sceneway.js', import.meta.url));
const PASSPHRASE = 'cli-test-passphrase';

function sceneway(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('sceneway CLI', () => {
  it('has --help on every subcommand', () => {
    for (const args of [
      [],
      ['start'],
      ['config', 'validate'],
      ['ledger', 'verify'],
      ['keys', 'init'],
      ['keys', 'enrolment-answer'],
      ['broker', 'hash-password'],
      ['status'],
    ]) {
      const r = sceneway([...args, '--help']);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: sceneway/);
    }
  });

  it('ledger verify prints {records, head, ok} and exits 1 on a broken chain', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sceneway-cli-'));
    const path = join(dir, 'ledger.db');
    const ledger = openLedger({ path, boxId: 'box-cli', dataKey: TEST_DATA_KEY });
    await Promise.all(Array.from({ length: 25 }, (_, i) => ledger.append(saleInput(i))));
    const head = ledger.stats().headHash;
    await ledger.close();

    const good = sceneway(['ledger', 'verify', '--db', path]);
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toMatchObject({ ok: true, records: 25, head: { seq: 25, hash: head } });

    const today = new Date().toISOString().slice(0, 10);
    const report = sceneway(['ledger', 'daily-report', '--db', path, '--date', today, '--out', dir]);
    expect(report.code).toBe(0);
    const parsed = JSON.parse(readFileSync(report.stdout.trim(), 'utf8')) as {
      boxId: string;
      lines: Array<{ count: number }>;
    };
    expect(parsed.boxId).toBe('box-cli');
    expect(parsed.lines.reduce((n, l) => n + l.count, 0)).toBe(25);

    const db = new Database(path);
    db.prepare('UPDATE records SET payload = \'{"receiptNo":999}\' WHERE seq = 12').run();
    db.close();
    const bad = sceneway(['ledger', 'verify', '--db', path]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, chainBreak: { seq: 12 } });

    expect(sceneway(['ledger', 'verify', '--db', join(dir, 'missing.db')])).toMatchObject({
      code: 2,
      stderr: /LEDGER_NOT_FOUND/,
    });
    expect(sceneway(['status', '--url', 'http://127.0.0.1:9'])).toMatchObject({
      code: 2,
      stderr: /STATUS_UNREACHABLE/,
    });
  });

  it('keys init writes a 0600 key and prints only the public key; the bank answer is imported; start runs until SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sceneway-cli-'));
    const init = sceneway(['keys', 'init', '--dir', join(dir, 'keys')], {
      SCENEWAY_KEY_PASSPHRASE: PASSPHRASE,
    });
    expect(init.code).toBe(0);
    expect(init.stdout).toMatch(/public key: 04[0-9a-f]{128}/);
    expect(statSync(join(dir, 'keys', 'box-key.json')).mode & 0o777).toBe(0o600);
    expect(init.stdout).not.toMatch(/private/i);

    const bankKeys = generateSm2KeyPair();
    const config = {
      version: 1,
      site: { id: 'cli-site' },
      box: { id: 'cli-box' },
      bank: { url: 'http://127.0.0.1:9', publicKeyHex: bankKeys.publicKeyHex },
      ledger: { path: join(dir, 'ledger.db'), freeSpaceFloorMb: 0 },
      keys: { dir: join(dir, 'keys') },
      broker: { tcp: { host: '127.0.0.1', port: 0 } },
      admin: { host: '127.0.0.1', port: 0 },
    };
    writeFileSync(join(dir, 'box.json'), JSON.stringify(config));
    // D27: the bank's answer to the enrolment (what `sceneway-bank enrol --answer` writes) carries the
    // holder key; without it the agent would run on unkeyed digests and raise CANTEEN_HOLDER_KEY_MISSING.
    const publicKeyHex = /public key: (04[0-9a-f]{128})/.exec(init.stdout)?.[1] ?? '';
    const answer = buildEnrolmentAnswer(
      { boxId: 'cli-box', siteId: 'cli-site', publicKeyHex },
      bankKeys.privateKeyHex,
      new Date(),
    );
    writeFileSync(join(dir, 'answer.json'), JSON.stringify(answer));
    const imported = sceneway(
      ['keys', 'enrolment-answer', '--config', join(dir, 'box.json'), '--in', join(dir, 'answer.json')],
      { SCENEWAY_KEY_PASSPHRASE: PASSPHRASE },
    );
    expect(imported.stdout).toContain('holder key ready');
    expect(statSync(join(dir, 'keys', 'enrolment-answer.json')).mode & 0o777).toBe(0o600);
    const child = spawn(process.execPath, [BIN, 'start', '--config', join(dir, 'box.json')], {
      env: { ...process.env, SCENEWAY_KEY_PASSPHRASE: PASSPHRASE },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const adminUrl = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c: Buffer) => {
        out += c.toString();
        const m = /admin (http:\/\/\S+) /.exec(out);
        if (m?.[1]) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`start exited ${code}`)));
    });
    const status = (await (await fetch(`${adminUrl}/api/status`)).json()) as {
      boxId: string;
      ledger: { depth: number };
    };
    expect(status).toMatchObject({ boxId: 'cli-box', ledger: { depth: 0 } });
    const human = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const p = spawn(process.execPath, [BIN, 'status', '--url', adminUrl], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      p.stdout.on('data', (c: Buffer) => {
        out += c.toString();
      });
      p.once('exit', (code) => resolve({ code, out }));
    });
    expect(human.code).toBe(0);
    expect(human.out).toMatch(/box cli-box/);
    expect(human.out).toMatch(/0 unsynced/);
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
  }, 60_000);

  it('start refuses a wrong passphrase with a clear error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sceneway-cli-'));
    sceneway(['keys', 'init', '--dir', join(dir, 'keys')], { SCENEWAY_KEY_PASSPHRASE: PASSPHRASE });
    writeFileSync(
      join(dir, 'box.json'),
      JSON.stringify({
        version: 1,
        site: { id: 's' },
        box: { id: 'b' },
        bank: { url: 'http://127.0.0.1:9', publicKeyHex: generateSm2KeyPair().publicKeyHex },
        keys: { dir: join(dir, 'keys') },
      }),
    );
    const r = sceneway(['start', '--config', join(dir, 'box.json')], {
      SCENEWAY_KEY_PASSPHRASE: 'wrong-passphrase',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/KEYS_PASSPHRASE/);
  }, 30_000);
});
