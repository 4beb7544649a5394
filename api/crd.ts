/**
 * Turns a kind's TypeScript definition into its CustomResourceDefinition manifest.
 * The kind files under api/kinds are the single source of truth; manifests/crds is generated.
 */
import type { TSchema } from '@sinclair/typebox';
import type { CelRule } from './schema/builders.ts';

export const GROUP = 'infra.virtrigaud.io';
export const VERSION = 'v1beta1';
export const API_VERSION = `${GROUP}/${VERSION}`;
/** `kubectl get virtrigaud` lists every kind of ours. */
export const CATEGORY = 'virtrigaud';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface ScaleSubresource {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

export interface CrdDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: TSchema;
  status: TSchema;
  /** Required top-level fields (upstream requires none; `spec` where the kind is meaningless without it). */
  required?: string[];
  printerColumns: PrinterColumn[];
  scale?: ScaleSubresource;
  /** Rules that need the whole object (e.g. metadata and spec together). */
  rules?: CelRule[];
}

/** Strips TypeBox's symbol-keyed bookkeeping, leaving the plain OpenAPI v3 schema. */
function plain(schema: TSchema): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;
}

const API_VERSION_DESCRIPTION =
  'APIVersion defines the versioned schema of this representation of an object.';
const KIND_DESCRIPTION = 'Kind is a string value representing the REST resource this object represents.';

/** The CRD manifest for a kind, ready to serialise. */
export function renderCrd(def: CrdDefinition): Record<string, unknown> {
  const openAPIV3Schema: Record<string, unknown> = {
    description: def.description,
    type: 'object',
    properties: {
      apiVersion: { description: API_VERSION_DESCRIPTION, type: 'string' },
      kind: { description: KIND_DESCRIPTION, type: 'string' },
      metadata: { type: 'object' },
      spec: plain(def.spec),
      status: plain(def.status),
    },
  };
  if (def.required?.length) openAPIV3Schema.required = def.required;
  if (def.rules?.length) openAPIV3Schema['x-kubernetes-validations'] = def.rules;
  const subresources: Record<string, unknown> = { status: {} };
  if (def.scale) subresources.scale = def.scale;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: [CATEGORY],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema },
          subresources,
          additionalPrinterColumns: def.printerColumns,
        },
      ],
    },
  };
}
