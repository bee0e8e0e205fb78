import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A throwaway CA (OpenSSL command line) that signs a server certificate for 127.0.0.1 and one client
 * certificate: ca.pem, server.{pem,key}, client.{pem,key} in `dir`. Tests of mutual TLS only.
 */
export function makeTestPki(dir: string, clientCn = 'box-a'): void {
  const ssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  ssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=test-ca']);
  for (const [name, cn, ext] of [
    ['server', 'localhost', 'subjectAltName=IP:127.0.0.1'],
    ['client', clientCn, 'extendedKeyUsage=clientAuth'],
  ] as const) {
    ssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
    const sign = [
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      `${name}.ext`,
    ];
    ssl(['x509', '-req', '-in', `${name}.csr`, ...sign, '-out', `${name}.pem`]);
  }
}
