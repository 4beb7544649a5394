/**
 * How an agent reaches its hypervisor: the Provider's endpoint and the keys of its credential
 * Secret, which the Provider controller mounts as files into that provider's agents only
 * (one file per key, as Kubernetes mounts a Secret volume). Agents have no Kubernetes access.
 *
 *   AGENT_PROVIDER_ENDPOINT      spec.endpoint of the Provider (required for real hypervisors)
 *   AGENT_CREDENTIALS_DIR        where the Secret's keys are files (default /etc/virtrigaud/credentials)
 *   AGENT_INSECURE_SKIP_VERIFY   true: no TLS verification (spec.insecureSkipVerify; default false)
 *
 * Keys the drivers read (absent keys are simply absent): `username`, `password`, `token_id` and
 * `token_secret` (Proxmox API token), `ssh-privatekey` and `known_hosts` (libvirt over SSH),
 * `ca.crt`, `tls.crt`, `tls.key` (custom CA / client certificate), `thumbprint` (pinned
 * certificate SHA-256 fingerprint).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from './config.ts';

export const DEFAULT_CREDENTIALS_DIR = '/etc/virtrigaud/credentials';

/**
 * The credential Secret's values. Never printable: logging, JSON or string conversion shows only
 * the key names, so a secret cannot leak through a log line, an event or an error message.
 */
export class Credentials {
  readonly #values: ReadonlyMap<string, string>;

  constructor(values: Record<string, string> | ReadonlyMap<string, string>) {
    this.#values = values instanceof Map ? new Map(values) : new Map(Object.entries(values));
  }

  /** Reads every regular file of `dir` (Secret volume layout; `..data` links and dot files skipped). */
  static fromDirectory(dir: string): Credentials {
    const values = new Map<string, string>();
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Credentials(values);
      throw new ConfigError([`cannot read the credentials directory ${dir}: ${(err as Error).message}`]);
    }
    for (const name of names) {
      if (name.startsWith('.')) continue;
      const path = join(dir, name);
      if (!statSync(path).isFile()) continue;
      values.set(name, readFileSync(path, 'utf8').replace(/\r?\n$/, ''));
    }
    return new Credentials(values);
  }

  get(key: string): string | undefined {
    return this.#values.get(key);
  }

  has(key: string): boolean {
    return this.#values.has(key);
  }

  /** The value of `key`; a ConfigError naming the key (never a value) when it is missing. */
  require(key: string, why: string): string {
    const v = this.#values.get(key);
    if (v === undefined || v === '') throw new ConfigError([`credential key "${key}" is missing from the Provider's credential Secret (${why})`]);
    return v;
  }

  keys(): string[] {
    return [...this.#values.keys()].sort();
  }

  toJSON(): string {
    return `[credentials: ${this.keys().join(', ') || 'none'}]`;
  }

  toString(): string {
    return this.toJSON();
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toJSON();
  }
}

export interface ProviderConnection {
  endpoint: string;
  credentials: Credentials;
  insecureSkipVerify: boolean;
}

type Env = Record<string, string | undefined>;

/** The connection settings from the agent's environment; every problem listed at once. */
export function loadConnection(env: Env, opts: { endpointRequired: boolean }): ProviderConnection {
  const problems: string[] = [];
  const endpoint = env.AGENT_PROVIDER_ENDPOINT?.trim() ?? '';
  if (!endpoint && opts.endpointRequired) problems.push('AGENT_PROVIDER_ENDPOINT is required (the Provider\'s spec.endpoint)');
  const insecure = env.AGENT_INSECURE_SKIP_VERIFY?.trim() ?? '';
  if (insecure !== '' && insecure !== 'true' && insecure !== 'false') {
    problems.push(`AGENT_INSECURE_SKIP_VERIFY must be true or false, got ${JSON.stringify(insecure)}`);
  }
  if (problems.length) throw new ConfigError(problems);
  const dir = env.AGENT_CREDENTIALS_DIR?.trim() || DEFAULT_CREDENTIALS_DIR;
  return { endpoint, credentials: Credentials.fromDirectory(dir), insecureSkipVerify: insecure === 'true' };
}
