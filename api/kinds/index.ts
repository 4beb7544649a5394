/** The ten kinds of infra.virtrigaud.io/v1beta1, in the order their CRDs are written. */
import type { CrdDefinition } from '../crd.ts';
import { providerCrd } from './provider.ts';
import { virtualMachineCrd } from './virtual-machine.ts';
import { vmClassCrd } from './vm-class.ts';
import { vmCloneCrd } from './vm-clone.ts';
import { vmImageCrd } from './vm-image.ts';
import { vmMigrationCrd } from './vm-migration.ts';
import { vmNetworkAttachmentCrd } from './vm-network-attachment.ts';
import { vmPlacementPolicyCrd } from './vm-placement-policy.ts';
import { vmSetCrd } from './vm-set.ts';
import { vmSnapshotCrd } from './vm-snapshot.ts';

export const ALL_CRDS: readonly CrdDefinition[] = [
  providerCrd,
  virtualMachineCrd,
  vmClassCrd,
  vmCloneCrd,
  vmImageCrd,
  vmMigrationCrd,
  vmNetworkAttachmentCrd,
  vmPlacementPolicyCrd,
  vmSetCrd,
  vmSnapshotCrd,
];
