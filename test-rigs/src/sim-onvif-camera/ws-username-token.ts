import { createHash, timingSafeEqual } from 'node:crypto';
import { NS, PASSWORD_DIGEST_TYPE } from './namespaces.ts';
import { child, childText, type XmlElement } from './soap-xml.ts';

/**
 * WS-Security UsernameToken with PasswordDigest (UsernameToken Profile 1.0 §3.1; ONVIF Core §5.12):
 * Digest = Base64(SHA-1(nonce bytes + Created + password)). A token is refused when its Created time
 * is outside the window around the camera's clock, or when its nonce was already seen inside that
 * window (the profile's replay defence: a captured request cannot be played again).
 */
export type TokenVerdict =
  | { ok: true; username: string }
  | { ok: false; reason: 'missing' | 'unknown-user' | 'bad-digest' | 'stale' | 'replayed' | 'malformed' };

export interface UsernameTokenChecker {
  verify(header: XmlElement | null): TokenVerdict;
}

export function createUsernameTokenChecker(options: {
  users: () => ReadonlyMap<string, string>;
  now: () => number;
  /** How far Created may be from the camera's clock, either way. */
  windowMs: number;
}): UsernameTokenChecker {
  // Nonces seen, with when they expire from the replay cache (after the window they are stale anyway).
  const seen = new Map<string, number>();
  const forget = (now: number) => {
    for (const [nonce, until] of seen) if (until < now) seen.delete(nonce);
  };
  return {
    verify(header) {
      const security = child(header, NS.wsse, 'Security');
      const token = child(security, NS.wsse, 'UsernameToken');
      if (!token) return { ok: false, reason: 'missing' };
      const username = childText(token, NS.wsse, 'Username');
      const passwordEl = child(token, NS.wsse, 'Password');
      const nonceText = childText(token, NS.wsse, 'Nonce');
      const created = childText(token, NS.wsu, 'Created');
      if (!username || !passwordEl || !nonceText || !created) return { ok: false, reason: 'malformed' };
      if (passwordEl.attrs.Type !== undefined && passwordEl.attrs.Type !== PASSWORD_DIGEST_TYPE) {
        return { ok: false, reason: 'malformed' };
      }
      const password = options.users().get(username);
      if (password === undefined) return { ok: false, reason: 'unknown-user' };
      const now = options.now();
      const createdAt = Date.parse(created);
      if (!Number.isFinite(createdAt) || Math.abs(now - createdAt) > options.windowMs) {
        return { ok: false, reason: 'stale' };
      }
      const nonce = Buffer.from(nonceText, 'base64');
      const expected = createHash('sha1')
        .update(Buffer.concat([nonce, Buffer.from(created, 'utf8'), Buffer.from(password, 'utf8')]))
        .digest();
      const given = Buffer.from(passwordEl.text, 'base64');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
        return { ok: false, reason: 'bad-digest' };
      }
      forget(now);
      if (seen.has(nonceText)) return { ok: false, reason: 'replayed' };
      seen.set(nonceText, now + 2 * options.windowMs);
      return { ok: true, username };
    },
  };
}
