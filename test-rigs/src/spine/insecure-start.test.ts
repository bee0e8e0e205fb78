import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { generateSm2KeyPair } from '@sceneway/cloud-sync';
import { createLogger, parseBoxConfig, startAgent } from '@sceneway/gateway-agent';
import { afterAll, describe, expect, it } from 'vitest';
import { demoConfigDocument, ensureDemoBoxKeys } from '../demo-site/demo-parts.ts';

/**
 * An acknowledged insecure setting is loud at every start (issue #11), not only when the file is
 * checked. The bank address is plain http:// to a host off the box, acknowledged: `.invalid` never
 * resolves (RFC 6761 §6.4), and with no terminal, no blacklist poll and no record the agent never
 * connects to it, so nothing leaves 127.0.0.1.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'sceneway-insecure-start-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function captureLog() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination }) };
}

describe('acknowledged insecure settings at start', () => {
  it('logs a warning naming each acknowledged exception, at every start', async () => {
    const doc = demoConfigDocument({
      dataDir,
      ports: { admin: 0, broker: 0, bank: 0 },
      bankUrl: 'http://bank.invalid:9080',
      bankPrivateKeyHex: generateSm2KeyPair().privateKeyHex,
      canteenLines: [],
    });
    const { config } = parseBoxConfig({
      ...doc,
      bank: { ...(doc.bank as object), blacklistPollSeconds: 0 },
      insecure: { plainHttpBank: true },
    });
    const secrets = ensureDemoBoxKeys(dataDir);
    for (let start = 1; start <= 2; start++) {
      const { lines, logger } = captureLog();
      const agent = await startAgent({ config, secrets, logger });
      await agent.stop();
      const warnings = lines.filter((l) => l.insecure !== undefined);
      expect(warnings).toEqual([
        expect.objectContaining({
          level: 40,
          insecure: 'plainHttpBank',
          field: 'bank.url',
          msg: expect.stringMatching(/^INSECURE .*bank\.invalid:9080/),
        }),
      ]);
    }
  });
});
