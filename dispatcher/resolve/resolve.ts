/**
 * A VM's whole desired state: its class, image, networks, disks, cloud-init, placement, power,
 * tags and adoption resolved into one DesiredVM for its Provider. Everything missing is named at
 * once (WaitingForDependencies); a spec that cannot be resolved says why (InvalidSpec).
 */
import { create } from '@bufbuild/protobuf';
import { ANNOTATION_ADOPT_ID, type VirtualMachine } from '../../api/objects.ts';
import { DesiredVMSchema } from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import { resolveClass } from './class.ts';
import { resolveCloudInit } from './cloud-init.ts';
import { resolveDisks } from './disks.ts';
import { resolveImage, resolveImportedDisk } from './image.ts';
import { resolveNetworks } from './networks.ts';
import { resolvePlacement } from './placement.ts';
import { gracefulTimeoutOf, powerStateOf } from './power.ts';
import { Problems, type Lookup, type Resolution, type SecretReader } from './types.ts';

export async function resolveDesired(vm: VirtualMachine, lookup: Lookup, secrets: SecretReader): Promise<Resolution> {
  const problems = new Problems();
  const namespace = vm.metadata.namespace ?? '';
  const spec = vm.spec;

  // 1. The provider decides the hypervisor type everything else is shaped for.
  const providerNs = spec.providerRef.namespace ?? namespace;
  const provider = lookup.provider(providerNs, spec.providerRef.name);
  if (!provider) problems.miss(`Provider ${providerNs}/${spec.providerRef.name}`);
  const providerType = provider?.spec.type ?? '';

  // 2. Class (resources, firmware, security profile).
  const classNs = spec.classRef.namespace ?? namespace;
  const vmClass = lookup.vmClass(classNs, spec.classRef.name);
  if (!vmClass) problems.miss(`VMClass ${classNs}/${spec.classRef.name}`);
  const classSpec = vmClass ? resolveClass(vm, vmClass, problems) : undefined;

  // 3. Boot disk: a VMImage, or a disk already on the hypervisor.
  let image = resolveImportedDisk(vm);
  if (!image && spec.imageRef) {
    const imageNs = spec.imageRef.namespace ?? namespace;
    const vmImage = lookup.vmImage(imageNs, spec.imageRef.name);
    if (!vmImage) problems.miss(`VMImage ${imageNs}/${spec.imageRef.name}`);
    else if (provider) image = resolveImage(vmImage, providerType, problems);
  } else if (!image) {
    problems.bad('spec: needs imageRef or importedDisk');
  }

  // 4. NICs, disks, placement.
  const networks = resolveNetworks(vm, lookup, providerType, problems);
  const disks = vmClass ? resolveDisks(vm, vmClass) : [];
  const placement = provider ? resolvePlacement(vm, provider) : undefined;

  // 5. Guest initialisation, read from Secrets now (never cached, never logged).
  const cloudInit = await resolveCloudInit(vm, secrets, problems);

  // 6. Power and lifecycle.
  const gracefulTimeoutSeconds = gracefulTimeoutOf(vm);
  if (gracefulTimeoutSeconds === undefined) {
    problems.bad(`spec.lifecycle.gracefulShutdownTimeout: expected a duration such as 90s or 2m, got "${spec.lifecycle?.gracefulShutdownTimeout}"`);
  }

  if (problems.missing.length) return { kind: 'waiting', missing: problems.missing };
  if (problems.invalid.length || !provider || !classSpec || !image) return { kind: 'invalid', problems: problems.invalid };
  return {
    kind: 'resolved',
    provider: { namespace: providerNs, name: spec.providerRef.name, type: providerType },
    desired: create(DesiredVMSchema, {
      class: classSpec,
      image,
      networks,
      disks,
      cloudInit,
      placement,
      powerState: powerStateOf(vm),
      gracefulTimeoutSeconds: gracefulTimeoutSeconds ?? 0,
      tags: [...(spec.tags ?? [])],
      adoptId: vm.metadata.annotations?.[ANNOTATION_ADOPT_ID] ?? '',
    }),
  };
}
