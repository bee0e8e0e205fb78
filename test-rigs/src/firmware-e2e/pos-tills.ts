import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BoxSecrets, FullBoxConfig } from '@sceneway/gateway-agent';
import { provisionDemoTills } from '../demo-site/demo-parts.ts';
import { openPtyPair, type PtyPair } from '../pty/pty-pair.ts';
import { type CanteenPosSim, startCanteenPosSim } from '../sim-canteen-pos/sim.ts';
import type { TillKey } from '../sim-canteen-pos/wire/index.ts';

export const POS_MODEL = 'CP-300';

/**
 * Canteen POS tills on socat pty pairs, one RS-232 line each (the agent's driver opens end a, the
 * simulated till end b), protocol v2 with keys provisioned as an installer does, two firmware slots and
 * a staging area on disk per till, pinning the test vendor's key.
 */
export async function posTillFleet(ids: readonly string[], vendorPublicKeyHex: string) {
  const root = mkdtempSync(join(tmpdir(), 'fw-pos-'));
  const pairs = new Map<string, PtyPair>();
  for (const id of ids) {
    const dir = join(root, id);
    mkdirSync(dir);
    pairs.set(id, await openPtyPair(dir));
  }
  const sims = new Map<string, CanteenPosSim>();
  let keys = new Map<string, TillKey>();
  return {
    sims,
    canteenLines: ids.map((terminalId) => ({ terminalId, path: pairs.get(terminalId)!.a })),
    /** Before the agent starts (it reads the sealed key store once). */
    provision(config: FullBoxConfig, secrets: BoxSecrets): void {
      keys = provisionDemoTills(config, secrets);
    },
    async start(): Promise<void> {
      for (const id of ids) {
        if (sims.has(id)) continue;
        sims.set(
          id,
          await startCanteenPosSim({
            path: pairs.get(id)!.b,
            baudRate: 115200,
            key: keys.get(id)!,
            firmwareVersion: '1.0.0',
            firmware: {
              vendorKeys: [vendorPublicKeyHex],
              stateDir: join(root, id, 'state'),
              model: POS_MODEL,
              rebootMs: 200,
              cutMs: 2000,
            },
          }),
        );
      }
    },
    stateDirOf: (id: string) => join(root, id, 'state'),
    firmwareOf(id: string) {
      return sims.get(id)!.till().terminal.firmware!;
    },
    async close(): Promise<void> {
      for (const s of sims.values()) await s.close();
      for (const p of pairs.values()) await p.close();
    },
  };
}
