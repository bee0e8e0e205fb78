import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EnrolmentRequest } from '@sceneway/cloud-sync';
import type { TerminalProbeResult } from '@sceneway/device-drivers';
import { sm2PublicKeyHex } from '../config/schema.ts';
import { GatewayError } from '../gateway-error.ts';
import { keyFingerprint } from '../keys/key-fingerprint.ts';
import type { Logger } from '../logger.ts';
import type { TerminalState } from '../terminal-board.ts';
import { buildChecklist, type ChecklistInput } from './installer-checklist.ts';
import { checkConfigDocument, readEditableConfig, saveConfigDocument } from './installer-config-file.ts';
import {
  cookieOf,
  HttpRefusal,
  hostAllowed,
  readJsonBody,
  SECURITY_HEADERS,
  sameOrigin,
  sendJson,
} from './installer-http.ts';
import { createInstallerLogin } from './installer-login.ts';
import { createSessionStore, type InstallerSession } from './installer-sessions.ts';
import { createStaticFiles, defaultWebDir } from './installer-static.ts';

/**
 * The commissioning UI's server half, on the admin listener under /ui/ (D39). Every request is refused
 * as cheaply as it can be, in this order: a Host that is not this box (DNS rebinding), a POST from
 * another Origin (403), no session (401), a missing or wrong CSRF token (403), an oversized body (413);
 * only then is anything parsed, hashed or written.
 */
export interface InstallerOptions {
  /** admin.installer.passwordHash; absent = the UI is off and /ui/ says how to turn it on. */
  passwordHash: string | undefined;
  /** The config file the agent was started with; absent = the wizard can show but not save. */
  configFile: string | undefined;
  adminHost: string;
  boxPublicKeyHex: string;
  enrolmentRequest: () => EnrolmentRequest;
  terminals: () => TerminalState[];
  probe: (terminalId: string) => Promise<TerminalProbeResult>;
  checklist: () => Omit<ChecklistInput, 'probes'>;
  logger: Logger;
  now?: () => number;
  webDir?: string;
}

export interface Installer {
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
  close(): Promise<void>;
}

export const SESSION_COOKIE = 'sceneway_installer';
const IDLE_MS = 15 * 60_000;
const LOGIN_BODY_BYTES = 4096;
const CONFIG_BODY_BYTES = 256 * 1024;

const bankFingerprintOf = (doc: unknown): string | null => {
  const key = (doc as { bank?: { publicKeyHex?: unknown } } | null)?.bank?.publicKeyHex;
  return sm2PublicKeyHex.safeParse(key).success ? keyFingerprint(key as string) : null;
};

export function createInstaller(options: InstallerOptions): Installer {
  const now = options.now ?? Date.now;
  const logger = options.logger;
  const files = createStaticFiles({ dir: options.webDir ?? defaultWebDir(), logger });
  const sessions = createSessionStore({ idleMs: IDLE_MS, maxSessions: 16, now });
  const login = options.passwordHash
    ? createInstallerLogin({ passwordHash: options.passwordHash, now })
    : null;

  const sessionCookie = (value: string, maxAgeSeconds: number) =>
    `${SESSION_COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeSeconds}`;

  const requireConfigFile = (): string => {
    if (options.configFile === undefined)
      throw new HttpRefusal(
        409,
        'INSTALLER_CONFIG_FILE',
        'this agent was started without a config file (sceneway start --config FILE): nothing to save to',
      );
    return options.configFile;
  };

  async function onLogin(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = (await readJsonBody(req, LOGIN_BODY_BYTES)) as { password?: unknown } | null;
    const password = typeof body?.password === 'string' ? body.password : '';
    const address = req.socket.remoteAddress ?? 'unknown';
    const verdict =
      password.length > 0 && password.length <= 1024 ? await login!.check(address, password) : 'refused';
    if (verdict === 'busy') {
      sendJson(
        res,
        503,
        { code: 'INSTALLER_BUSY', message: 'too many logins at once: try again shortly' },
        { 'retry-after': '2' },
      );
      return;
    }
    if (verdict !== 'ok') {
      // Wrong and throttled get the same words: the answer does not say which one held.
      logger.warn(
        { code: 'INSTALLER_LOGIN', address, throttled: verdict === 'throttled' },
        'installer login refused',
      );
      sendJson(res, 401, {
        code: 'INSTALLER_LOGIN',
        message: 'wrong password (or too many tries: wait a little)',
      });
      return;
    }
    const session = sessions.create();
    logger.info({ address }, 'installer logged in');
    sendJson(
      res,
      200,
      { csrfToken: session.csrfToken },
      { 'set-cookie': sessionCookie(session.id, IDLE_MS / 1000) },
    );
  }

  async function onApi(req: IncomingMessage, res: ServerResponse, route: string, session: InstallerSession) {
    const post = req.method === 'POST';
    if (!post && route === 'session') {
      sendJson(res, 200, { csrfToken: session.csrfToken, configFile: options.configFile ?? null });
      return;
    }
    if (post && route === 'logout') {
      sessions.end(session.id);
      sendJson(res, 200, { loggedOut: true }, { 'set-cookie': sessionCookie('', 0) });
      return;
    }
    if (!post && route === 'config') {
      const file = requireConfigFile();
      const document = readEditableConfig(file);
      sendJson(res, 200, {
        file,
        document,
        boxKeyFingerprint: keyFingerprint(options.boxPublicKeyHex),
        bankKeyFingerprint: bankFingerprintOf(document),
        terminals: options.terminals(),
      });
      return;
    }
    if (post && (route === 'config/check' || route === 'config/save')) {
      const file = requireConfigFile();
      const body = (await readJsonBody(req, CONFIG_BODY_BYTES)) as { document?: unknown } | null;
      const document = body?.document;
      const check = checkConfigDocument(document, file);
      const bankKeyFingerprint = bankFingerprintOf(document);
      if (!check.ok) {
        sendJson(res, 422, { ok: false, issues: check.issues, bankKeyFingerprint });
        return;
      }
      if (route === 'config/check') {
        sendJson(res, 200, { ok: true, issues: [], bankKeyFingerprint });
        return;
      }
      const { backup } = saveConfigDocument(file, document);
      logger.info({ file, backup }, 'installer saved the box config; it applies at the next restart');
      sendJson(res, 200, {
        ok: true,
        issues: [],
        bankKeyFingerprint,
        saved: file,
        backup,
        restartNeeded: true,
        message: 'Saved. Restart the agent (systemctl restart sceneway) to apply it.',
      });
      return;
    }
    if (!post && route === 'enrolment-request') {
      const request = options.enrolmentRequest();
      res.writeHead(200, {
        'content-type': 'application/json; charset=utf-8',
        'content-disposition': `attachment; filename="enrolment-${request.enrolment.boxId}.json"`,
        'cache-control': 'no-store',
        ...SECURITY_HEADERS,
      });
      res.end(`${JSON.stringify(request, null, 2)}\n`);
      return;
    }
    const probe = /^terminals\/([^/]{1,64})\/probe$/.exec(route);
    if (post && probe) {
      sendJson(res, 200, await options.probe(decodeURIComponent(probe[1]!)));
      return;
    }
    if (post && route === 'checklist') {
      const base = options.checklist();
      // One heartbeat after another: tills on one line share it, and the probe takes the bus in turn.
      const probes = new Map<string, TerminalProbeResult>();
      for (const t of base.terminals) probes.set(t.id, await options.probe(t.id));
      sendJson(res, 200, { items: buildChecklist({ ...base, probes }) });
      return;
    }
    sendJson(res, 404, {
      code: 'ADMIN_NOT_FOUND',
      message: `no installer route ${req.method} /ui/api/${route}`,
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (!hostAllowed(req, options.adminHost)) {
      sendJson(res, 421, {
        code: 'INSTALLER_CSRF',
        message: 'unknown Host: open the installer by the box address',
      });
      return;
    }
    if (login === null) {
      files.page(
        res,
        404,
        'Installer UI is off',
        'Set admin.installer.passwordHash in the box config (make one with <code>sceneway broker hash-password</code>) and restart the agent.',
      );
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'POST') {
      sendJson(res, 405, { code: 'ADMIN_METHOD', message: 'the installer UI answers GET and POST only' });
      return;
    }
    if (!path.startsWith('/ui/api/')) {
      files.serve(res, path.replace(/^\/ui\/?/, ''));
      return;
    }
    const route = path.slice('/ui/api/'.length);
    const post = req.method === 'POST';
    try {
      if (post && !sameOrigin(req, 'http')) {
        throw new HttpRefusal(403, 'INSTALLER_CSRF', 'cross-origin request refused');
      }
      if (post && route === 'login') {
        await onLogin(req, res);
        return;
      }
      const session = sessions.get(cookieOf(req, SESSION_COOKIE));
      if (!session) throw new HttpRefusal(401, 'INSTALLER_SESSION', 'not logged in (or the session expired)');
      const token = req.headers['x-csrf-token'];
      if (post && !sessions.csrfMatches(session, typeof token === 'string' ? token : undefined)) {
        throw new HttpRefusal(403, 'INSTALLER_CSRF', 'missing or wrong X-CSRF-Token');
      }
      await onApi(req, res, route, session);
    } catch (err) {
      // A config file that no longer parses (edited by hand meanwhile) is the installer's to fix: say so.
      if (err instanceof GatewayError) {
        sendJson(res, 500, { code: err.code, message: err.message });
        return;
      }
      if (!(err instanceof HttpRefusal)) throw err;
      sendJson(res, err.status, { code: err.code, message: err.message });
    }
  }

  return { handle, close: async () => login?.close() };
}
