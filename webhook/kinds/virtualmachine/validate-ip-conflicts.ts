/**
 * Two VMs of a namespace may not claim the same static IP on the same network (the same
 * VMNetworkAttachment). A network entry without networkRef uses the image's own adapter, whose
 * network admission cannot know, so it is not compared.
 */
import type { VirtualMachineSpec } from '../../../api/kinds/virtual-machine.ts';
import type { FieldError } from '../../framework/types.ts';
import { ruleErrors } from '../rule-names.ts';
import { describeObject, refNamespace } from '../shared/refs.ts';
import { result } from '../shared/result.ts';
import { isOwnVM, type VMSpecRule } from './vm-spec-context.ts';
import type { VirtualMachine } from '../../../api/objects.ts';

const errors = ruleErrors('static-ip-conflict');

export const MESSAGE_IP_TAKEN = (ip: string, network: string, holder: string, terminating: boolean): string =>
  `${ip} on ${network} is already claimed by VirtualMachine ${holder}${terminating ? ' (being deleted; retry once it is gone)' : ''}: `
  + 'use another address';
export const MESSAGE_IP_TWICE = (ip: string, first: number): string =>
  `${ip} is already claimed on the same network by networks[${first}]: use another address`;

/** `namespace/name|ip` for each static IP of a spec that names its network. */
function claims(spec: VirtualMachineSpec, namespace: string): Array<{ index: number; key: string; ip: string; network: string }> {
  const out: Array<{ index: number; key: string; ip: string; network: string }> = [];
  (spec.networks ?? []).forEach((n, index) => {
    if (n.ipAddress === undefined || !n.networkRef) return;
    const ns = refNamespace(n.networkRef, namespace);
    out.push({ index, key: `${ns}/${n.networkRef.name}|${n.ipAddress}`, ip: n.ipAddress, network: describeObject('VMNetworkAttachment', ns, n.networkRef.name) });
  });
  return out;
}

interface Holder {
  vm: VirtualMachine;
  name: string;
  terminating: boolean;
}

/**
 * Static-IP claims of a namespace's VMs, built once per VM list: the Lookup hands out the same
 * array until the namespace changes, so admission costs O(own NICs), not O(VMs in the namespace).
 */
const claimIndexes = new WeakMap<readonly VirtualMachine[], Map<string, Holder[]>>();

function claimIndex(vms: readonly VirtualMachine[], namespace: string): Map<string, Holder[]> {
  let index = claimIndexes.get(vms);
  if (index) return index;
  index = new Map();
  for (const vm of vms) {
    const holder = { vm, name: `${namespace}/${vm.metadata.name ?? ''}`, terminating: vm.metadata.deletionTimestamp !== undefined };
    for (const c of claims(vm.spec, namespace)) {
      const list = index.get(c.key);
      if (list) list.push(holder);
      else index.set(c.key, [holder]);
    }
  }
  claimIndexes.set(vms, index);
  return index;
}

export const validateIPConflicts: VMSpecRule = (ctx) => {
  const mine = claims(ctx.spec, ctx.namespace);
  if (mine.length === 0) return result({});
  const index = claimIndex(ctx.lookup.virtualMachines(ctx.namespace), ctx.namespace);
  const found: FieldError[] = [];
  const firstOfMine = new Map<string, number>();
  for (const c of mine) {
    const path = ctx.path.child('networks').index(c.index).child('ipAddress');
    const holder = index.get(c.key)?.find((h) => !isOwnVM(ctx, h.vm));
    const first = firstOfMine.get(c.key);
    if (holder) found.push(errors.invalid(path, MESSAGE_IP_TAKEN(c.ip, c.network, holder.name, holder.terminating)));
    else if (first !== undefined) found.push(errors.duplicate(path, MESSAGE_IP_TWICE(c.ip, first)));
    if (first === undefined) firstOfMine.set(c.key, c.index);
  }
  return result({ errors: found });
};
