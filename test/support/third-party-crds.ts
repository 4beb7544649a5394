/** Installs the real cert-manager, KEDA and Prometheus Operator CRDs (scripts/fetch-crds.sh) into the test cluster, once. */
import { thirdPartyCrdFiles } from '../../scripts/stack/third-party-crds.ts';
import { k } from './cluster.ts';

let installed: Promise<void> | undefined;

export function installThirdPartyCrds(): Promise<void> {
  installed ??= (async () => {
    const files = thirdPartyCrdFiles();
    const args = ['apply', '--server-side', '--force-conflicts', '--field-manager=virtrigaud-tests'];
    for (const f of files) args.push('-f', f);
    const r = await k(args);
    if (r.code !== 0) throw new Error(`installing third-party CRDs: ${r.stderr}`);
    const w = await k(['wait', '--for=condition=Established', '--timeout=60s',
      'crd/certificates.cert-manager.io', 'crd/issuers.cert-manager.io', 'crd/scaledobjects.keda.sh',
      'crd/triggerauthentications.keda.sh', 'crd/servicemonitors.monitoring.coreos.com', 'crd/podmonitors.monitoring.coreos.com']);
    if (w.code !== 0) throw new Error(`third-party CRDs not established: ${w.stderr}`);
  })();
  return installed;
}
