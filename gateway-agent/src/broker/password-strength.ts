/**
 * The minimum a terminal password must meet before `sceneway broker hash-password` hashes it (issue
 * #11: 1-character terminal passwords were accepted). Bank standard 004 §5.1.1.5 asks for password
 * complexity; a terminal's password is typed once by an installer and stored in the device, so length
 * is cheap: at least 12 characters, not one repeated character or a keyboard or digit run, and none
 * of the words every guessing list starts with.
 */
export const MIN_PASSWORD_CHARS = 12;

const OBVIOUS = [
  'password',
  'passw0rd',
  'qwerty',
  'azerty',
  '123456',
  'abcdef',
  'letmein',
  'admin',
  'sceneway',
  'mqtt',
];
const RUNS = ['0123456789', 'abcdefghijklmnopqrstuvwxyz', 'qwertyuiop', 'asdfghjkl', 'zxcvbnm'];

/** Why the password is too weak, as a sentence for the installer; null when it is acceptable. */
export function passwordWeakness(password: string): string | null {
  const chars = [...password];
  if (chars.length < MIN_PASSWORD_CHARS) {
    return `the password has ${chars.length} characters; use at least ${MIN_PASSWORD_CHARS}`;
  }
  const lower = password.toLowerCase();
  if (new Set(chars).size <= 2) return 'the password repeats one or two characters; mix more';
  const word = OBVIOUS.find((w) => lower.includes(w));
  if (word !== undefined) return `the password contains "${word}", which every guessing list tries first`;
  const stripped = lower.replace(/[^a-z0-9]/g, '');
  const isRun = RUNS.some((run) => {
    const both = run + run;
    const back = [...both].reverse().join('');
    return stripped.length >= 8 && (both.includes(stripped) || back.includes(stripped));
  });
  if (isRun) return 'the password is a keyboard or alphabet run; choose something unpredictable';
  return null;
}
