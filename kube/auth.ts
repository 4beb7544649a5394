/**
 * Where the apiserver is and how to authenticate to it, without loading client-node.
 *
 * Why: importing @kubernetes/client-node costs ~85 MiB of RSS (every generated model and API class
 * is loaded through its KubeConfig), most of a dispatcher's budget. The common cases — in-cluster
 * service account, a kubeconfig with certificates, a token or a token file — are read here
 * directly; anything else (exec plugins, auth providers, proxy-url, a KUBECONFIG list to merge) is
 * handed to client-node's KubeConfig, imported only then.
 *
 * Search order as client-go and client-node: the given path, else $KUBECONFIG, else ~/.kube/config,
 * else the in-cluster service account.
 */
import { existsSync, readFileSync } from 'node:fs';
import type https from 'node:https';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';

/** TLS and credentials for one request; never modified by the caller. */
export type AuthOptions = Pick<https.RequestOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername' | 'headers' | 'auth' | 'agent'>;

export interface KubeAuth {
  /** The apiserver's URL (scheme, host, port and any path prefix). */
  readonly server: URL;
  /** Requests go through a proxy agent that `options()` supplies. */
  readonly proxied: boolean;
  /** Fresh credentials (a rotated token file is read again; an exec plugin runs when its token expires). */
  options(): Promise<AuthOptions>;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** client-node's KubeConfig as a KubeAuth (tests and the CLI, which load it anyway). */
export function kubeAuthFromConfig(kc: KubeConfig): KubeAuth {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('the kubeconfig has no current cluster: set current-context to a context whose cluster exists');
  return {
    server: new URL(cluster.server),
    proxied: Boolean(cluster.proxyUrl),
    async options() {
      const options: https.RequestOptions = {};
      await kc.applyToHTTPSOptions(options);
      // client-node makes an agent per call; only a proxied cluster needs it.
      if (!cluster.proxyUrl) delete options.agent;
      return options;
    },
  };
}

export function isKubeAuth(x: KubeConfig | KubeAuth): x is KubeAuth {
  return typeof (x as KubeAuth).options === 'function' && (x as KubeAuth).server instanceof URL;
}

/** A KubeAuth from either form (the processes load a KubeAuth; tests often hold a KubeConfig). */
export function asKubeAuth(x: KubeConfig | KubeAuth): KubeAuth {
  return isKubeAuth(x) ? x : kubeAuthFromConfig(x);
}

interface NamedEntry<T> { name: string; [key: string]: unknown; cluster?: T; user?: T; context?: T }
interface RawCluster {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
  'proxy-url'?: string;
}
interface RawUser {
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  token?: string;
  tokenFile?: string;
  username?: string;
  password?: string;
  exec?: unknown;
  'auth-provider'?: unknown;
  as?: string;
  impersonate?: string;
}
interface RawConfig {
  clusters?: Array<NamedEntry<RawCluster>>;
  users?: Array<NamedEntry<RawUser>>;
  contexts?: Array<NamedEntry<{ cluster?: string; user?: string }>>;
  'current-context'?: string;
}

/** Loads credentials as client-go would find them; see the file comment for the order. */
export async function loadKubeAuth(path?: string): Promise<KubeAuth> {
  const env = process.env.KUBECONFIG;
  const file = path ?? (env ? env : existsSync(join(homedir(), '.kube', 'config')) ? join(homedir(), '.kube', 'config') : undefined);
  if (file === undefined) {
    if (process.env.KUBERNETES_SERVICE_HOST) return inClusterAuth();
    throw new Error('no kubeconfig: set KUBECONFIG, create ~/.kube/config, or run in a pod with a service account');
  }
  // Several files to merge: client-node knows the merge rules.
  if (path === undefined && file.includes(delimiter)) return clientNodeAuth();
  let raw: RawConfig;
  try {
    raw = parseYaml(readFileSync(file, 'utf8')) as RawConfig;
  } catch (err) {
    throw new Error(`kubeconfig ${file} could not be read: ${(err as Error).message}`);
  }
  return fileAuth(raw, file) ?? clientNodeAuth(file);
}

/** The pod's service account (KUBERNETES_SERVICE_HOST/PORT, the mounted CA and projected token). */
export function inClusterAuth(dir = SERVICE_ACCOUNT_DIR): KubeAuth {
  const host = process.env.KUBERNETES_SERVICE_HOST!;
  const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
  const server = new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`);
  const ca = readFileSync(join(dir, 'ca.crt'));
  const tokenFile = join(dir, 'token');
  return {
    server,
    proxied: false,
    // The kubelet rotates the projected token; it is read again at every refresh.
    options: async () => ({ ca, headers: { authorization: `Bearer ${readFileSync(tokenFile, 'utf8').trim()}` } }),
  };
}

/** The kubeconfig's current context, or undefined when it needs client-node (exec, auth-provider, proxy). */
function fileAuth(raw: RawConfig, file: string): KubeAuth | undefined {
  const contextName = raw['current-context'];
  const context = raw.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) throw new Error(`kubeconfig ${file}: current-context "${contextName ?? ''}" is not among its contexts`);
  const cluster = raw.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster?.server) throw new Error(`kubeconfig ${file}: context "${contextName}" names cluster "${context.cluster ?? ''}", which has no server`);
  const user: RawUser = raw.users?.find((u) => u.name === context.user)?.user ?? {};
  if (cluster['proxy-url'] || user.exec || user['auth-provider'] || user.as || user.impersonate) return undefined;

  const base = dirname(file);
  const fromFile = (p: string) => readFileSync(isAbsolute(p) ? p : join(base, p));
  const material = (data: string | undefined, path: string | undefined) =>
    data ? Buffer.from(data, 'base64') : path ? fromFile(path) : undefined;
  const ca = material(cluster['certificate-authority-data'], cluster['certificate-authority']);
  const cert = material(user['client-certificate-data'], user['client-certificate']);
  const key = material(user['client-key-data'], user['client-key']);
  const insecure = cluster['insecure-skip-tls-verify'] === true;
  const fixed: AuthOptions = {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(insecure ? { rejectUnauthorized: false } : {}),
    ...(cluster['tls-server-name'] ? { servername: cluster['tls-server-name'] } : {}),
    ...(user.username ? { auth: `${user.username}:${user.password ?? ''}` } : {}),
  };
  const tokenFile = user.tokenFile ? (isAbsolute(user.tokenFile) ? user.tokenFile : join(base, user.tokenFile)) : undefined;
  return {
    server: new URL(cluster.server),
    proxied: false,
    options: async () => {
      const token = user.token ?? (tokenFile ? readFileSync(tokenFile, 'utf8').trim() : undefined);
      return token ? { ...fixed, headers: { authorization: `Bearer ${token}` } } : fixed;
    },
  };
}

/** client-node's KubeConfig for what is not read here; its import happens only on this path. */
async function clientNodeAuth(file?: string): Promise<KubeAuth> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  return kubeAuthFromConfig(kc);
}
