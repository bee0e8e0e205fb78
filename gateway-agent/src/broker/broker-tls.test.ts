import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isGatewayError } from '../gateway-error.ts';
import type { BrokerTlsConfig } from './broker-listeners.ts';
import {
  captureLog,
  connectClient,
  loginAs,
  nextMessage,
  READER_1,
  startTestBroker,
  terminals,
} from './broker-test-support.ts';
import { startTerminalBroker, type TerminalBroker } from './terminal-broker.ts';

let dir: string;
const file = (name: string) => join(dir, name);

/** A self-signed P-256 certificate made by the openssl command line, as an installer would. */
function selfSigned(name: string, commonName: string): void {
  // biome-ignore format: flag and value pairs read better on shared lines
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-keyout', file(`${name}-key.pem`), '-out', file(`${name}-cert.pem`),
    '-days', '2', '-nodes', '-subj', `/CN=${commonName}`, '-addext', `subjectAltName=DNS:${commonName}`,
  ], { stdio: 'ignore' });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sceneway-broker-tls-'));
  selfSigned('server', 'localhost');
  selfSigned('terminal', 'reader-1');
  writeFileSync(file('garbage.pem'), 'this is not PEM\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let broker: TerminalBroker | undefined;
afterEach(async () => {
  await broker?.close();
  broker = undefined;
});

function tlsConfig(extra: Partial<BrokerTlsConfig> = {}): BrokerTlsConfig {
  return {
    host: '127.0.0.1',
    port: 0,
    certPath: file('server-cert.pem'),
    keyPath: file('server-key.pem'),
    requireClientCert: false,
    ...extra,
  };
}

describe('TLS listener', () => {
  it('serves terminals over TLS next to plain TCP', async () => {
    const started = await startTestBroker({ tls: tlsConfig() });
    broker = started.broker;
    const port = broker.tlsAddress?.port;
    expect(port).toBeGreaterThan(0);
    expect(port).not.toBe(broker.tcpAddress.port);
    const client = await connectClient(`mqtts://localhost:${port}`, {
      ...loginAs(READER_1),
      ca: readFileSync(file('server-cert.pem')),
    });
    try {
      expect(client.stream.constructor.name).toBe('TLSSocket');
      await client.subscribeAsync('sceneway/t/reader-1/cmd', { qos: 1 });
      const received = nextMessage(client);
      await broker.publishCommand('reader-1', 'over tls');
      expect(await received).toEqual({ topic: 'sceneway/t/reader-1/cmd', payload: 'over tls' });
    } finally {
      client.end(true);
    }
  });

  it('still asks for the password over TLS', async () => {
    broker = (await startTestBroker({ tls: tlsConfig() })).broker;
    const err = await connectClient(`mqtts://localhost:${broker.tlsAddress?.port}`, {
      ...loginAs(READER_1),
      password: 'wrong',
      ca: readFileSync(file('server-cert.pem')),
    }).catch((e: unknown) => e);
    expect((err as { code?: number }).code).toBe(4);
  });

  it('with requireClientCert, refuses a terminal without a certificate and accepts one with it', async () => {
    const started = await startTestBroker({
      tls: tlsConfig({ requireClientCert: true, caPath: file('terminal-cert.pem') }),
    });
    broker = started.broker;
    const url = `mqtts://localhost:${broker.tlsAddress?.port}`;
    const ca = readFileSync(file('server-cert.pem'));
    const refused = await connectClient(url, { ...loginAs(READER_1), ca }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
    expect(broker.connectedTerminals()).toEqual([]);

    const client = await connectClient(url, {
      ...loginAs(READER_1),
      ca,
      cert: readFileSync(file('terminal-cert.pem')),
      key: readFileSync(file('terminal-key.pem')),
    });
    client.end(true);
    expect(started.log.records().some((r) => r.msg === 'terminal TLS handshake failed')).toBe(true);
  });
});

describe('TLS configuration errors', () => {
  async function startWith(tls: BrokerTlsConfig) {
    const err = await startTerminalBroker({
      terminals: terminals(),
      tcp: { host: '127.0.0.1', port: 0 },
      tls,
      logger: captureLog().logger,
    }).catch((e: unknown) => e);
    return err as Error;
  }

  it('names a missing certificate file', async () => {
    const missing = file('nowhere-cert.pem');
    const err = await startWith(tlsConfig({ certPath: missing }));
    expect(isGatewayError(err, 'BROKER_TLS_FILES')).toBe(true);
    expect(err.message).toContain(missing);
    expect(err.message).toContain('broker.tls.certPath');
  });

  it('names a missing CA file and refuses unusable PEM', async () => {
    const missingCa = file('nowhere-ca.pem');
    const noCa = await startWith(tlsConfig({ caPath: missingCa }));
    expect(isGatewayError(noCa, 'BROKER_TLS_FILES')).toBe(true);
    expect(noCa.message).toContain(missingCa);

    const garbage = await startWith(tlsConfig({ keyPath: file('garbage.pem') }));
    expect(isGatewayError(garbage, 'BROKER_TLS_FILES')).toBe(true);
    expect(garbage.message).toContain(file('garbage.pem'));
  });

  it('refuses requireClientCert without a CA to check terminal certificates against', async () => {
    const err = await startWith(tlsConfig({ requireClientCert: true }));
    expect(isGatewayError(err, 'BROKER_TLS_CONFIG')).toBe(true);
    expect(err.message).toContain('broker.tls.caPath');
  });
});
