/**
 * The installer API (gateway-agent/src/installer/installer-api.ts). Every POST carries the session's
 * CSRF token; the session cookie is HttpOnly, so this file never sees it.
 */
export interface ConfigIssue {
  path: string;
  message: string;
}

export interface TerminalState {
  id: string;
  driver: string;
  up: boolean;
  detail?: string;
  protocol?: number;
}

export type ConfigDocument = Record<string, unknown>;

export interface LoadedConfig {
  file: string;
  document: ConfigDocument;
  boxKeyFingerprint: string;
  bankKeyFingerprint: string | null;
  terminals: TerminalState[];
}

export interface CheckAnswer {
  ok: boolean;
  issues: ConfigIssue[];
  bankKeyFingerprint: string | null;
}

export interface SaveAnswer extends CheckAnswer {
  saved?: string;
  backup?: string | null;
  restartNeeded?: boolean;
  message?: string;
}

export type ProbeResult =
  | { outcome: 'answered'; roundTripMs: number; firmwareVersion?: string; detail?: string }
  | { outcome: 'failed'; code: string; detail: string };

export interface ChecklistItem {
  id: string;
  label: string;
  state: 'ok' | 'failed' | 'pending';
  detail: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrfToken = '';

async function call<T>(
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  accept: number[] = [],
): Promise<T> {
  const res = await fetch(`/ui/api/${path}`, {
    method,
    credentials: 'same-origin',
    headers: {
      ...(method === 'POST' ? { 'content-type': 'application/json', 'x-csrf-token': csrfToken } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const answer = (await res.json().catch(() => ({}))) as T & { code?: string; message?: string };
  if (!res.ok && !accept.includes(res.status)) {
    throw new ApiError(res.status, answer.code ?? 'HTTP', answer.message ?? `HTTP ${res.status}`);
  }
  return answer;
}

export async function resumeSession(): Promise<boolean> {
  try {
    csrfToken = (await call<{ csrfToken: string }>('GET', 'session')).csrfToken;
    return true;
  } catch {
    return false;
  }
}

export async function login(password: string): Promise<void> {
  csrfToken = (await call<{ csrfToken: string }>('POST', 'login', { password })).csrfToken;
}

export const logout = () => call<unknown>('POST', 'logout', {});
export const loadConfig = () => call<LoadedConfig>('GET', 'config');
export const checkConfig = (document: ConfigDocument) =>
  call<CheckAnswer>('POST', 'config/check', { document }, [422]);
export const saveConfig = (document: ConfigDocument) =>
  call<SaveAnswer>('POST', 'config/save', { document }, [422]);
export const probeTerminal = (id: string) =>
  call<ProbeResult>('POST', `terminals/${encodeURIComponent(id)}/probe`, {});
export const runChecklist = () => call<{ items: ChecklistItem[] }>('POST', 'checklist', {});
export const fetchEnrolmentRequest = async (): Promise<string> => {
  const res = await fetch('/ui/api/enrolment-request', { credentials: 'same-origin' });
  if (!res.ok) throw new ApiError(res.status, 'HTTP', `HTTP ${res.status}`);
  return res.text();
};
export const ENROLMENT_REQUEST_URL = '/ui/api/enrolment-request';
