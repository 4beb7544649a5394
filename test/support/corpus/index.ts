/** Compatibility corpus: objects generated from the upstream CRD schemas, and the means to judge them. */
export { generateCorpus, type CorpusObject, type CorpusOptions } from './corpus.ts';
export { droppedFields } from './dropped-fields.ts';
export { dryRunApply, type Verdict } from './dry-run.ts';
export type { JsonSchema } from './json-schema.ts';
export { countLeaves, schemaLeafPaths, setLeafPaths } from './leaf-paths.ts';
export { schemaArbitrary, type SchemaArbitraryOptions } from './schema-arbitrary.ts';
export { DELIBERATE_REFUSALS, type ShapeRules } from './shape-rules.ts';
export { startUpstreamControlPlane } from './upstream-cluster.ts';
export { loadUpstreamKinds, type UpstreamKind } from './upstream-crds.ts';
