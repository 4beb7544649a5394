/** The generated CRD files of manifests/crds: file name → YAML text. */
import { stringify } from 'yaml';
import { GROUP, renderCrd } from './crd.ts';
import { ALL_CRDS } from './kinds/index.ts';

export const CRD_DIR = 'manifests/crds';
const HEADER = '# Generated from api/kinds by `npm run gen:crds`. Do not edit by hand.\n';

export function crdManifestFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const def of ALL_CRDS) {
    // YAML 1.1 quoting: the apiserver's YAML reader takes a bare On/Off/yes as a boolean.
    const text = stringify(renderCrd(def), { version: '1.1', sortMapEntries: true, lineWidth: 0 });
    files.set(`${GROUP}_${def.plural}.yaml`, HEADER + text);
  }
  const names = [...files.keys()];
  files.set(
    'kustomization.yaml',
    HEADER + stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: names }),
  );
  return files;
}
