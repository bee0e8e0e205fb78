import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runSceneway as sceneway } from './test-support.ts';

const EXAMPLE = fileURLToPath(new URL('../../../examples/box.yaml', import.meta.url));
const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('sceneway config', () => {
  it('validate exits 1 and lists every problem by field, with a did-you-mean for a misspelt key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sceneway-config-cli-'));
    dirs.push(dir);
    const file = join(dir, 'box.yaml');
    writeFileSync(
      file,
      [
        'version: 1',
        'site: { id: s1 }',
        'box: { id: "" }',
        'bank: { url: "https://bank.example", publicKeyHex: "04" }',
        'limits: { perTransactionLimit: 100 }',
      ].join('\n'),
    );
    const r = await sceneway(['config', 'validate', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${file}: 3 problem(s)`);
    expect(r.stderr).toMatch(/^ {2}box\.id: /m);
    expect(r.stderr).toMatch(/^ {2}bank\.publicKeyHex: expected an uncompressed SM2 public key/m);
    expect(r.stderr).toContain(
      '  scenarios.canteen.limits.perTransactionLimit: unknown key; did you mean `perTransactionLimitFen`?\n',
    );
  });

  it('validate refuses an insecure setting by field, and warns about an acknowledged one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sceneway-config-cli-'));
    dirs.push(dir);
    const file = join(dir, 'box.yaml');
    const lines = [
      'version: 2',
      'site: { id: s1 }',
      'box: { id: b1 }',
      `bank: { url: "https://bank.example", publicKeyHex: "04${'ab'.repeat(64)}" }`,
      'admin: { host: 0.0.0.0 }',
    ];
    writeFileSync(file, lines.join('\n'));
    const refused = await sceneway(['config', 'validate', file]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^ {2}admin\.host: 0\.0\.0\.0: .*insecure: \{ adminOffLoopback: true \}/m);
    writeFileSync(file, [...lines, 'insecure: { adminOffLoopback: true }'].join('\n'));
    const warned = await sceneway(['config', 'validate', file]);
    expect(warned.code).toBe(0);
    expect(warned.stderr).toMatch(
      /^warning: INSECURE by acknowledgement insecure\.adminOffLoopback: admin\.host 0\.0\.0\.0/m,
    );
  });

  it('validate exits 0 on the example site', async () => {
    const r = await sceneway(['config', 'validate', EXAMPLE, '--print']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/valid config for site campus-north-canteen, box box-north-0001, 3 driver\(s\)/);
    // --print shows the effective config: paths as the agent will open them, beside the file.
    const printed = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as {
      bank: { tls: { certPath: string } };
    };
    expect(printed.bank.tls.certPath).toBe(join(dirname(EXAMPLE), 'tls/box-north-0001.crt'));
  });

  it('schema prints a JSON Schema whose fields carry their descriptions', async () => {
    const r = await sceneway(['config', 'schema']);
    expect(r.code).toBe(0);
    const schema = JSON.parse(r.stdout) as {
      properties: {
        scenarios: {
          properties: {
            canteen: { properties: { limits: { properties: Record<string, { description?: string }> } } };
          };
        };
      };
    };
    const limits = schema.properties.scenarios.properties.canteen.properties.limits;
    expect(limits.properties.perTransactionLimitFen?.description).toMatch(/single sale/);
  });
});
