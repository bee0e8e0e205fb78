/**
 * HID Usage Tables 1.4, §10 Keyboard/Keypad page (0x07), US layout: the characters a keyboard-wedge
 * card or QR reader can type. [unshifted, shifted]. Readers emulate a US keyboard whatever the
 * host's layout, so this table, not the OS keymap, decides what a report means.
 */
const TABLE = new Map<number, readonly [string, string]>();

for (let i = 0; i < 26; i++) {
  const ch = String.fromCharCode(0x61 + i);
  TABLE.set(0x04 + i, [ch, ch.toUpperCase()]); // a..z
}
const DIGITS_SHIFTED = '!@#$%^&*()';
for (let i = 0; i < 10; i++) {
  const digit = String((i + 1) % 10); // 0x1e is '1' ... 0x26 is '9', 0x27 is '0'
  TABLE.set(0x1e + i, [digit, DIGITS_SHIFTED[i] ?? digit]);
}
const PUNCTUATION: Array<[number, string, string]> = [
  [0x2c, ' ', ' '],
  [0x2d, '-', '_'],
  [0x2e, '=', '+'],
  [0x2f, '[', '{'],
  [0x30, ']', '}'],
  [0x31, '\\', '|'],
  [0x33, ';', ':'],
  [0x34, "'", '"'],
  [0x35, '`', '~'],
  [0x36, ',', '<'],
  [0x37, '.', '>'],
  [0x38, '/', '?'],
];
for (const [usage, plain, shifted] of PUNCTUATION) TABLE.set(usage, [plain, shifted]);
// Keypad (Num Lock assumed on, as readers that use the keypad expect): 0x59 '1' ... 0x61 '9', 0x62 '0'.
for (let i = 0; i < 10; i++) {
  const digit = String((i + 1) % 10);
  TABLE.set(0x59 + i, [digit, digit]);
}
TABLE.set(0x54, ['/', '/']);
TABLE.set(0x55, ['*', '*']);
TABLE.set(0x56, ['-', '-']);
TABLE.set(0x57, ['+', '+']);
TABLE.set(0x63, ['.', '.']);

export const USAGE_ENTER = 0x28;
export const USAGE_KEYPAD_ENTER = 0x58;
/** Boot-protocol error codes (§10: ErrorRollOver, POSTFail, ErrorUndefined): not keys. */
export const USAGE_ERROR_MAX = 0x03;
/** Modifier byte bits of Left Shift and Right Shift. */
export const SHIFT_BITS = 0x02 | 0x20;

export function charOfUsage(usage: number, shift: boolean): string | undefined {
  const entry = TABLE.get(usage);
  return entry ? entry[shift ? 1 : 0] : undefined;
}

const REVERSE = new Map<string, { usage: number; shift: boolean }>();
for (const [usage, [plain, shifted]] of TABLE) {
  if (usage >= 0x54) continue; // type with the main block, as most readers do
  if (!REVERSE.has(plain)) REVERSE.set(plain, { usage, shift: false });
  if (!REVERSE.has(shifted)) REVERSE.set(shifted, { usage, shift: true });
}

/** The key for a character, for encoders (tests, simulators); undefined if a US keyboard cannot type it. */
export function usageOfChar(ch: string): { usage: number; shift: boolean } | undefined {
  return REVERSE.get(ch);
}
