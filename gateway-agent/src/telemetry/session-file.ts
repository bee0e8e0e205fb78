import { readFileSync, renameSync, writeFileSync } from 'node:fs';

/**
 * The last telemetry session number in a small file (next to the ledger): read at start, replaced
 * atomically (write, rename) at each connect. A missing file reads as 0.
 */
export function sessionFile(path: string): { load(): number; save(session: number): void } {
  return {
    load() {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
        throw err;
      }
      const n = Number(text.trim());
      return Number.isSafeInteger(n) && n > 0 ? n : 0;
    },
    save(session) {
      const tmp = `${path}.tmp`;
      writeFileSync(tmp, `${session}\n`, { mode: 0o600 });
      renameSync(tmp, path);
    },
  };
}
