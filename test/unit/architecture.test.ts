/** The tree is the architecture: dependencies between top-level parts point one way only. */
import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, dirname } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;

/**
 * Which of our top-level folders each part may import (besides itself). `kube/` is the
 * Kubernetes plumbing (informers, backoff) of the processes that talk to the apiserver; agents
 * never do, so it is not theirs to import.
 */
const ALLOWED: Record<string, string[]> = {
  api: [],
  proto: [],
  kube: [],
  webhook: ['api', 'kube'],
  dispatcher: ['api', 'proto', 'kube'],
  'provider-agents': ['proto'],
  // The one command of the image: it starts every process and may use any part.
  cli: ['api', 'proto', 'kube', 'webhook', 'dispatcher', 'provider-agents', 'scripts'],
};
/** Packages a part must never import. */
const FORBIDDEN_PACKAGES: Record<string, string[]> = {
  'provider-agents': ['@kubernetes/client-node'],
  proto: ['@kubernetes/client-node'],
  api: ['@kubernetes/client-node', 'express'],
};

function tsFiles(dir: string): string[] {
  let out: string[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(tsFiles(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)]
    .map((m) => (m[1] ?? m[2])!);
}

export function violations(root: string): string[] {
  const found: string[] = [];
  for (const [part, allowed] of Object.entries(ALLOWED)) {
    for (const file of tsFiles(join(root, part))) {
      for (const spec of importsOf(file)) {
        const where = relative(root, file);
        if (spec.startsWith('.')) {
          const target = relative(root, resolve(dirname(file), spec)).split('/')[0]!;
          if (target !== part && !allowed.includes(target)) found.push(`${where} imports ${spec} (${part} may not depend on ${target})`);
        } else if ((FORBIDDEN_PACKAGES[part] ?? []).some((p) => spec === p || spec.startsWith(`${p}/`))) {
          found.push(`${where} imports ${spec}`);
        }
      }
    }
  }
  return found;
}

describe('architecture', () => {
  it('api, proto and kube import nothing of ours; webhook only api and kube; dispatcher only api, proto and kube; agents only proto', () => {
    assert.deepEqual(violations(ROOT), []);
  });

  it('reports an agent that imports the dispatcher, kube or client-node', () => {
    const tree = mkdtempSync(join(tmpdir(), 'arch-'));
    try {
      mkdirSync(join(tree, 'provider-agents/libvirt'), { recursive: true });
      writeFileSync(join(tree, 'provider-agents/libvirt/create.ts'),
        "import { x } from '../../dispatcher/queue.ts';\nimport * as k8s from '@kubernetes/client-node';\n"
        + "import { Backoff } from '../../kube/index.ts';\n");
      assert.deepEqual(violations(tree), [
        'provider-agents/libvirt/create.ts imports ../../dispatcher/queue.ts (provider-agents may not depend on dispatcher)',
        'provider-agents/libvirt/create.ts imports @kubernetes/client-node',
        'provider-agents/libvirt/create.ts imports ../../kube/index.ts (provider-agents may not depend on kube)',
      ]);
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  });

  it('reports kube importing a process that uses it', () => {
    const tree = mkdtempSync(join(tmpdir(), 'arch-'));
    try {
      mkdirSync(join(tree, 'kube'), { recursive: true });
      writeFileSync(join(tree, 'kube/informer.ts'), "import type { Logger } from '../webhook/log.ts';\n");
      assert.deepEqual(violations(tree), ['kube/informer.ts imports ../webhook/log.ts (kube may not depend on webhook)']);
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  });
});
