/**
 * A second real control plane serving the UPSTREAM CRDs, so the corpus is judged by upstream's
 * schema exactly as an apiserver applies it (defaulting, pruning, RE2 patterns, formats).
 */
import { startControlPlane, type ControlPlane } from '../../../scripts/stack/control-plane.ts';
import { kubectlOk } from '../../../scripts/stack/kubectl.ts';
import { loadUpstreamKinds } from './upstream-crds.ts';

/**
 * Starts etcd + kube-apiserver (no controller manager: nothing here needs one), installs every
 * upstream CRD and waits until all are Established. The caller stops it; a failed start stops itself.
 */
export async function startUpstreamControlPlane(log?: (line: string) => void): Promise<ControlPlane> {
  const cp = await startControlPlane({ controllerManager: false, log });
  try {
    const kinds = loadUpstreamKinds();
    const files = kinds.flatMap((k) => ['-f', k.file]);
    await kubectlOk(cp.binaries.kubectl, cp.kubeconfig, ['apply', '--server-side', '--field-manager=compat-corpus', ...files]);
    const crds = kinds.map((k) => `crd/${k.crdName}`);
    await kubectlOk(cp.binaries.kubectl, cp.kubeconfig, ['wait', '--for=condition=Established', '--timeout=60s', ...crds]);
    return cp;
  } catch (err) {
    await cp.stop();
    throw err;
  }
}
