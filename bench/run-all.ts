import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * `npm run bench`: runs every benchmark in turn (never in parallel: they would measure each other),
 * prints each one's table and writes bench/results/<name>.json with the machine it ran on.
 * `npm run bench -- ledger sync` runs only the named ones.
 */
const BENCHES = [
  'ledger',
  'startup',
  'crypto',
  'sync',
  'canteen',
  'pos-fuzz',
  'isolation',
  'parking',
  'gates',
  'broker',
  'fleet',
  'fleet-ui',
  'onvif-firmware',
  'face-firmware',
  'firmware',
] as const;

const here = dirname(fileURLToPath(import.meta.url));
const wanted = process.argv.slice(2);
const selected = wanted.length > 0 ? BENCHES.filter((b) => wanted.includes(b)) : [...BENCHES];
mkdirSync(join(here, 'results'), { recursive: true });

let failures = 0;
for (const name of selected) {
  const file = join(here, `${name}.bench.ts`);
  process.stdout.write(`\n=== bench ${name} ===\n`);
  try {
    const mod = (await import(file)) as { run: () => Promise<Record<string, unknown>> };
    const started = Date.now();
    const result = await mod.run();
    const out = {
      bench: name,
      at: new Date().toISOString(),
      machine: {
        node: process.version,
        platform: process.platform,
        arch: process.arch,
        cpus: (await import('node:os')).cpus().length,
      },
      durationSeconds: (Date.now() - started) / 1000,
      ...result,
    };
    writeFileSync(join(here, 'results', `${name}.json`), `${JSON.stringify(out, null, 2)}\n`);
    process.stdout.write(`wrote bench/results/${name}.json\n`);
  } catch (err) {
    failures++;
    process.stdout.write(
      `bench ${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
  }
}
process.exitCode = failures === 0 ? 0 : 1;
