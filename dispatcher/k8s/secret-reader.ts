/** Reads a Secret's data from the apiserver at dispatch time (never from a cache, never logged). */
import type { KubeApi } from './kube-api.ts';
import type { SecretReader } from '../resolve/types.ts';

export function createSecretReader(api: Pick<KubeApi, 'getSecret'>): SecretReader {
  return {
    async read(namespace, name) {
      const secret = await api.getSecret(namespace, name);
      if (!secret) return undefined;
      const out: Record<string, Uint8Array> = {};
      for (const [k, v] of Object.entries(secret.data ?? {})) out[k] = Buffer.from(v, 'base64');
      return out;
    },
  };
}
