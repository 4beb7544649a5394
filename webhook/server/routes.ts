/**
 * The admission paths, one validate and one mutate path per kind, as the original VirtRigaud
 * declared them (`/validate-infra-virtrigaud-io-v1beta1-virtualmachine`), and the kind each serves.
 */
import { GROUP, VERSION } from '../../api/crd.ts';
import { ALL_CRDS } from '../../api/kinds/index.ts';
import type { AnyVirtRigaudObject } from '../../api/objects.ts';
import type { Operation } from '../framework/types.ts';

/** One of the ten kinds of infra.virtrigaud.io/v1beta1. */
export type KindName = AnyVirtRigaudObject['kind'];

export type AdmissionMode = 'validate' | 'mutate';

export interface KindRoute {
  kind: KindName;
  /** Lowercase kind as it appears in the path (`vmplacementpolicy`). */
  lower: string;
  /** The resource (`vmplacementpolicies`). */
  plural: string;
  mode: AdmissionMode;
  path: string;
  /** Operations the registration sends to this path. */
  operations: readonly Operation[];
}

const PATH_GROUP = `${GROUP.replaceAll('.', '-')}-${VERSION}`;

/** Kinds whose deletion is validated (refused while VMs still use them). */
export const DELETE_VALIDATED_KINDS: readonly KindName[] = ['VMClass', 'VMPlacementPolicy', 'Provider'];

export function admissionPath(mode: AdmissionMode, kind: string): string {
  return `/${mode}-${PATH_GROUP}-${kind.toLowerCase()}`;
}

function routesFor(mode: AdmissionMode): KindRoute[] {
  return ALL_CRDS.map((crd) => {
    const kind = crd.kind as KindName;
    const operations: Operation[] = ['CREATE', 'UPDATE'];
    if (mode === 'validate' && DELETE_VALIDATED_KINDS.includes(kind)) operations.push('DELETE');
    return { kind, lower: kind.toLowerCase(), plural: crd.plural, mode, path: admissionPath(mode, kind), operations };
  });
}

/** Every admission route, validate routes first, kinds in CRD order. */
export const KIND_ROUTES: readonly KindRoute[] = [...routesFor('validate'), ...routesFor('mutate')];

const BY_PATH = new Map(KIND_ROUTES.map((r) => [r.path, r]));

/** The route for a request path, or undefined for a path we do not serve. */
export function routeForPath(path: string): KindRoute | undefined {
  return BY_PATH.get(path);
}
