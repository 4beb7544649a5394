/**
 * The vSphere agent's settings: the Provider's endpoint (vCenter host or URL; `/sdk` added), the
 * credential Secret (`username`, `password`, and `ca.crt` or `thumbprint` for TLS) and
 * `VSPHERE_KEEPALIVE_S` (idle keepalive, default 300). Every problem listed at once.
 */
import { ConfigError } from '../core/config.ts';
import { loadConnection } from '../core/connection.ts';
import type { TlsSettings } from './soap/transport.ts';

export interface VSphereSettings {
  url: URL;
  username: string;
  password: string;
  tls: TlsSettings;
  keepaliveMs: number;
}

type Env = Record<string, string | undefined>;

/** `vc.example.com`, `https://vc.example.com`, `https://vc:8443/sdk` → the SDK URL. */
export function sdkUrl(endpoint: string): URL {
  const withScheme = /^[a-z]+:\/\//i.test(endpoint) ? endpoint : `https://${endpoint}`;
  const url = new URL(withScheme);
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ConfigError([`AGENT_PROVIDER_ENDPOINT must be an https URL or a host name, got ${JSON.stringify(endpoint)}`]);
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/sdk';
  return url;
}

export function loadVSphereSettings(env: Env): VSphereSettings {
  const conn = loadConnection(env, { endpointRequired: true });
  const problems: string[] = [];
  let url: URL | undefined;
  try {
    url = sdkUrl(conn.endpoint);
  } catch (err) {
    problems.push(err instanceof ConfigError ? err.problems.join('; ') : `AGENT_PROVIDER_ENDPOINT is not a URL: ${JSON.stringify(conn.endpoint)}`);
  }
  const username = conn.credentials.get('username') ?? '';
  const password = conn.credentials.get('password') ?? '';
  if (!username) problems.push('credential key "username" is missing from the Provider\'s credential Secret (vCenter login)');
  if (!password) problems.push('credential key "password" is missing from the Provider\'s credential Secret (vCenter login)');
  const keepRaw = env.VSPHERE_KEEPALIVE_S?.trim();
  const keep = keepRaw ? Number(keepRaw) : 300;
  if (!Number.isInteger(keep) || keep < 0 || keep > 3600) problems.push(`VSPHERE_KEEPALIVE_S must be a whole number of seconds from 0 to 3600, got ${JSON.stringify(keepRaw)}`);
  if (problems.length) throw new ConfigError(problems);
  return {
    url: url!,
    username,
    password,
    tls: { ca: conn.credentials.get('ca.crt'), thumbprint: conn.credentials.get('thumbprint'), insecureSkipVerify: conn.insecureSkipVerify },
    keepaliveMs: keep * 1000,
  };
}
