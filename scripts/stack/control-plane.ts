/**
 * A real local Kubernetes control plane: etcd + kube-apiserver (+ kube-controller-manager for
 * garbage collection and namespace deletion), on loopback with free ports, a fresh CA and an
 * admin kubeconfig. Used by the tests (per run) and by `up` (detached, in .local/stack).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBinaries, type Binaries } from './binaries.ts';
import { httpsGet, writeKubeconfig, type ClientIdentity } from './kubeconfig.ts';
import { createPki, type Pki } from './pki.ts';
import { freePort, startOnFreePorts, startProcess, waitReady, type ManagedProcess } from './processes.ts';

export interface ControlPlaneOptions {
  /** State directory; a fresh temporary one (removed on stop) when omitted. */
  dir?: string;
  /** Start kube-controller-manager too (default true). */
  controllerManager?: boolean;
  /** Processes outlive this Node process (for `up`). */
  detached?: boolean;
  /** Reports progress lines (start-up steps and their durations). */
  log?: (line: string) => void;
  /** Picks a port to try (tests inject a busy one to exercise the retry). */
  pickPort?: () => Promise<number>;
}

export interface ControlPlane {
  dir: string;
  server: string;
  kubeconfig: string;
  identity: ClientIdentity;
  pki: Pki;
  binaries: Binaries;
  processes: ManagedProcess[];
  /** Milliseconds from the call to a ready apiserver. */
  startupMs: number;
  stop: () => Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;

function etcdHealthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${url}/health`, { timeout: 1000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('"health":"true"')));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const t0 = Date.now();
  const log = opts.log ?? (() => {});
  const binaries = findBinaries();
  const temporary = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'virtrigaud-cp-'));
  const pkiDir = join(dir, 'pki');
  const logs = join(dir, 'logs');
  mkdirSync(pkiDir, { recursive: true });
  mkdirSync(logs, { recursive: true });
  const processes: ManagedProcess[] = [];
  const stop = async () => {
    for (const p of [...processes].reverse()) await p.stop();
    if (temporary) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const pki = await createPki(pkiDir);
    log(`certificates ready (${Date.now() - t0} ms)`);

    const pickPort = opts.pickPort ?? freePort;
    const etcd = await startOnFreePorts(
      pickPort,
      ([client, peer]) =>
        startProcess({
          name: 'etcd',
          command: binaries.etcd,
          logFile: join(logs, 'etcd.log'),
          detached: opts.detached,
          args: [
            `--data-dir=${join(dir, 'etcd')}`,
            `--listen-client-urls=http://127.0.0.1:${client}`,
            `--advertise-client-urls=http://127.0.0.1:${client}`,
            `--listen-peer-urls=http://127.0.0.1:${peer}`,
            `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
            `--initial-cluster=default=http://127.0.0.1:${peer}`,
            // A throwaway single-member store: skipping fsync makes writes ~10x faster.
            '--unsafe-no-fsync',
            '--log-level=warn',
          ],
        }),
      2,
      (proc, [client]) => waitReady(proc, () => etcdHealthy(`http://127.0.0.1:${client}`), READY_TIMEOUT_MS),
    );
    processes.push(etcd.proc);
    const etcdUrl = `http://127.0.0.1:${etcd.ports[0]}`;
    log(`etcd ready at ${etcdUrl} (${Date.now() - t0} ms)`);

    let identity!: ClientIdentity;
    const apiserver = await startOnFreePorts(
      pickPort,
      ([port]) => {
        identity = { server: `https://127.0.0.1:${port}`, caCert: pki.caCert, clientCert: pki.adminCert, clientKey: pki.adminKey };
        return startProcess({
          name: 'kube-apiserver',
          command: binaries.kubeApiserver,
          logFile: join(logs, 'kube-apiserver.log'),
          detached: opts.detached,
          args: [
            `--etcd-servers=${etcdUrl}`,
            '--bind-address=127.0.0.1',
            '--advertise-address=127.0.0.1',
            // No kubernetes Service endpoints to maintain for a loopback-only apiserver.
            '--endpoint-reconciler-type=none',
            `--secure-port=${port}`,
            `--cert-dir=${pkiDir}`,
            `--tls-cert-file=${pki.servingCert}`,
            `--tls-private-key-file=${pki.servingKey}`,
            `--client-ca-file=${pki.caCert}`,
            `--service-account-key-file=${pki.serviceAccountPub}`,
            `--service-account-signing-key-file=${pki.serviceAccountKey}`,
            '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
            '--service-cluster-ip-range=10.0.0.0/24',
            '--authorization-mode=RBAC',
            '--enable-admission-plugins=NamespaceLifecycle,MutatingAdmissionWebhook,ValidatingAdmissionWebhook,ValidatingAdmissionPolicy',
            '--allow-privileged=true',
            '--v=1',
          ],
        });
      },
      1,
      (proc) => waitReady(proc, async () => (await httpsGet(identity, '/readyz')).status === 200, READY_TIMEOUT_MS),
    );
    processes.push(apiserver.proc);
    const startupMs = Date.now() - t0;
    log(`kube-apiserver ready at ${identity.server} (${startupMs} ms)`);

    const kubeconfig = join(dir, 'kubeconfig');
    writeKubeconfig(kubeconfig, identity);

    if (opts.controllerManager ?? true) {
      const kcm = startProcess({
        name: 'kube-controller-manager',
        command: binaries.kubeControllerManager,
        logFile: join(logs, 'kube-controller-manager.log'),
        detached: opts.detached,
        args: [
          `--kubeconfig=${kubeconfig}`,
          `--authentication-kubeconfig=${kubeconfig}`,
          `--authorization-kubeconfig=${kubeconfig}`,
          // Garbage collection and namespace deletion as in a cluster; Deployments for the
          // agents a Provider gets. Nothing that needs nodes.
          '--controllers=garbage-collector-controller,namespace-controller,deployment-controller,replicaset-controller,serviceaccount-controller',
          '--leader-elect=false',
          '--secure-port=0',
          '--v=1',
        ],
      });
      processes.push(kcm);
    }
    return { dir, server: identity.server, kubeconfig, identity, pki, binaries, processes, startupMs, stop };
  } catch (err) {
    // A half-started control plane is torn down, never left running.
    await stop();
    throw err;
  }
}
