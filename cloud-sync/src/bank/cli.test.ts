import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyAck } from '../batch/ack-v1.ts';
import { openEnrolmentAnswer } from '../batch/enrolment-answer.ts';
import { sampleChain } from '../batch/test-support/sample-records.ts';
import { holderKeyForBox, keyedHolderDigests } from '../blacklist/holder-digest.ts';
import { blacklistFeedForBox } from './blacklist-feed.ts';
import { bankProgram } from './cli.ts';
import { loadBankPrivateKey } from './keys.ts';
import { dailyTotals, RECON_FORMAT } from './reconcile.ts';
import { chainedBatches, newTestBox, postBatch } from './test-support/box-kit.ts';

const run = promisify(execFile);
const BIN = fileURLToPath(new URL('../../bin/sceneway-bank.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sceneway-bank-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd: tmpdir() });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

describe('sceneway-bank CLI', () => {
  it('signs blacklist updates that the feed serves, and never rewrites a published version', async () => {
    const keysDir = join(dir, 'bl-keys');
    expect((await cli(['keys', 'init', '--out', keysDir])).code).toBe(0);
    const out = join(dir, 'blacklist');
    const key = join(keysDir, 'bank-key.pem');
    const sign = (...args: string[]) => cli(['blacklist', 'sign', '--key', key, '--out', out, ...args]);
    const first = await sign('--version', '1', '--add-card', '04a1b2c3');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/full v1, \+1 -0/);
    expect(first.stdout).not.toMatch(/04a1b2c3/i); // the card UID is not echoed
    const delta = await sign('--version', '2', '--base', '1', '--remove-card', '04A1B2C3');
    expect(delta.code).toBe(0);
    for (const name of ['blacklist-v00000001.json', 'blacklist-v00000002.json'])
      expect(readFileSync(join(out, name), 'utf8')).not.toMatch(/04a1b2c3/i); // sealed at rest (D27)
    const bankKey = loadBankPrivateKey(key);
    const feed = blacklistFeedForBox(out, 'box-1', 0, bankKey);
    expect(feed.updates.map((u) => u.update.version)).toEqual([1, 2]);
    const digests = keyedHolderDigests(holderKeyForBox(bankKey, 'box-1'));
    expect(feed.updates[0]?.update.add).toEqual([digests.card('04A1B2C3')]);
    expect(feed.updates[1]?.update.remove).toEqual([digests.card('04A1B2C3')]);
    const again = await sign('--version', '2', '--add-card', '99');
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/never rewritten/);
  });

  it('initialises keys, enrols a box, serves batches and reconciles the day', async () => {
    const keysDir = join(dir, 'keys');
    expect((await cli(['keys', 'init', '--out', keysDir])).code).toBe(0);
    expect(statSync(join(keysDir, 'bank-key.pem')).mode & 0o777).toBe(0o600);
    const bankPub = readFileSync(join(keysDir, 'bank-pub.hex'), 'utf8').trim();

    const db = join(dir, 'bank.db');
    const box = newTestBox('box-cli');
    writeFileSync(join(dir, 'enrol.json'), JSON.stringify(box.enrolment));
    const answerFile = join(dir, 'answer.json');
    const enrol = await cli([
      'enrol',
      '--request',
      join(dir, 'enrol.json'),
      '--db',
      db,
      '--key',
      join(keysDir, 'bank-key.pem'),
      '--answer',
      answerFile,
    ]);
    expect(enrol.stdout).toContain('enrolled box box-cli');
    // D27: the answer gives the box its holder key, which only the enrolled box key opens.
    expect(statSync(answerFile).mode & 0o777).toBe(0o600);
    const opened = openEnrolmentAnswer(JSON.parse(readFileSync(answerFile, 'utf8')), {
      boxId: box.boxId,
      privateKeyHex: box.keys.privateKeyHex,
      bankPublicKeyHex: bankPub,
    });
    expect(opened.holderKey).toEqual(
      holderKeyForBox(loadBankPrivateKey(join(keysDir, 'bank-key.pem')), box.boxId),
    );

    const child = spawn(
      process.execPath,
      [BIN, 'serve', '--db', db, '--key', join(keysDir, 'bank-key.pem'), '--port', '0'],
      {
        cwd: tmpdir(),
      },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /listening on (\S+)/.exec(out);
          if (m?.[1]) resolve(m[1]);
        });
        child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
      });
      const [b1] = chainedBatches(box, bankPub, [5], Date.parse('2026-03-02T03:15:00.000Z'));
      if (!b1) throw new Error('no batch');
      const res = await postBatch(url, { boxId: box.boxId, privateKeyHex: box.keys.privateKeyHex }, b1);
      expect(res.status).toBe(200);
      expect(verifyAck(res.body, bankPub, { boxId: box.boxId, batchSeq: 1, digest: b1.digest }).status).toBe(
        'stored',
      );
      const status = await cli(['status', '--url', url]);
      expect(status.stdout).toContain('"headSeq": 5');
    } finally {
      child.kill('SIGTERM');
    }

    // The box's own totals of the same five sample records: equal, then one sale missing at the bank.
    const chain = sampleChain({ boxId: box.boxId, count: 5, salt: () => '00'.repeat(16) });
    const lines = dailyTotals(chain.records, '2026-03-02');
    const report = join(dir, 'recon.json');
    writeFileSync(
      report,
      JSON.stringify({ format: RECON_FORMAT, boxId: box.boxId, date: '2026-03-02', lines }),
    );
    const ok = await cli(['reconcile', '--date', '2026-03-02', '--box-report', report, '--db', db]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('no differences');

    const extraSale = {
      kind: 'sale',
      terminalId: 'pos-09',
      amountFen: 300,
      recordedAt: '2026-03-02T09:00:00.000Z',
    };
    const withExtra = dailyTotals([...chain.records, extraSale], '2026-03-02').map((l) =>
      l.kind === 'sale' && l.terminalId === 'pos-01' ? { ...l, sumFen: l.sumFen + 1 } : l,
    );
    writeFileSync(
      report,
      JSON.stringify({ format: RECON_FORMAT, boxId: box.boxId, date: '2026-03-02', lines: withExtra }),
    );
    const bad = await cli(['reconcile', '--date', '2026-03-02', '--box-report', report, '--db', db]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('DIFF sale @ pos-01: box 1 records, 1251 fen / bank 1 records, 1250 fen');
    expect(bad.stdout).toContain('DIFF sale @ pos-09: box 1 records, 300 fen / bank absent');
    expect(bad.stdout).toContain('2 difference(s)');
  });

  it('prints --help for every subcommand', () => {
    for (const sub of [['serve'], ['keys', 'init'], ['enrol'], ['reconcile'], ['status']]) {
      let out = '';
      const program = bankProgram();
      const leaf = sub.reduce((cmd, name) => cmd.commands.find((c) => c.name() === name) ?? cmd, program);
      for (const cmd of [
        program,
        ...program.commands,
        leaf,
        ...program.commands.flatMap((c) => c.commands),
      ]) {
        cmd.exitOverride().configureOutput({
          writeOut: (s) => {
            out += s;
          },
        });
      }
      expect(() => program.parse(['node', 'sceneway-bank', ...sub, '--help'])).toThrow('(outputHelp)');
      expect(out).toContain(`Usage: sceneway-bank ${sub.join(' ')}`);
    }
  });
});
