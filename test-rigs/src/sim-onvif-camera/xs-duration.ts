/**
 * xs:duration (PnDTnHnMnS, the form ONVIF clients send: PT60S, PT2M, PT1M30S) or an absolute
 * xs:dateTime, as WS-BaseNotification allows for termination times. Returns milliseconds from `now`,
 * or null when the text is neither.
 */
export function durationOrInstantMs(text: string, now: number): number | null {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text.trim());
  if (m && text.trim() !== 'P' && text.trim() !== 'PT') {
    const [, d, h, min, s] = m;
    return ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60_000 + Number(s ?? 0) * 1000;
  }
  const at = Date.parse(text);
  return Number.isFinite(at) && /^\d{4}-\d{2}-\d{2}T/.test(text.trim()) ? at - now : null;
}

/** Milliseconds as an xs:duration with whole seconds (PT5S). */
export function toDuration(ms: number): string {
  return `PT${Math.max(0, Math.round(ms / 1000))}S`;
}
