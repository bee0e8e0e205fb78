import { existsSync, readFileSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import type { Logger } from '../logger.ts';
import { SECURITY_HEADERS } from './installer-http.ts';

/**
 * The built UI (gateway-agent/dist/web, `npm run build`), served with its content types and a strict
 * Content-Security-Policy: the bundle has no inline script or style, so nothing injected into a page
 * can run. A missing build is said plainly (503 + one log line), never a blank page.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** Where the build lands: beside the source tree (tsx) and beside the bundle (dist/sceneway.mjs). */
export function defaultWebDir(): string {
  const candidates = [resolve(import.meta.dirname, '../../dist/web'), resolve(import.meta.dirname, 'web')];
  return candidates.find((dir) => existsSync(join(dir, 'index.html'))) ?? candidates[0]!;
}

export function createStaticFiles(options: { dir: string; logger: Logger }) {
  const root = resolve(options.dir);
  let saidMissing = false;
  const page = (res: ServerResponse, status: number, title: string, text: string) => {
    res.writeHead(status, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'cache-control': 'no-store',
      ...SECURITY_HEADERS,
    });
    res.end(`<!doctype html><meta charset="utf-8"><title>${title}</title><h1>${title}</h1><p>${text}</p>\n`);
  };
  return {
    page,
    /** Serves `/ui/...`; `rest` is the path after `/ui/` ('' for the app itself). */
    serve(res: ServerResponse, rest: string): void {
      const index = join(root, 'index.html');
      if (!existsSync(index)) {
        if (!saidMissing) {
          options.logger.error(
            { code: 'INSTALLER_WEB_MISSING', dir: root },
            'installer UI not built: run npm run build',
          );
          saidMissing = true;
        }
        page(
          res,
          503,
          'Installer UI not built',
          `The installer UI has not been built on this box: run npm run build (looked in ${root}).`,
        );
        return;
      }
      // The app is one page: every path that is not an asset gets index.html (the wizard's own routes).
      const wanted = rest.startsWith('assets/') ? normalize(join(root, rest)) : index;
      if (!wanted.startsWith(root + sep) || !existsSync(wanted) || !statSync(wanted).isFile()) {
        page(res, 404, 'Not found', 'No such file in the installer UI.');
        return;
      }
      res.writeHead(200, {
        'content-type': TYPES[extname(wanted)] ?? 'application/octet-stream',
        'content-security-policy': CONTENT_SECURITY_POLICY,
        // Asset names carry a content hash; the page itself must be fetched fresh after an update.
        'cache-control': wanted === index ? 'no-store' : 'public, max-age=31536000, immutable',
        ...SECURITY_HEADERS,
      });
      res.end(readFileSync(wanted));
    },
  };
}
