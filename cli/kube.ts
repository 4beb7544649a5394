/** The cluster a CLI command talks to: --kubeconfig, else KUBECONFIG, else the local stack's, else the default (in-cluster or ~/.kube/config). */
import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { readStackState, stackRunning } from '../scripts/stack/state.ts';

export function loadKubeConfig(flag?: string): KubeConfig {
  const kc = new KubeConfig();
  const stack = readStackState();
  const file = flag ?? process.env.KUBECONFIG ?? (stack && stackRunning(stack) && existsSync(stack.kubeconfig) ? stack.kubeconfig : undefined);
  if (file) kc.loadFromFile(file);
  else kc.loadFromDefault();
  return kc;
}

/** The namespace of the kubeconfig's current context, or `default`. */
export function contextNamespace(kc: KubeConfig): string {
  return kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
}

/** A client-node error as one line: the apiserver's message, never a stack. */
export function kubeErrorMessage(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  let body: { message?: string } | undefined;
  try {
    body = typeof e.body === 'string' ? (JSON.parse(e.body) as { message?: string }) : (e.body as { message?: string } | undefined);
  } catch {
    body = undefined;
  }
  return body?.message ?? e.message ?? String(err);
}

const TRANSIENT = new Set([429, 500, 503, 504]);

/** Retries a read the apiserver answered with a transient error (busy, storage initializing). */
export async function withRetry<T>(read: () => Promise<T>, attempts = 6): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await read();
    } catch (err) {
      if (i >= attempts || !TRANSIENT.has((err as { code?: number }).code ?? 0)) throw err;
      await new Promise((r) => setTimeout(r, 100 * 2 ** i));
    }
  }
}
