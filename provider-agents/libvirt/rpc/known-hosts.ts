/**
 * OpenSSH known_hosts matching, for SSH host-key verification: plain entries
 * (`host1,[host2]:2222 ssh-ed25519 AAAA…`) and hashed ones (`|1|salt|hmac`). Markers
 * (`@cert-authority`, `@revoked`) are not trusted: a line with one never matches.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The name a host is recorded under: `host`, or `[host]:port` off port 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function patternMatches(pattern: string, name: string): boolean {
  if (pattern.startsWith('|1|')) {
    const [, , salt, hash] = pattern.split('|');
    if (!salt || !hash) return false;
    const want = Buffer.from(hash, 'base64');
    const got = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest();
    return want.length === got.length && timingSafeEqual(want, got);
  }
  // Wildcards (* and ?) as OpenSSH allows them.
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(name);
}

/** True when `knownHosts` lists `key` (the server's raw public key blob) for `host:port`. */
export function hostKeyKnown(knownHosts: string, host: string, port: number, key: Buffer): boolean {
  const name = knownHostsName(host, port);
  for (const raw of knownHosts.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('@')) continue;
    const [hosts, , blob] = line.split(/\s+/);
    if (!hosts || !blob) continue;
    const patterns = hosts.split(',');
    if (patterns.some((p) => p.startsWith('!') && patternMatches(p.slice(1), name))) continue;
    if (!patterns.some((p) => !p.startsWith('!') && patternMatches(p, name))) continue;
    const known = Buffer.from(blob, 'base64');
    if (known.length === key.length && timingSafeEqual(known, key)) return true;
  }
  return false;
}
