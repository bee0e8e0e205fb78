import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isGatewayError } from '../gateway-error.ts';
import { buildBoxConfigSchema } from './driver-config.ts';
import { loadBoxConfig, parseBoxConfig } from './load-config.ts';
import { configIssuesOf, MINIMAL_BOX_CONFIG } from './test-support.ts';

const minimal = MINIMAL_BOX_CONFIG;
const BANK_KEY = minimal.bank.publicKeyHex;

const issuesFor = configIssuesOf;

describe('box config', () => {
  it('fills sensible defaults from a minimal file', () => {
    const { config } = parseBoxConfig(minimal);
    expect(config.ledger.path).toBe('data/ledger.db');
    expect(config.broker.tcp.port).toBe(1883);
    expect(config.admin).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(config.retention.days).toBe(90);
    expect(config.bank.userId).toBe('1234567812345678');
    expect(config.drivers).toEqual([]);
  });

  it('names the field and what is expected', () => {
    const issues = issuesFor({
      ...minimal,
      bank: { url: 'ftp://x', publicKeyHex: 'zz' },
      admin: { port: 70000 },
    });
    const paths = issues.map((i) => i.path);
    expect(paths).toContain('bank.url');
    expect(paths).toContain('bank.publicKeyHex');
    expect(paths).toContain('admin.port');
    expect(issues.find((i) => i.path === 'bank.publicKeyHex')?.message).toMatch(
      /130 hex digits starting with 04/,
    );
  });

  it('indexes array fields and refuses unknown keys', () => {
    const issues = issuesFor({
      ...minimal,
      drivers: [
        { driver: 'hid-reader', config: { id: 'r-1', vendorId: 1, productId: 2, format: 'vendor' } },
        { driver: 'hid-reader', config: { id: 'bad id!', vendorId: 1 } },
      ],
      surprise: true,
    });
    const paths = issues.map((i) => i.path);
    expect(paths).toContain('drivers[1].config.id');
    expect(paths).toContain('drivers[1].config.productId');
    expect(issues).toContainEqual({ path: 'surprise', message: 'unknown key' });
  });

  it('refuses an unknown key at any depth, naming its full path and the key that was meant', () => {
    const issues = issuesFor({
      ...minimal,
      scenarios: { canteen: { limits: { perTransactionLimit: 100 } } },
      ledger: { quarantineDirectory: '/var/lib/q' },
      bank: { ...minimal.bank, tls: { certPath: 'a.crt', keyPath: 'a.key', caPaht: 'ca.crt' } },
      broker: { tcp: { host: '0.0.0.0', port: 1883, backlog: 5 } },
      drivers: [
        {
          driver: 'canteen-pos',
          config: { port: { path: '/dev/ttyS0', baudrate: 9600 }, terminals: [{ id: 't1' }] },
        },
      ],
    });
    expect(issues).toEqual([
      { path: 'bank.tls.caPaht', message: 'unknown key; did you mean `caPath`?' },
      { path: 'ledger.quarantineDirectory', message: 'unknown key; did you mean `quarantineDir`?' },
      { path: 'broker.tcp.backlog', message: 'unknown key' },
      {
        path: 'scenarios.canteen.limits.perTransactionLimit',
        message: 'unknown key; did you mean `perTransactionLimitFen`?',
      },
      { path: 'drivers[0].config.port.baudrate', message: 'unknown key; did you mean `baudRate`?' },
    ]);
  });

  it('refuses one terminal id used by two driver entries, naming the second entry', () => {
    const reader = { vendorId: 1, productId: 2, format: 'vendor' };
    expect(() =>
      parseBoxConfig({
        ...minimal,
        drivers: [
          { driver: 'hid-reader', config: { id: 'window-1', ...reader } },
          { driver: 'hid-reader', config: { id: 'window-1', ...reader, serialNumber: 'B' } },
        ],
      }),
    ).toThrow(
      /^config is invalid:\n {2}drivers\[1\]: terminal id "window-1" is also used by another driver entry$/,
    );
  });

  it('names the registered drivers when an entry names none of them', () => {
    const issues = issuesFor({
      ...minimal,
      drivers: [{ driver: 'canteen-pso', config: {} }, { config: {} }, { driver: 'turnstile-x', config: {} }],
    });
    expect(issues).toEqual([
      { path: 'drivers[0].driver', message: 'unknown driver "canteen-pso"; did you mean `canteen-pos`?' },
      {
        path: 'drivers[1].driver',
        message: 'expected one of canteen-pos, hid-reader, face-reader, onvif-camera',
      },
      {
        path: 'drivers[2].driver',
        message:
          'unknown driver "turnstile-x"; expected one of canteen-pos, hid-reader, face-reader, onvif-camera',
      },
    ]);
  });

  it('lists every problem of a file in one error, each by field', () => {
    try {
      parseBoxConfig({
        ...minimal,
        box: { id: '' },
        scenarios: { canteen: { limits: { perDayLimit: 1 } } },
        retention: { days: 0 },
      });
      expect.unreachable();
    } catch (err) {
      expect(isGatewayError(err, 'CONFIG_INVALID')).toBe(true);
      const message = (err as Error).message;
      expect(message).toMatch(/^ {2}box\.id: /m);
      expect(message).toMatch(
        /^ {2}scenarios\.canteen\.limits\.perDayLimit: unknown key; did you mean `perDayLimitFen`\?$/m,
      );
      expect(message).toMatch(/^ {2}retention\.days: /m);
    }
  });

  it('migrates a version 0 file', () => {
    const { config, migratedFrom } = parseBoxConfig({
      site: { id: 's' },
      box: { id: 'b' },
      bankUrl: 'http://127.0.0.1:9000',
      bankPublicKey: BANK_KEY,
      ledgerPath: '/var/lib/sceneway/ledger.db',
    });
    expect(migratedFrom).toBe(0);
    expect(config.bank.url).toBe('http://127.0.0.1:9000');
    expect(config.ledger.path).toBe('/var/lib/sceneway/ledger.db');
  });

  it('refuses a version from the future with its own code', () => {
    try {
      parseBoxConfig({ ...minimal, version: 9 });
      expect.unreachable();
    } catch (err) {
      expect(isGatewayError(err, 'CONFIG_TOO_NEW')).toBe(true);
    }
  });

  it('reads YAML and reports syntax errors with a position', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sceneway-config-'));
    try {
      const good = join(dir, 'box.yaml');
      writeFileSync(
        good,
        `version: 1\nsite: { id: s1 }\nbox: { id: b1 }\nbank:\n  url: http://127.0.0.1:9000\n  publicKeyHex: "${BANK_KEY}"\n`,
      );
      expect(loadBoxConfig(good).config.box.id).toBe('b1');
      const bad = join(dir, 'bad.yaml');
      writeFileSync(bad, 'version: 1\nsite: [unclosed\n');
      expect(() => loadBoxConfig(bad)).toThrow(/line|col/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('validates driver config with the driver schema, under drivers[i].config', () => {
    const fake = {
      id: 'fake-pos',
      apiVersion: 2 as const,
      configSchema: z.object({ port: z.string().startsWith('/dev/', 'expected /dev/...') }),
      emits: [],
      terminalIds: () => [],
      create: () => ({ start: async () => {}, stop: async () => {} }),
    };
    const schema = buildBoxConfigSchema([fake]);
    const result = schema.safeParse({
      ...minimal,
      drivers: [{ driver: 'fake-pos', config: { port: 'COM3' } }],
    });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual(['drivers', 0, 'config', 'port']);
    expect(result.error?.issues[0]?.message).toBe('expected /dev/...');
  });
});
