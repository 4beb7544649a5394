/**
 * `virtrigaud nats-bootstrap`: the bus's JWT trust, once per installation, in two Secrets
 * (manifests/nats/bootstrap.yaml runs it as a Job). Crash-safe and idempotent: the account Secret
 * is written first and holds everything, so a run that died between the two only restores the
 * server's Secret from it; nothing is ever generated twice.
 */
import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { bootstrapNatsAuth, type NatsAuthBootstrap } from '../dispatcher/providers/nats-accounts.ts';
import { kubeErrorMessage } from './kube.ts';
import type { Output } from './vm.ts';

export const AUTH_SECRET = 'virtrigaud-nats-auth';
export const ACCOUNT_SECRET = 'virtrigaud-nats-account';

const status = (err: unknown) => (err as { code?: number }).code;

async function read(api: CoreV1Api, namespace: string, name: string): Promise<V1Secret | undefined> {
  try {
    return await api.readNamespacedSecret({ namespace, name });
  } catch (err) {
    if (status(err) === 404) return undefined;
    throw err;
  }
}

/** Creates the Secret; another run that created it first wins (409 → its copy is read back). */
async function create(api: CoreV1Api, namespace: string, name: string, data: Record<string, string>): Promise<V1Secret> {
  const body: V1Secret = {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/part-of': 'virtrigaud', 'app.kubernetes.io/component': 'bus' } },
    stringData: data,
  };
  try {
    return await api.createNamespacedSecret({ namespace, body });
  } catch (err) {
    if (status(err) !== 409) throw err;
    const existing = await read(api, namespace, name);
    if (!existing) throw err;
    return existing;
  }
}

function accountData(b: NatsAuthBootstrap): Record<string, string> {
  return {
    account: b.accountPublicKey,
    'signing-key.nk': b.signingKeySeed,
    'dispatcher.creds': b.dispatcherCreds,
    'system.creds': b.systemCreds,
    'auth.conf': b.serverConfig,
  };
}

export async function natsBootstrap(kc: KubeConfig, namespace: string, io: Output): Promise<number> {
  const api = kc.makeApiClient(CoreV1Api);
  try {
    let account = await read(api, namespace, ACCOUNT_SECRET);
    if (!account) {
      account = await create(api, namespace, ACCOUNT_SECRET, accountData(await bootstrapNatsAuth()));
      io.out(`created Secret ${namespace}/${ACCOUNT_SECRET} (NATS account, signing key, dispatcher credentials)\n`);
    } else {
      io.out(`Secret ${namespace}/${ACCOUNT_SECRET} exists; keeping it\n`);
    }
    const authConf = account.data?.['auth.conf'] ? Buffer.from(account.data['auth.conf'], 'base64').toString('utf8') : account.stringData?.['auth.conf'];
    if (!authConf) {
      io.err(`Secret ${namespace}/${ACCOUNT_SECRET} has no auth.conf (made by hand?): add the nats-server trust configuration under that key, or delete the Secret to start over\n`);
      return 1;
    }
    if (await read(api, namespace, AUTH_SECRET)) {
      io.out(`Secret ${namespace}/${AUTH_SECRET} exists; keeping it\n`);
    } else {
      await create(api, namespace, AUTH_SECRET, { 'auth.conf': authConf });
      io.out(`created Secret ${namespace}/${AUTH_SECRET} (nats-server trust: operator, accounts)\n`);
    }
    return 0;
  } catch (err) {
    io.err(`nats-bootstrap in namespace ${namespace} failed: ${kubeErrorMessage(err)}\n`);
    return 1;
  }
}

/** A new set on stdout, for a NATS the user runs. */
export async function printNatsBootstrap(io: Output): Promise<number> {
  const b = await bootstrapNatsAuth();
  io.err('# The following holds secrets (the signing key and user seeds): store it safely.\n');
  io.out(`# --- nats-server configuration (include it in your server's config) ---\n${b.serverConfig}\n`);
  io.out(`# --- account public key (NATS_ACCOUNT) ---\n${b.accountPublicKey}\n\n`);
  io.out(`# --- account signing key seed (signing-key.nk) ---\n${b.signingKeySeed}\n\n`);
  io.out(`# --- dispatcher.creds ---\n${b.dispatcherCreds}\n`);
  return 0;
}
