import { existsSync, mkdtempSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openPtyPair } from './pty-pair.ts';

describe('socat pty pair', () => {
  it('creates both links, removes them on close, and can be re-created on the same names (replug)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pty-test-'));
    const first = await openPtyPair(dir);
    expect(first.a).toBe(join(dir, 'a'));
    expect(existsSync(first.a) && existsSync(first.b)).toBe(true);
    const firstTarget = readlinkSync(first.a);
    expect(firstTarget).toMatch(/^\/dev\/pts\/\d+$/);
    await expect(openPtyPair(dir)).rejects.toThrow(/already holds a pty pair/);
    await first.close();
    await first.close();
    expect(existsSync(first.a) || existsSync(first.b)).toBe(false);

    const second = await openPtyPair(dir);
    expect(existsSync(second.a) && existsSync(second.b)).toBe(true);
    await second.close();
  });
});
