// @sceneway/cloud-sync/testing: test support shared with other packages' tests and rigs.
// Production code never imports it (docs/decisions.md D20).

export {
  chainedBatches,
  newTestBox,
  postBatch,
  type TestBatch,
  type TestBox,
} from './bank/test-support/box-kit.ts';
export { makeTestPki } from './bank/test-support/pki.ts';
export { dropTestPgSchema, requireTestPg, TEST_PG_URL, testPgSchema } from './bank/test-support/test-pg.ts';
