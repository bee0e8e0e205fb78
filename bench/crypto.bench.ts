import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { sm3 as sm3Js, sm4 as sm4Js, sm2 as v2 } from 'sm-crypto-v2';
import {
  generateSm2KeyPair,
  sm2Decrypt,
  sm2Encrypt,
  sm2Sign,
  sm2Verify,
} from '../cloud-sync/src/crypto/sm2.ts';
import { sm3 } from '../cloud-sync/src/crypto/sm3.ts';
import { sm4CbcEncrypt } from '../cloud-sync/src/crypto/sm4.ts';

/**
 * GM/T crypto throughput on this machine, to choose implementations (docs/decisions.md, D-crypto):
 *  - SM2 sign/verify per second: sm-crypto (the original), sm-crypto-v2 (its successor), our
 *    wrapper (sm-crypto-v2 + Node SM3 + a per-key precomputed table), and OpenSSL's own C code
 *    (`openssl speed sm2`), all in the same run;
 *  - SM3 and SM4-CBC MB/s: Node's OpenSSL binding vs the pure-JS sm-crypto-v2 vs `openssl speed -evp`.
 */

interface SmCryptoV1 {
  sm2: {
    doSignature(
      msg: Uint8Array,
      privateKey: string,
      opts: { der: boolean; hash: boolean; publicKey?: string },
    ): string;
    doVerifySignature(
      msg: Uint8Array,
      sig: string,
      publicKey: string,
      opts: { der: boolean; hash: boolean },
    ): boolean;
  };
}
// sm-crypto ships CommonJS without types; this is the slice of its API the bench calls.
const v1 = createRequire(import.meta.url)('sm-crypto') as SmCryptoV1;

/** Runs fn repeatedly for about `ms` and returns operations per second. */
function opsPerSecond(fn: () => unknown, ms = 1000): number {
  for (let i = 0; i < 3; i++) fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(ms) * 1_000_000n;
  let elapsed = 0n;
  while (elapsed < budget) {
    fn();
    n++;
    elapsed = process.hrtime.bigint() - start;
  }
  return n / (Number(elapsed) / 1e9);
}

function mbPerSecond(fn: () => unknown, bytes: number): number {
  return (opsPerSecond(fn, 700) * bytes) / 1e6;
}

function opensslSpeed(args: string[]): string | null {
  try {
    return execFileSync('openssl', ['speed', ...args], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  } catch {
    return null;
  }
}

/** `openssl speed -seconds 1 sm2`: last line "256 bits SM2 (CurveSM2) 0.0003s 0.0003s 3198.0 3587.8". */
function opensslSm2(): { signPerSec: number; verifyPerSec: number } | null {
  const out = opensslSpeed(['-seconds', '1', 'sm2']);
  const m = out && /SM2[^\n]*?\s([\d.]+)\s+([\d.]+)\s*$/m.exec(out.trim());
  return m ? { signPerSec: Number(m[1]), verifyPerSec: Number(m[2]) } : null;
}

/** `openssl speed -evp <alg> -bytes 16384`: "sm3  290488.32k" in 1000s of bytes per second. */
function opensslEvpMBps(alg: string): number | null {
  const out = opensslSpeed(['-seconds', '1', '-bytes', '16384', '-evp', alg]);
  const m = out && /([\d.]+)k\s*$/.exec(out.trim());
  return m ? Number(m[1]) / 1000 : null;
}

export async function run(): Promise<Record<string, unknown>> {
  const keys = generateSm2KeyPair();
  const msg = randomBytes(1024);
  const big = randomBytes(256 * 1024);
  const sigV1 = v1.sm2.doSignature(msg, keys.privateKeyHex, {
    der: true,
    hash: true,
    publicKey: keys.publicKeyHex,
  });
  const sigV2 = v2.doSignature(msg, keys.privateKeyHex, {
    der: true,
    hash: true,
    publicKey: keys.publicKeyHex,
  });
  const sigOurs = sm2Sign(msg, keys.privateKeyHex, { publicKeyHex: keys.publicKeyHex });
  const sigBig = sm2Sign(big, keys.privateKeyHex, { publicKeyHex: keys.publicKeyHex });
  const bigV2 = v2.doSignature(big, keys.privateKeyHex, {
    der: true,
    hash: true,
    publicKey: keys.publicKeyHex,
  });

  const sm2Rows: Record<string, { signPerSec: number; verifyPerSec: number }> = {
    'sm-crypto 0.5 (1 KiB)': {
      signPerSec: opsPerSecond(() =>
        v1.sm2.doSignature(msg, keys.privateKeyHex, { der: true, hash: true, publicKey: keys.publicKeyHex }),
      ),
      verifyPerSec: opsPerSecond(() =>
        v1.sm2.doVerifySignature(msg, sigV1, keys.publicKeyHex, { der: true, hash: true }),
      ),
    },
    'sm-crypto-v2 1.15 (1 KiB)': {
      signPerSec: opsPerSecond(() =>
        v2.doSignature(msg, keys.privateKeyHex, { der: true, hash: true, publicKey: keys.publicKeyHex }),
      ),
      verifyPerSec: opsPerSecond(() =>
        v2.doVerifySignature(msg, sigV2, keys.publicKeyHex, { der: true, hash: true }),
      ),
    },
    'ours: sm2Sign/sm2Verify (1 KiB)': {
      signPerSec: opsPerSecond(() => sm2Sign(msg, keys.privateKeyHex, { publicKeyHex: keys.publicKeyHex })),
      verifyPerSec: opsPerSecond(() => sm2Verify(msg, sigOurs, keys.publicKeyHex)),
    },
    'sm-crypto-v2 1.15 (256 KiB batch)': {
      signPerSec: opsPerSecond(() =>
        v2.doSignature(big, keys.privateKeyHex, { der: true, hash: true, publicKey: keys.publicKeyHex }),
      ),
      verifyPerSec: opsPerSecond(() =>
        v2.doVerifySignature(big, bigV2, keys.publicKeyHex, { der: true, hash: true }),
      ),
    },
    'ours (256 KiB batch)': {
      signPerSec: opsPerSecond(() => sm2Sign(big, keys.privateKeyHex, { publicKeyHex: keys.publicKeyHex })),
      verifyPerSec: opsPerSecond(() => sm2Verify(big, sigBig, keys.publicKeyHex)),
    },
  };
  const openssl = opensslSm2();
  if (openssl) sm2Rows['OpenSSL 3 C (openssl speed sm2)'] = openssl;

  const keyEnvelope = sm2Encrypt(randomBytes(16), keys.publicKeyHex);
  const sm2Envelope = {
    encryptPerSec: opsPerSecond(() => sm2Encrypt(randomBytes(16), keys.publicKeyHex)),
    decryptPerSec: opsPerSecond(() => sm2Decrypt(keyEnvelope, keys.privateKeyHex)),
  };

  const block = randomBytes(16 * 1024);
  const key = randomBytes(16);
  const iv = randomBytes(16);
  const throughput: Record<string, { nodeMBps: number; jsMBps: number; opensslCliMBps: number | null }> = {
    'SM3 (16 KiB)': {
      nodeMBps: mbPerSecond(() => sm3(block), block.length),
      jsMBps: mbPerSecond(() => sm3Js(block), block.length),
      opensslCliMBps: opensslEvpMBps('sm3'),
    },
    'SM4-CBC encrypt (16 KiB)': {
      nodeMBps: mbPerSecond(() => sm4CbcEncrypt(key, block, iv), block.length),
      jsMBps: mbPerSecond(() => sm4Js.encrypt(block, key, { mode: 'cbc', iv }), block.length),
      opensslCliMBps: opensslEvpMBps('sm4-cbc'),
    },
  };

  const round = (n: number) => Math.round(n * 10) / 10;
  console.table(
    Object.fromEntries(
      Object.entries(sm2Rows).map(([k, r]) => [
        k,
        { 'sign/s': round(r.signPerSec), 'verify/s': round(r.verifyPerSec) },
      ]),
    ),
  );
  console.table({
    'SM2 key envelope (16 B)': {
      'encrypt/s': round(sm2Envelope.encryptPerSec),
      'decrypt/s': round(sm2Envelope.decryptPerSec),
    },
  });
  console.table(
    Object.fromEntries(
      Object.entries(throughput).map(([k, r]) => [
        k,
        {
          'node MB/s': round(r.nodeMBps),
          'sm-crypto-v2 JS MB/s': round(r.jsMBps),
          'openssl speed MB/s': r.opensslCliMBps === null ? 'n/a' : round(r.opensslCliMBps),
        },
      ]),
    ),
  );
  return { sm2: sm2Rows, sm2Envelope, throughput };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run();
}
