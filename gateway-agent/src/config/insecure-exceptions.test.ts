import { describe, expect, it } from 'vitest';
import { acknowledgedInsecurity, isLoopbackHost } from './insecure-exceptions.ts';
import { parseBoxConfig } from './load-config.ts';
import { configIssuesOf, MINIMAL_BOX_CONFIG } from './test-support.ts';

const site = MINIMAL_BOX_CONFIG;
const refusal = configIssuesOf;

/** Issue #11: each of these validated silently. */
const INSECURE = [
  {
    name: 'plainHttpBank',
    field: 'bank.url',
    doc: { ...site, bank: { ...site.bank, url: 'http://10.1.2.3:9080/ingest' } },
  },
  { name: 'plaintextMqtt', field: 'broker.tcp.host', doc: { ...site, broker: { tcp: { host: '0.0.0.0' } } } },
  { name: 'adminOffLoopback', field: 'admin.host', doc: { ...site, admin: { host: '0.0.0.0' } } },
  {
    name: 'plaintextTelemetry',
    field: 'telemetry.url',
    doc: { ...site, telemetry: { url: 'mqtt://fleet.example:1883' } },
  },
] as const;

describe('insecure settings need an explicit acknowledgement', () => {
  for (const { name, field, doc } of INSECURE) {
    it(`refuses ${field} off loopback without insecure.${name}, naming the field and the way out`, () => {
      const issues = refusal(doc);
      expect(issues).toHaveLength(1);
      expect(issues[0]?.path).toBe(field);
      expect(issues[0]?.message).toContain(`insecure: { ${name}: true }`);
    });

    it(`accepts ${field} off loopback with insecure.${name}, and reports it as a start-up warning`, () => {
      const { config } = parseBoxConfig({ ...doc, insecure: { [name]: true } });
      expect(acknowledgedInsecurity(config)).toEqual([
        expect.objectContaining({ exception: name, field, message: expect.stringMatching(/^INSECURE/) }),
      ]);
    });
  }

  it('one acknowledgement covers only its own exception', () => {
    const issues = refusal({
      ...site,
      bank: { ...site.bank, url: 'http://bank.example/ingest' },
      broker: { tcp: { host: '10.20.0.1' } },
      admin: { host: '::' },
      insecure: { plaintextMqtt: true },
    });
    expect(issues.map((i) => i.path)).toEqual(['bank.url', 'admin.host']);
  });

  it('false is no acknowledgement, and an unknown exception name is refused', () => {
    expect(refusal({ ...INSECURE[2].doc, insecure: { adminOffLoopback: false } })[0]?.path).toBe(
      'admin.host',
    );
    expect(refusal({ ...site, insecure: { plainHttp: true } })[0]).toMatchObject({
      path: 'insecure.plainHttp',
      message: expect.stringContaining('plainHttpBank'),
    });
  });

  it('loopback needs none (the demo): http to 127.0.0.1, listeners on 127.0.0.1, ::1, localhost', () => {
    const { config } = parseBoxConfig({
      ...site,
      bank: { ...site.bank, url: 'http://127.0.0.1:9080' },
      broker: { tcp: { host: '::1' } },
      admin: { host: 'localhost' },
    });
    expect(acknowledgedInsecurity(config)).toEqual([]);
    expect(
      parseBoxConfig({ ...site, bank: { ...site.bank, url: 'http://[::1]:9080' } }).config.bank.url,
    ).toBe('http://[::1]:9080');
  });

  it('an acknowledgement that is not needed is reported so it can be removed', () => {
    const { config } = parseBoxConfig({ ...site, insecure: { plainHttpBank: true } });
    expect(acknowledgedInsecurity(config)).toEqual([
      expect.objectContaining({
        exception: 'plainHttpBank',
        value: null,
        message: expect.stringContaining('not needed'),
      }),
    ]);
  });

  it('knows loopback from what only looks like it', () => {
    for (const host of ['127.0.0.1', '127.9.8.7', '::1', '[::1]', 'LOCALHOST', '::ffff:127.0.0.1'])
      expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.20.0.1', '127.0.0.1.nip.io', 'localhost.example', '128.0.0.1'])
      expect(isLoopbackHost(host)).toBe(false);
  });
});
