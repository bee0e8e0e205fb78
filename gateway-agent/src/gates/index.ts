export { type FaceData, type FaceDataStore, faceDataKey, openFaceDataStore } from './face-data-store.ts';
export { type GatesConfig, type GatesConfigInput, gatesConfigSchema } from './gates-config.ts';
export { createGatesRules, type GatesRules, personDigestOf } from './gates-rules.ts';
export { gatesScenario } from './gates-scenario.ts';
