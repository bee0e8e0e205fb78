import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword, type RunningAgent } from '@sceneway/gateway-agent';
import { type SimReader, startSimReader } from '../sim-face-reader/sim-reader.ts';

export const FACE_MODEL = 'SFR-200';
const password = (id: string) => `pw-${id}-long-enough`;

/** The face-reader driver entry for these readers, with its firmware image server on loopback. */
export function faceReaderEntry(ids: readonly string[]) {
  return {
    driver: 'face-reader',
    scenario: 'gates',
    config: {
      readers: ids.map((id) => ({ id, username: id, passwordHash: hashPassword(password(id)) })),
      commandTtlMs: 10_000,
      firmwareHttp: { host: '127.0.0.1', port: 0 },
    },
  };
}

/** The gates scenario the readers feed (one zone, one group): the campaign does not use it, the agent needs it. */
export function gatesScenario(ids: readonly string[]) {
  return {
    gates: {
      zones: [{ id: 'campus' }],
      readers: ids.map((reader) => ({ reader, zone: 'campus', direction: 'in' })),
      groups: [{ id: 'staff', windows: [{ from: '00:00', to: '24:00' }] }],
      persons: [{ id: 'EMP-0001', group: 'staff' }],
    },
  };
}

/**
 * Simulated readers as real mqtt.js clients of the agent's broker, each with two firmware slots and a
 * staged download in a state directory of its own, pinning the test vendor's key. Started after the
 * agent (they log in to its broker); `connect` again after a restart reconnects nothing: they do it.
 */
export function faceReaderFleet(ids: readonly string[], vendorPublicKeyHex: string) {
  const readers = new Map<string, SimReader>();
  const stateDirs = new Map(ids.map((id) => [id, mkdtempSync(join(tmpdir(), `sim-face-${id}-`))]));
  return {
    readers,
    async connect(agent: RunningAgent): Promise<void> {
      const { host, port } = agent.broker.tcpAddress;
      for (const id of ids) {
        await readers.get(id)?.close();
        readers.set(
          id,
          await startSimReader({
            url: `mqtt://${host}:${port}`,
            readerId: id,
            username: id,
            password: password(id),
            firmware: {
              stateDir: stateDirs.get(id)!,
              vendorKeys: [vendorPublicKeyHex],
              model: FACE_MODEL,
              hardware: 'rev-b',
              factoryVersion: '1.0.0',
              windowBytes: 16 * 1024,
            },
          }),
        );
      }
    },
    async close(): Promise<void> {
      for (const r of readers.values()) {
        await r.firmware?.idle();
        await r.close();
      }
    },
  };
}
