/** Installs the generated CRDs and waits until the apiserver serves every kind. */
import { join } from 'node:path';
import { CRD_DIR } from '../../api/crd-files.ts';
import { GROUP } from '../../api/crd.ts';
import { ALL_CRDS } from '../../api/kinds/index.ts';
import { kubectlOk } from './kubectl.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

export async function installCrds(kubectlBin: string, kubeconfig: string): Promise<void> {
  await kubectlOk(kubectlBin, kubeconfig, ['apply', '--server-side', '--field-manager=virtrigaud', '-k', join(ROOT, CRD_DIR)]);
  const names = ALL_CRDS.map((def) => `crd/${def.plural}.${GROUP}`);
  await kubectlOk(kubectlBin, kubeconfig, ['wait', '--for=condition=Established', '--timeout=60s', ...names]);
}
