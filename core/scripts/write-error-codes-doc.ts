// `npm run docs:errors`: writes docs/error-codes.md from the code lists in core/src/error-codes.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderErrorCodesDoc } from '../src/error-codes/render-doc.ts';

const target = fileURLToPath(new URL('../../docs/error-codes.md', import.meta.url));
writeFileSync(target, renderErrorCodesDoc());
process.stdout.write(`wrote ${target}\n`);
