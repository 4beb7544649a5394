/**
 * One real control plane per test run, started on first use (only suites that need it pay for
 * it) and stopped by the global teardown. CRDs are installed before any test sees it.
 */
import { startControlPlane, type ControlPlane } from '../../scripts/stack/control-plane.ts';
import { installCrds } from '../../scripts/stack/crds.ts';
import { kubectl, type KubectlResult } from '../../scripts/stack/kubectl.ts';

let shared: Promise<ControlPlane> | undefined;

export function testCluster(): Promise<ControlPlane> {
  shared ??= (async () => {
    const cp = await startControlPlane();
    try {
      await installCrds(cp.binaries.kubectl, cp.kubeconfig);
    } catch (err) {
      await cp.stop();
      throw err;
    }
    return cp;
  })();
  return shared;
}

export async function stopTestCluster(): Promise<void> {
  if (!shared) return;
  const cp = await shared.catch(() => undefined);
  shared = undefined;
  await cp?.stop();
}

/** kubectl against the test cluster. */
export async function k(args: string[], input?: string): Promise<KubectlResult> {
  const cp = await testCluster();
  return kubectl(cp.binaries.kubectl, cp.kubeconfig, args, { input });
}

let counter = 0;
/** A namespace of its own for a test, so tests never see each other's objects. */
export async function freshNamespace(prefix = 't'): Promise<string> {
  const name = `${prefix}-${process.pid}-${++counter}`;
  const r = await k(['create', 'namespace', name]);
  if (r.code !== 0) throw new Error(`creating namespace ${name}: ${r.stderr}`);
  return name;
}
