/**
 * The Provider's type must support every feature the VM and its VMClass ask for, from the one
 * capability table (api/capabilities.ts). Skipped while the Provider is missing; the class's
 * features are skipped while the class is missing.
 */
import { capabilitiesOf, isSupported, normalizeFirmware, type CapabilityRequest } from '../../../api/capabilities.ts';
import type { FieldPath } from '../../framework/field-path.ts';
import type { FieldError } from '../../framework/types.ts';
import { ruleErrors } from '../rule-names.ts';
import { describeRequest, otherProviderTypes } from '../shared/capability-text.ts';
import { describeObject } from '../shared/refs.ts';
import { result } from '../shared/result.ts';
import type { VMSpecContext, VMSpecRule } from './vm-spec-context.ts';

const errors = ruleErrors('provider-capabilities');

/** One thing asked of the provider, where it is asked, and how to stop asking. */
interface Ask {
  request: CapabilityRequest;
  path: FieldPath;
  /** The field that asks, as the user wrote it (`spec.securityProfile.secureBoot` of the class, `disks[0].type`). */
  source: string;
  /** Set when the VMClass asks (the fix is another class). */
  fromClass: boolean;
}

function classAsks(ctx: VMSpecContext): Ask[] {
  const vmClass = ctx.refs.vmClass;
  if (!vmClass) return [];
  const spec = vmClass.spec;
  const path = ctx.path.child('classRef', 'name');
  const ask = (request: CapabilityRequest, source: string): Ask => ({ request, path, source: `spec.${source}`, fromClass: true });
  const asks: Ask[] = [ask({ kind: 'firmware', firmware: normalizeFirmware(spec.firmware) }, 'firmware')];
  if (spec.securityProfile?.secureBoot) asks.push(ask({ kind: 'feature', feature: 'secureBoot' }, 'securityProfile.secureBoot'));
  if (spec.securityProfile?.tpmEnabled) asks.push(ask({ kind: 'feature', feature: 'tpm' }, 'securityProfile.tpmEnabled'));
  const perf = spec.performanceProfile;
  if (perf?.nestedVirtualization) asks.push(ask({ kind: 'feature', feature: 'nestedVirtualization' }, 'performanceProfile.nestedVirtualization'));
  if (perf?.cpuHotAddEnabled) asks.push(ask({ kind: 'feature', feature: 'cpuHotAdd' }, 'performanceProfile.cpuHotAddEnabled'));
  if (perf?.memoryHotAddEnabled) asks.push(ask({ kind: 'feature', feature: 'memoryHotAdd' }, 'performanceProfile.memoryHotAddEnabled'));
  if (spec.diskDefaults?.type) asks.push(ask({ kind: 'diskType', diskType: spec.diskDefaults.type }, 'diskDefaults.type'));
  return asks;
}

function vmAsks(ctx: VMSpecContext): Ask[] {
  const { spec, path } = ctx;
  const asks: Ask[] = [];
  const ask = (request: CapabilityRequest, at: FieldPath): Ask => ({ request, path: at, source: at.toString(), fromClass: false });
  (spec.disks ?? []).forEach((disk, i) => {
    if (disk.type) asks.push(ask({ kind: 'diskType', diskType: disk.type }, path.child('disks').index(i).child('type')));
    if (disk.expandPolicy === 'Online') {
      asks.push(ask({ kind: 'feature', feature: 'onlineDiskExpansion' }, path.child('disks').index(i).child('expandPolicy')));
    }
  });
  if (spec.resources?.gpu) asks.push(ask({ kind: 'feature', feature: 'gpu' }, path.child('resources', 'gpu')));
  for (const hook of ['postStart', 'preStop'] as const) {
    if (spec.lifecycle?.[hook]?.snapshot?.includeMemory) {
      asks.push(ask({ kind: 'feature', feature: 'memorySnapshots' }, path.child('lifecycle', hook, 'snapshot', 'includeMemory')));
    }
  }
  return asks;
}

/** What the user can change instead, for a VM field. */
function vmRemedy(ask: Ask, ctx: VMSpecContext): string {
  const type = ctx.refs.provider?.spec.type;
  if (ask.request.kind === 'diskType' && type) return `use one of ${capabilitiesOf(type).diskTypes.join(', ')}`;
  if (ask.request.kind === 'feature' && ask.request.feature === 'onlineDiskExpansion') return 'use expandPolicy Offline';
  return `remove ${ask.source}`;
}

export const MESSAGE_UNSUPPORTED_BY_CLASS = (ask: Ask, ctx: VMSpecContext): string => {
  const provider = ctx.refs.provider!;
  const cls = describeObject('VMClass', ctx.refs.classRef.namespace, ctx.refs.classRef.name);
  const prov = describeObject('Provider', ctx.refs.providerRef.namespace, ctx.refs.providerRef.name);
  return `${cls} asks for ${describeRequest(ask.request)} (${ask.source}), which ${prov} of type ${provider.spec.type} does not support: `
    + `use a VMClass without it${otherProviderTypes(ask.request, provider.spec.type)}`;
};

export const MESSAGE_UNSUPPORTED_BY_VM = (ask: Ask, ctx: VMSpecContext): string => {
  const provider = ctx.refs.provider!;
  const prov = describeObject('Provider', ctx.refs.providerRef.namespace, ctx.refs.providerRef.name);
  return `${prov} of type ${provider.spec.type} does not support ${describeRequest(ask.request)}: `
    + `${vmRemedy(ask, ctx)}${otherProviderTypes(ask.request, provider.spec.type)}`;
};

export const validateProviderCapabilities: VMSpecRule = (ctx) => {
  const provider = ctx.refs.provider;
  if (!provider) return result({});
  const found: FieldError[] = [];
  for (const ask of [...classAsks(ctx), ...vmAsks(ctx)]) {
    if (isSupported(provider.spec.type, ask.request)) continue;
    const message = ask.fromClass ? MESSAGE_UNSUPPORTED_BY_CLASS(ask, ctx) : MESSAGE_UNSUPPORTED_BY_VM(ask, ctx);
    found.push(errors.notSupported(ask.path, message));
  }
  return result({ errors: found });
};
