// @sceneway/test-rigs: the public API. Other packages import only from here or from a named entry in
// package.json "exports"; biome refuses deep imports (docs/decisions.md D20).

export { CHROMIUM_PATH, launchChromium, saveScreenshot, TEST_RESULTS_DIR } from './browser/chromium.ts';
export { openPtyPair, type PtyPair } from './pty/pty-pair.ts';
