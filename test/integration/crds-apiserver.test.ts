/**
 * Our CRDs on a real kube-apiserver: the original's examples apply unchanged, every CEL rule refuses
 * a bad object with its message, and kubectl's views (columns, categories, explain, scale) work.
 */
import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { freshNamespace, k, testCluster } from '../support/cluster.ts';
import {
  aProvider, aVirtualMachine, aVMClone, aVMImage, aVMMigration, aPlacementPolicy, aVMSet, toYaml,
} from '../support/manifests.ts';

const EXAMPLES = new URL('../../../shared/compat/upstream-examples', import.meta.url).pathname;

async function applyOk(yaml: string): Promise<void> {
  const r = await k(['apply', '--server-side', '--field-manager=test', '-f', '-'], yaml);
  assert.equal(r.code, 0, r.stderr);
}

/** Applies and expects a refusal whose message contains every fragment. */
async function refused(yaml: string, ...fragments: string[]): Promise<void> {
  const r = await k(['apply', '--server-side', '--field-manager=test', '-f', '-'], yaml);
  assert.notEqual(r.code, 0, `expected a refusal containing ${JSON.stringify(fragments)}, but it applied`);
  for (const f of fragments) assert.ok(r.stderr.includes(f), `refusal lacks "${f}":\n${r.stderr}`);
}

describe('CRDs on a real kube-apiserver', function () {
  this.timeout(60_000);
  before(async () => {
    await testCluster();
  });

  describe('the original VirtRigaud examples', () => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort();

    it('are all present', () => {
      assert.ok(files.length >= 17, `found ${files.length} example files`);
    });

    it('apply unchanged (server-side) and are listed by `kubectl get virtrigaud`', async () => {
      const namespaces = new Set<string>();
      for (const f of files) {
        for (const doc of parseAllDocuments(readFileSync(join(EXAMPLES, f), 'utf8'))) {
          const ns = (doc.toJS() as { metadata?: { namespace?: string } } | null)?.metadata?.namespace;
          if (ns) namespaces.add(ns);
        }
      }
      for (const ns of namespaces) await k(['create', 'namespace', ns]);
      for (const f of files) {
        const r = await k(['apply', '--server-side', '--field-manager=test', '-f', join(EXAMPLES, f)]);
        assert.equal(r.code, 0, `${f}: ${r.stderr}`);
      }
      const listed = await k(['get', 'virtrigaud', '-A', '-o', 'name']);
      assert.equal(listed.code, 0, listed.stderr);
      for (const kind of ['provider', 'virtualmachine', 'vmclass', 'vmimage', 'vmnetworkattachment', 'vmmigration', 'vmclone']) {
        assert.match(listed.stdout, new RegExp(`^${kind}\\.infra\\.virtrigaud\\.io/`, 'm'), `no ${kind} listed`);
      }
    });
  });

  describe('CEL rules refuse bad objects with a message naming the field', () => {
    let ns: string;
    before(async () => {
      ns = await freshNamespace('cel');
    });

    it('refuses a VM with both imageRef and importedDisk', () =>
      refused(toYaml(aVirtualMachine('both', ns, { spec: { importedDisk: { diskID: 'd1' } } })),
        'spec:', 'exactly one of imageRef (boot from a VMImage) or importedDisk'));

    it('refuses a VM with neither imageRef nor importedDisk', async () => {
      const vm = aVirtualMachine('neither', ns);
      delete (vm.spec as Record<string, unknown>).imageRef;
      await refused(toYaml(vm), 'exactly one of imageRef');
    });

    it('refuses the same in a VMSet template', async () => {
      const set = aVMSet('set-both', ns, { spec: { template: { spec: { importedDisk: { diskID: 'd1' } } } } });
      await refused(toYaml(set), 'spec.template.spec:', 'exactly one of imageRef');
    });

    it('refuses a network prefix without ipAddress', () =>
      refused(toYaml(aVirtualMachine('pfx', ns, { spec: { networks: [{ name: 'lan', prefix: 24 }] } })),
        'spec.networks[0].prefix', 'prefix needs ipAddress'));

    it('refuses a network gateway without ipAddress', () =>
      refused(toYaml(aVirtualMachine('gw', ns, { spec: { networks: [{ name: 'lan', gateway: '10.0.0.1' }] } })),
        'spec.networks[0].gateway', 'gateway needs ipAddress'));

    it('accepts a full static IP (address, prefix, gateway)', () =>
      applyOk(toYaml(aVirtualMachine('static', ns, {
        spec: { networks: [{ name: 'lan', ipAddress: '10.0.0.5', prefix: 24, gateway: '10.0.0.1' }] },
      }))));

    it('refuses a VMImage with two sources', () =>
      refused(toYaml(aVMImage('two', ns, { spec: { source: { http: { url: 'https://x/y.qcow2' } } } })),
        'spec.source', 'exactly one of vsphere, libvirt, proxmox, http, registry, dataVolume must be set'));

    it('refuses a VMClone with two sources', () =>
      refused(toYaml(aVMClone('two', ns, { spec: { source: { templateRef: { name: 't' } } } })),
        'spec.source', 'exactly one of vmRef, templateRef, snapshotRef, imageRef must be set'));

    it('refuses a change of a VM providerRef', async () => {
      await applyOk(toYaml(aVirtualMachine('moving', ns)));
      await refused(toYaml(aVirtualMachine('moving', ns, { spec: { providerRef: { name: 'vsphere-prod' } } })),
        'spec.providerRef', 'providerRef is immutable: use a VMMigration');
    });

    it('refuses a change of a VM importedDisk, and adding one later', async () => {
      const base = aVirtualMachine('imported', ns, { spec: { importedDisk: { diskID: 'disk-a' } } });
      delete (base.spec as Record<string, unknown>).imageRef;
      await applyOk(toYaml(base));
      await refused(toYaml(aVirtualMachine('imported', ns, { spec: { imageRef: null, importedDisk: { diskID: 'disk-b' } } })),
        'spec.importedDisk', 'importedDisk is immutable');
      await applyOk(toYaml(aVirtualMachine('plain', ns)));
      await refused(toYaml(aVirtualMachine('plain', ns, { spec: { imageRef: null, importedDisk: { diskID: 'disk-c' } } })),
        'importedDisk is immutable');
    });

    it('lets a disk grow and refuses shrinking it', async () => {
      const withDisk = (size: number) => toYaml(aVirtualMachine('disks', ns, { spec: { disks: [{ name: 'data', sizeGiB: size }] } }));
      await applyOk(withDisk(10));
      await applyOk(withDisk(20));
      await refused(withDisk(15), 'spec.disks', 'sizeGiB may grow but never shrink');
    });

    it('refuses a change of a VMClone target', async () => {
      await applyOk(toYaml(aVMClone('clone', ns)));
      await refused(toYaml(aVMClone('clone', ns, { spec: { target: { name: 'other-copy' } } })),
        'spec.target', 'target is immutable');
    });

    it('refuses any change of a VMMigration spec', async () => {
      await applyOk(toYaml(aVMMigration('mig', ns)));
      await refused(toYaml(aVMMigration('mig', ns, { spec: { target: { name: 'elsewhere' } } })),
        'spec:', 'is immutable: a migration runs once');
    });
  });

  describe('kubectl views', () => {
    let ns: string;
    before(async () => {
      ns = await freshNamespace('views');
      await applyOk(toYaml(aVirtualMachine('web-1', ns), aProvider('libvirt-local', ns), aVMSet('web', ns), aPlacementPolicy('spread', ns)));
    });

    it('`kubectl get vm` shows phase, provider, class and image columns', async () => {
      const r = await k(['get', 'vm', '-n', ns]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^NAME\s+PHASE\s+PROVIDER\s+CLASS\s+IMAGE\s+IPS\s+AGE$/m);
      assert.match(r.stdout, /^web-1\s+libvirt-local\s+small\s+ubuntu-22\s/m);
    });

    it('`kubectl get virtrigaud` lists every kind of ours in the namespace', async () => {
      const r = await k(['get', 'virtrigaud', '-n', ns, '-o', 'name']);
      assert.equal(r.code, 0, r.stderr);
      for (const name of ['virtualmachine.infra.virtrigaud.io/web-1', 'provider.infra.virtrigaud.io/libvirt-local',
        'vmset.infra.virtrigaud.io/web', 'vmplacementpolicy.infra.virtrigaud.io/spread']) {
        assert.ok(r.stdout.includes(name), `${name} missing from:\n${r.stdout}`);
      }
    });

    it('`kubectl explain virtualmachine.spec` documents the fields', async () => {
      const r = await k(['explain', 'virtualmachine.spec']);
      assert.equal(r.code, 0, r.stderr);
      for (const field of ['providerRef', 'classRef', 'imageRef', 'importedDisk', 'powerState']) {
        assert.match(r.stdout, new RegExp(`^\\s+${field}\\s`, 'm'), `${field} not explained`);
      }
    });

    it('renders the placement policy "Used By VMs" column as a count', async () => {
      const patch = JSON.stringify({ status: { usedByVMs: [{ name: 'web-1' }, { name: 'web-2' }], usedByVMCount: 2 } });
      const p = await k(['patch', 'vmpp', 'spread', '-n', ns, '--subresource=status', '--type=merge', '-p', patch]);
      assert.equal(p.code, 0, p.stderr);
      const r = await k(['get', 'vmpp', 'spread', '-n', ns]);
      assert.match(r.stdout, /^NAME\s+USED BY VMS\s+PRIORITY/m, r.stdout);
      assert.match(r.stdout, /^spread\s+2\s/m, r.stdout);
    });

    it('scales a VMSet through its scale subresource, with the selector from status', async () => {
      const selector = JSON.stringify({ status: { replicas: 1, selector: 'app=web' } });
      assert.equal((await k(['patch', 'vmset', 'web', '-n', ns, '--subresource=status', '--type=merge', '-p', selector])).code, 0);
      const s = await k(['scale', 'vmset', 'web', '-n', ns, '--replicas=3']);
      assert.equal(s.code, 0, s.stderr);
      const spec = await k(['get', 'vmset', 'web', '-n', ns, '-o', 'jsonpath={.spec.replicas}']);
      assert.equal(spec.stdout, '3');
      const scale = await k(['get', '--raw', `/apis/infra.virtrigaud.io/v1beta1/namespaces/${ns}/vmsets/web/scale`]);
      const body = JSON.parse(scale.stdout) as { spec: { replicas: number }; status: { replicas: number; selector: string } };
      assert.deepEqual([body.spec.replicas, body.status.replicas, body.status.selector], [3, 1, 'app=web']);
    });

    it('keeps VMSet template labels (upstream pruned them)', async () => {
      const r = await k(['get', 'vmset', 'web', '-n', ns, '-o', 'jsonpath={.spec.template.metadata.labels.app}']);
      assert.equal(r.stdout, 'web');
    });

    it('has no scale subresource on a VirtualMachine (upstream pointed it at fields that do not exist)', async () => {
      const r = await k(['scale', 'vm', 'web-1', '-n', ns, '--replicas=2']);
      assert.notEqual(r.code, 0);
    });

    it('keeps an explicit false on a boolean that defaults to true', async () => {
      await applyOk(toYaml(aProvider('checks-off', ns, { spec: { healthCheck: { enabled: false } } }), aProvider('checks-default', ns)));
      const off = await k(['get', 'provider', 'checks-off', '-n', ns, '-o', 'jsonpath={.spec.healthCheck.enabled}']);
      assert.equal(off.stdout, 'false');
      const on = await k(['get', 'provider', 'checks-default', '-n', ns, '-o', 'jsonpath={.spec.healthCheck}']);
      assert.equal(on.stdout, '', 'an absent healthCheck stays absent');
    });

    it('ignores status on the main resource and takes it through the status subresource', async () => {
      await applyOk(toYaml(aVirtualMachine('stat', ns, { status: { phase: 'Running' } })));
      const before = await k(['get', 'vm', 'stat', '-n', ns, '-o', 'jsonpath={.status.phase}']);
      assert.equal(before.stdout, '');
      const p = await k(['patch', 'vm', 'stat', '-n', ns, '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Running"}}']);
      assert.equal(p.code, 0, p.stderr);
      const after = await k(['get', 'vm', 'stat', '-n', ns, '-o', 'jsonpath={.status.phase}']);
      assert.equal(after.stdout, 'Running');
    });
  });
});
