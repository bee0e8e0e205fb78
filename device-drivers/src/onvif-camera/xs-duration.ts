/**
 * xs:duration as ONVIF devices write UploadDelay and ExpectedDownTime (PT5S, PT1M30S, P0DT0H2M):
 * milliseconds, or null for anything else. Pure; the camera's text is never trusted to be sane, so the
 * caller bounds what it waits.
 */
export function xsDurationMs(text: string): number | null {
  const t = text.trim();
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(t);
  if (!m || t === 'P' || t.endsWith('T')) return null;
  const [, d, h, min, s] = m;
  return ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(min ?? 0)) * 60_000 + Number(s ?? 0) * 1000;
}
