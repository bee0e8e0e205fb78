import { Writable } from 'node:stream';
import { maskCredential } from '@sceneway/core';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

function captured() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ level: 'trace', destination });
  return { logger, lines };
}

describe('log redaction by the real field names (issue #11 item 4)', () => {
  it('censors keys, passphrases and raw credentials at any depth up to two objects', () => {
    const { logger, lines } = captured();
    logger.info(
      {
        privateKeyHex: 'aa11',
        secrets: { dataKey: 'bb22', passphrase: 'cc33' },
        event: { credential: { kind: 'card', uidHex: '04A1B2C3D4' } },
        claims: { account: 'acct-20250001' },
        req: { headers: { authorization: 'Bearer dd44' } },
      },
      'x',
    );
    const line = lines.join('');
    for (const secret of ['aa11', 'bb22', 'cc33', '04A1B2C3D4', 'acct-20250001', 'dd44'])
      expect(line).not.toContain(secret);
  });

  it('keeps a credential field that is already masked', () => {
    const { logger, lines } = captured();
    logger.info({ credential: maskCredential({ kind: 'card', uidHex: '04A1B2C3D4' }) }, 'x');
    expect(lines.join('')).toContain('card:******C3D4');
  });
});
