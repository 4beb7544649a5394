/**
 * The original Go project's ten CRDs (../shared/compat/upstream-crds), our compatibility target:
 * where they live and what the generator needs from each (kind, apiVersion, the spec schema).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { JsonSchema } from './json-schema.ts';

/** The upstream CRD directory; the project reaches the shared material at ../shared from its root. */
export const UPSTREAM_CRD_DIR = new URL('../../../../shared/compat/upstream-crds/', import.meta.url).pathname;

/** What the corpus needs from one upstream CRD. */
export interface UpstreamKind {
  kind: string;
  plural: string;
  /** `group/version` of the served storage version. */
  apiVersion: string;
  /** The CRD's name (`plural.group`), for `kubectl wait crd/…`. */
  crdName: string;
  /** Absolute path of the CRD manifest. */
  file: string;
  /** openAPIV3Schema.properties.spec of that version. */
  spec: JsonSchema;
}

interface CrdManifest {
  metadata: { name: string };
  spec: {
    group: string;
    names: { kind: string; plural: string };
    versions: { name: string; storage?: boolean; schema: { openAPIV3Schema: JsonSchema } }[];
  };
}

/** Paths of the upstream CRD manifests, sorted so every run reads them in the same order. */
export function upstreamCrdFiles(dir = UPSTREAM_CRD_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => join(dir, f));
}

/** Every upstream kind, in file order. */
export function loadUpstreamKinds(dir = UPSTREAM_CRD_DIR): UpstreamKind[] {
  return upstreamCrdFiles(dir).map((file) => {
    const crd = parse(readFileSync(file, 'utf8')) as CrdManifest;
    const version = crd.spec.versions.find((v) => v.storage) ?? crd.spec.versions[0];
    const spec = version?.schema.openAPIV3Schema.properties?.spec;
    if (!version || !spec) throw new Error(`${file}: no version with a spec schema`);
    return {
      kind: crd.spec.names.kind,
      plural: crd.spec.names.plural,
      apiVersion: `${crd.spec.group}/${version.name}`,
      crdName: crd.metadata.name,
      file,
      spec,
    };
  });
}
