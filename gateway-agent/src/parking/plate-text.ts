/**
 * Plates as the rules compare them: upper case, without the spaces, dots and middle dots that cameras
 * and people put between the region and the number ("京A·12345" is "京A12345").
 */
export function normalisePlate(plate: string): string {
  return plate
    .normalize('NFC')
    .toUpperCase()
    .replace(/[\s.·•-]/g, '');
}

/** True when the two plates have the same length and differ in exactly one character (a misread). */
export function oneCharacterApart(a: string, b: string): boolean {
  const x = [...a];
  const y = [...b];
  if (x.length !== y.length) return false;
  let differences = 0;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i] && ++differences > 1) return false;
  return differences === 1;
}
