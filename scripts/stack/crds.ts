/** Installs the generated CRDs and waits until the apiserver serves every kind. */
import { join } from 'node:path';
import { CRD_DIR } from '../../api/crd-files.ts';
import { kubectlOk } from './kubectl.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

export async function installCrds(kubectlBin: string, kubeconfig: string): Promise<void> {
  await kubectlOk(kubectlBin, kubeconfig, ['apply', '--server-side', '--field-manager=virtrigaud', '-k', join(ROOT, CRD_DIR)]);
  await kubectlOk(kubectlBin, kubeconfig, ['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', '!virtrigaud.io/none', '--all']);
}
