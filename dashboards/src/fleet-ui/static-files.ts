import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type http from 'node:http';
import { extname, join, relative, sep } from 'node:path';

/**
 * Strict CSP: scripts and styles only from files of this origin (Vite's build has no inline script;
 * uPlot sizes its canvas through the CSSOM, which style-src does not govern), no framing, no plugins.
 */
export const UI_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS = {
  'content-security-policy': UI_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
} as const;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

interface WebFile {
  body: Buffer;
  type: string;
  etag: string;
  immutable: boolean;
}

export interface WebRoot {
  /** Answers GET/HEAD of a built file; false when the path names none (the caller answers 404). */
  serve(req: http.IncomingMessage, res: http.ServerResponse, pathname: string): boolean;
  files(): number;
}

/**
 * The built dashboard, read once at start into a table of URL path → bytes. A request is looked up in
 * that table and nothing else: no path from a request ever reaches the filesystem, so `..`, encoded
 * slashes and symlinks have nothing to traverse. Null when the build is missing.
 */
export function loadWebRoot(dir: string): WebRoot | null {
  if (!existsSync(join(dir, 'index.html'))) return null;
  const table = new Map<string, WebFile>();
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const full = join(folder, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && statSync(full).size < 16 * 1024 * 1024) {
        const type = TYPES[extname(entry.name).toLowerCase()];
        if (!type) continue; // only kinds we name get served, each with its own content type
        const body = readFileSync(full);
        const path = `/${relative(dir, full).split(sep).join('/')}`;
        table.set(path, {
          body,
          type,
          etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
          // Vite names assets by content hash: they never change under one name.
          immutable: path.startsWith('/assets/'),
        });
      }
    }
  };
  walk(dir);
  return {
    serve(req, res, pathname) {
      const file = table.get(pathname === '/' ? '/index.html' : pathname);
      if (!file) return false;
      const headers: Record<string, string> = {
        ...SECURITY_HEADERS,
        'content-type': file.type,
        etag: file.etag,
        'cache-control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      };
      if (req.headers['if-none-match'] === file.etag) {
        res.writeHead(304, headers).end();
        return true;
      }
      res.writeHead(200, { ...headers, 'content-length': String(file.body.length) });
      res.end(req.method === 'HEAD' ? undefined : file.body);
      return true;
    },
    files: () => table.size,
  };
}
