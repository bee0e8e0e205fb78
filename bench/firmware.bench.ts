import { run as runSerial } from './firmware-serial.bench.ts';
import { run as runVerify } from './firmware-verify.bench.ts';

/**
 * Issue #15's firmware figures in one file, bench/results/firmware.json: the POS serial transfer
 * (framing efficiency, 4 MiB over a pty against raw socat in the same run) and the time to verify a
 * 64 MiB package against `openssl dgst -sm3` of the same file in the same run. Each part prints its
 * own table; face-reader (HTTP Range) and ONVIF upload figures are their own benches.
 */
export async function run(): Promise<Record<string, unknown>> {
  process.stdout.write('--- POS serial transfer ---\n');
  const serial = await runSerial();
  process.stdout.write('--- package verification ---\n');
  const verify = await runVerify();
  return { serial, verify };
}
