/** The dispatcher's Deployment runs node as the local stack and the benchmark do. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { DISPATCHER_NODE_OPTIONS } from '../../scripts/stack/spine.ts';

describe('dispatcher Deployment', () => {
  it('gives the dispatcher the node flags its memory figures were measured with', () => {
    const deployment = parse(readFileSync(join(import.meta.dirname, '../../manifests/dispatcher/deployment.yaml'), 'utf8')) as {
      spec: { template: { spec: { containers: Array<{ name: string; env: Array<{ name: string; value?: string }> }> } } };
    };
    const container = deployment.spec.template.spec.containers.find((c) => c.name === 'dispatcher')!;
    assert.equal(container.env.find((e) => e.name === 'NODE_OPTIONS')?.value, DISPATCHER_NODE_OPTIONS);
  });
});
