/** Where the pinned control-plane binaries live once scripts/build-binaries.sh has built them. */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface Binaries {
  etcd: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubectl: string;
  natsServer: string;
}

/** The pinned versions of scripts/versions.env. */
export function pinnedVersions(): Record<string, string> {
  const text = readFileSync(join(ROOT, 'scripts/versions.env'), 'utf8');
  const versions: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(\S+)/.exec(line);
    if (m) versions[m[1]!] = m[2]!;
  }
  return versions;
}

export function cacheDir(): string {
  return process.env.VIRTRIGAUD_CACHE ?? join(homedir(), '.cache/virtrigaud');
}

/** Resolves the binaries, failing with the command that builds them when one is missing. */
export function findBinaries(): Binaries {
  const v = pinnedVersions();
  const k8s = join(cacheDir(), 'bin', `kubernetes-${v.KUBERNETES_VERSION}`);
  const etcd = join(cacheDir(), 'bin', `etcd-${v.ETCD_VERSION}`);
  const nats = join(cacheDir(), 'bin', `nats-server-${v.NATS_SERVER_VERSION}`);
  const bins: Binaries = {
    etcd: join(etcd, 'etcd'),
    kubeApiserver: join(k8s, 'kube-apiserver'),
    kubeControllerManager: join(k8s, 'kube-controller-manager'),
    kubectl: join(k8s, 'kubectl'),
    natsServer: join(nats, 'nats-server'),
  };
  const missing = Object.values(bins).filter((p) => !existsSync(p));
  if (missing.length) {
    throw new Error(`control-plane binaries missing (${missing.join(', ')}); build them with: bash scripts/build-binaries.sh`);
  }
  return bins;
}

/** vcsim, govmomi's vSphere simulator (the vSphere agent's tests), failing with the command that builds it. */
export function findVcsim(): string {
  const bin = join(cacheDir(), 'bin', `vcsim-${pinnedVersions().GOVMOMI_VERSION}`, 'vcsim');
  if (!existsSync(bin)) throw new Error(`vcsim missing (${bin}); build it with: bash scripts/build-binaries.sh`);
  return bin;
}
