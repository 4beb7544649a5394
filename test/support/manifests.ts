/** Small builders for test manifests: one valid object plus overrides, as YAML for kubectl. */
import { stringify } from 'yaml';
import { API_VERSION } from '../../api/crd.ts';

type Obj = Record<string, unknown>;

function merge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    // null removes the field, as in a JSON merge patch.
    if (v === null) {
      delete out[k];
      continue;
    }
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
      ? merge(b as Obj, v as Obj)
      : v;
  }
  return out;
}

function object(kind: string, name: string, namespace: string, spec: Obj, over: Obj): Obj {
  return merge({ apiVersion: API_VERSION, kind, metadata: { name, namespace }, spec }, over);
}

export const aVirtualMachine = (name: string, namespace: string, over: Obj = {}) =>
  object('VirtualMachine', name, namespace, {
    providerRef: { name: 'libvirt-local' },
    classRef: { name: 'small' },
    imageRef: { name: 'ubuntu-22' },
  }, over);

export const aProvider = (name: string, namespace: string, over: Obj = {}) =>
  object('Provider', name, namespace, {
    type: 'libvirt',
    endpoint: 'qemu+tcp://kvm.example.com/system',
    credentialSecretRef: { name: 'libvirt-creds' },
    runtime: { mode: 'Remote', image: 'virtrigaud/agent:dev' },
  }, over);

export const aVMImage = (name: string, namespace: string, over: Obj = {}) =>
  object('VMImage', name, namespace, { source: { libvirt: { url: 'https://images.example.com/jammy.qcow2' } } }, over);

export const aVMClone = (name: string, namespace: string, over: Obj = {}) =>
  object('VMClone', name, namespace, { source: { vmRef: { name: 'src' } }, target: { name: 'copy' } }, over);

export const aVMMigration = (name: string, namespace: string, over: Obj = {}) =>
  object('VMMigration', name, namespace, {
    source: { vmRef: { name: 'src' } },
    target: { name: 'moved', providerRef: { name: 'other' } },
  }, over);

export const aVMSet = (name: string, namespace: string, over: Obj = {}) =>
  object('VMSet', name, namespace, {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { providerRef: { name: 'libvirt-local' }, classRef: { name: 'small' }, imageRef: { name: 'ubuntu-22' } },
    },
  }, over);

export const aPlacementPolicy = (name: string, namespace: string, over: Obj = {}) =>
  object('VMPlacementPolicy', name, namespace, {}, over);

export const toYaml = (...objects: Obj[]) => objects.map((o) => stringify(o)).join('---\n');
