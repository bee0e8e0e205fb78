import { ConfigError, type ConfigIssue, parseBoxConfig } from './load-config.ts';

/** TESTS ONLY. The smallest valid box config: every other field takes its default. */
export const MINIMAL_BOX_CONFIG = {
  version: 2,
  site: { id: 'canteen-north' },
  box: { id: 'box-0001' },
  bank: { url: 'https://bank.example/ingest', publicKeyHex: `04${'ab'.repeat(64)}` },
};

/** The issues a refused config is refused with; fails the test if the config is accepted. */
export function configIssuesOf(doc: unknown): ConfigIssue[] {
  try {
    parseBoxConfig(doc);
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected the config to be refused');
}
