import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chainedBatches, postBatch } from '@sceneway/cloud-sync/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type BankHarness, startBankHarness } from './test-support/bank-harness.ts';

const CLI = fileURLToPath(new URL('./cli.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const NODE_ARGS = ['--import', 'tsx', CLI];

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [...NODE_ARGS, ...args], {
      cwd: ROOT,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

let h: BankHarness;
beforeEach(async () => {
  h = await startBankHarness();
});
afterEach(async () => {
  await h.close();
});

describe('fault-proxy CLI', () => {
  it('--help names every fault kind', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const word of ['--target', '--plan', '--seed', 'drop-response', 'replayed-ack'])
      expect(r.stdout).toContain(word);
  });

  it.each([
    [['--target', 'https://127.0.0.1:1'], 'expected an http:// URL'],
    [['--target', 'http://127.0.0.1:1', '--plan', 'drop-packet=0.1'], 'unknown fault kind'],
    [['--target', 'http://127.0.0.1:1', '--plan', 'delay=0.7,error-500=0.7'], 'must be <= 1'],
    [['--target', 'http://127.0.0.1:1', '--wrong-ack-key', 'abc'], 'SM2 private key'],
  ])('refuses %j', async (args, message) => {
    const r = await cli(args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(message);
  });

  it('serves a plan, faults uploads only, and prints its counts on SIGINT', async () => {
    const child = spawn(
      process.execPath,
      [...NODE_ARGS, '--target', h.bank.url, '--plan', 'error-500=1', '--seed', '7'],
      { cwd: ROOT },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', () => {
          const m = /listening on (\S+) -> \S+ \(seed 7\)/.exec(out);
          if (m?.[1]) resolve(m[1]);
        });
        child.once('exit', (code) => reject(new Error(`fault-proxy exited ${code}: ${out}`)));
      });
      const [b1] = chainedBatches(h.box, h.bank.bankPublicKeyHex, [2]);
      if (!b1) throw new Error('no batch');
      expect((await postBatch(url, h.signer, b1)).status).toBe(500);
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      expect(await h.bank.store.recordCount()).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        await once(child, 'exit');
      }
    }
    expect(child.exitCode).toBe(0);
    const stats = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { stats: Record<string, number> };
    expect(stats.stats).toMatchObject({ 'error-500': 1, forwarded: 1 });
  });
});
