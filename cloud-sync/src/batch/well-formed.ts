/**
 * Where a value holds a string that is not well-formed UTF-16 (a lone surrogate), for the places
 * that must refuse such input before it is signed or stored: JCS cannot encode it (RFC 8785
 * §3.2.2.2, I-JSON RFC 7493 §2.1), so a record holding one would be refused by every bank that
 * follows the RFC, and the box's sync would stall behind it forever. jcs.ts refuses it too, as the
 * last line; this finds it at the edge, where the terminal can still be told.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function hasLoneSurrogate(text: string): boolean {
  return LONE_SURROGATE.test(text);
}

/** The path (`a.b[2]`) of the first string or key with a lone surrogate, or null; `at` prefixes it. */
export function loneSurrogatePath(value: unknown, at = '', depth = 0): string | null {
  if (typeof value === 'string') return hasLoneSurrogate(value) ? at || '(value)' : null;
  if (value === null || typeof value !== 'object' || depth > 64) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = loneSurrogatePath(value[i], `${at}[${i}]`, depth + 1);
      if (found !== null) return found;
    }
    return null;
  }
  for (const [key, member] of Object.entries(value)) {
    // The key itself is not echoed: it is the bad text (and possibly a terminal's personal data).
    if (hasLoneSurrogate(key)) return `${at || '(value)'} (a member name)`;
    const found = loneSurrogatePath(member, at ? `${at}.${key}` : key, depth + 1);
    if (found !== null) return found;
  }
  return null;
}
