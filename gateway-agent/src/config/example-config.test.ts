import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadBoxConfig } from './load-config.ts';

const EXAMPLE = fileURLToPath(new URL('../../../examples/box.yaml', import.meta.url));

/** The terminal ids each driver entry brings, from its config as the driver schema parsed it. */
function terminalIds(entry: { driver: string; config: unknown }): string[] {
  const config = entry.config as { id?: string; terminals?: Array<{ id: string }> };
  return config.terminals?.map((t) => t.id) ?? (config.id === undefined ? [] : [config.id]);
}

describe('examples/box.yaml', () => {
  // The real loader: YAML, migrations, every driver schema, path resolution. It checks no file exists,
  // so the example's TLS and serial paths need not be on this machine.
  const { config, migratedFrom } = loadBoxConfig(EXAMPLE);

  it('is a valid config of the current version', () => {
    expect(migratedFrom).toBeNull();
    expect(config.site.id).toBe('campus-north-canteen');
  });

  it('is a real site: an RS-232 till and an RS-485 bus of two on stable serial paths, and a HID reader', () => {
    const tills = config.drivers.filter((d) => d.driver === 'canteen-pos');
    const lines = tills.map(
      (d) => d.config as { mode: string; port: { path: string }; terminals: unknown[] },
    );
    expect(lines.map((l) => [l.mode, l.terminals.length])).toEqual([
      ['rs232', 1],
      ['rs485', 2],
    ]);
    for (const line of lines) expect(line.port.path).toMatch(/^\/dev\/serial\/by-id\/usb-FTDI_/);
    expect(config.drivers.filter((d) => d.driver === 'hid-reader')).toHaveLength(1);
    const ids = config.drivers.flatMap(terminalIds);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('talks to the bank over mutual TLS, with its TLS files beside the config', () => {
    const folder = dirname(EXAMPLE);
    expect(config.bank.url).toMatch(/^https:/);
    expect(config.bank.tls).toEqual({
      certPath: join(folder, 'tls/box-north-0001.crt'),
      keyPath: join(folder, 'tls/box-north-0001.key'),
      caPath: join(folder, 'tls/bank-root-ca.pem'),
    });
    expect(config.broker.tls?.requireClientCert).toBe(true);
    expect(config.retention.days).toBe(180);
  });

  it('binds its HID reader to one of its tills', () => {
    const canteen = config.scenarios.canteen as { readerBindings: Array<{ reader: string; till: string }> };
    const [binding] = canteen.readerBindings;
    const readerIds = config.drivers.filter((d) => d.driver === 'hid-reader').flatMap(terminalIds);
    const tillIds = config.drivers.filter((d) => d.driver === 'canteen-pos').flatMap(terminalIds);
    expect(readerIds).toContain(binding?.reader);
    expect(tillIds).toContain(binding?.till);
  });
});
