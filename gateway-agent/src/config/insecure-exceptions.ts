import { isIPv4, isIPv6 } from 'node:net';
import type { ConfigIssue } from './config-issues.ts';
import type { BoxConfig } from './schema.ts';

/**
 * The ways a box config can open the site to its LAN or the bank link to the network without
 * protection (issue #11; plain telemetry, issue #14). Each is refused unless `insecure.<name>: true` acknowledges it, and each
 * acknowledged one is logged as a warning at every start, so a test bench's shortcut cannot reach a
 * site silently. Loopback needs no acknowledgement: nothing leaves the box (the demo runs there).
 * 004 §5.3.1 f asks for the channel to the bank to be protected; DESIGN invariant 8 for every service
 * to refuse strangers, which the plain listener (passwords in clear) and the admin API (no
 * authentication) cannot do off loopback.
 */
export type InsecureException = 'plainHttpBank' | 'plaintextMqtt' | 'adminOffLoopback' | 'plaintextTelemetry';

interface ExceptionRule {
  name: InsecureException;
  /** The field that is insecure, as the issue names it. */
  field: string;
  /** The insecure value, or null when the config is safe on this point. */
  applies(config: BoxConfig): string | null;
  risk: string;
  fix: string;
}

/** 127.0.0.0/8, ::1 (and its IPv4-mapped form) and the name localhost (RFC 6761 §6.3). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost') return true;
  if (isIPv4(bare)) return bare.startsWith('127.');
  if (isIPv6(bare)) return bare === '::1' || /^::ffff:127\./.test(bare);
  return false;
}

const RULES: readonly ExceptionRule[] = [
  {
    name: 'plainHttpBank',
    field: 'bank.url',
    applies(config) {
      const url = new URL(config.bank.url);
      return url.protocol === 'http:' && !isLoopbackHost(url.hostname) ? url.host : null;
    },
    risk:
      'plain http:// to a bank off this box: batches, blacklists and signed requests cross the network ' +
      'in clear, and a forged refusal can hold the uploads',
    fix: 'use an https:// bank.url (bank.tls for mutual TLS, 004 §5.3.1 f)',
  },
  {
    name: 'plaintextMqtt',
    field: 'broker.tcp.host',
    applies(config) {
      // Read defensively: the broker section may make its plain listener optional.
      const host = (config.broker as { tcp?: { host?: string } }).tcp?.host;
      return host !== undefined && !isLoopbackHost(host) ? host : null;
    },
    risk: 'a plaintext MQTT listener off loopback: terminal passwords and sales cross the site LAN in clear',
    fix: 'set broker.tcp.host to 127.0.0.1 and connect terminals to broker.tls',
  },
  {
    name: 'adminOffLoopback',
    field: 'admin.host',
    applies: (config) => (isLoopbackHost(config.admin.host) ? null : config.admin.host),
    risk: 'the admin API has no authentication: off loopback, anyone on the network reads its status and metrics',
    fix: 'set admin.host to 127.0.0.1 and reach it over `ssh -L 8080:127.0.0.1:8080`',
  },
  {
    name: 'plaintextTelemetry',
    field: 'telemetry.url',
    applies(config) {
      if (!config.telemetry) return null;
      const url = new URL(config.telemetry.url);
      const plain = url.protocol === 'mqtt:' || url.protocol === 'ws:';
      return plain && !isLoopbackHost(url.hostname) ? url.host : null;
    },
    risk: 'plain MQTT telemetry to a fleet broker off this box: the fleet password and the health of the site cross the network in clear, and anyone on the path can forge a box',
    fix: 'use an mqtts:// (or wss://) telemetry.url (telemetry.caPath for a private CA)',
  },
];

/** One issue per insecure setting the config does not acknowledge; each names the field and the way out. */
export function unacknowledgedInsecurity(config: BoxConfig): ConfigIssue[] {
  return RULES.flatMap((rule) => {
    const value = rule.applies(config);
    if (value === null || config.insecure?.[rule.name] === true) return [];
    return [
      {
        path: rule.field,
        message: `${value}: ${rule.risk}. ${capitalize(rule.fix)}, or, if this is intended, acknowledge it with \`insecure: { ${rule.name}: true }\``,
      },
    ];
  });
}

export interface InsecureWarning {
  exception: InsecureException;
  field: string;
  value: string | null;
  message: string;
}

/** What the agent logs at every start: each acknowledged exception, and whether it is in use. */
export function acknowledgedInsecurity(config: BoxConfig): InsecureWarning[] {
  return RULES.flatMap((rule) => {
    if (config.insecure?.[rule.name] !== true) return [];
    const value = rule.applies(config);
    return [
      {
        exception: rule.name,
        field: rule.field,
        value,
        message:
          value === null
            ? `insecure.${rule.name} is acknowledged but not needed (${rule.field} is safe): remove it`
            : `INSECURE by acknowledgement insecure.${rule.name}: ${rule.field} ${value}: ${rule.risk}; ${rule.fix}`,
      },
    ];
  });
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
