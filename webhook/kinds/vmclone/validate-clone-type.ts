/**
 * LinkedClone and InstantClone need a provider that makes them, from a source it can use:
 * - a linked clone shares its source's disks, so it stays on the source VM's provider;
 * - Proxmox VE makes linked clones only from templates (source.templateRef or an image);
 * - an instant clone forks a running VM (source.vmRef), and only vSphere makes them.
 * The clone's provider is target.providerRef, or else the source VM's. Unknown: a warning.
 */
import { capabilitiesOf, type ProviderFeature, type ProviderType } from '../../../api/capabilities.ts';
import type { VMClone } from '../../../api/objects.ts';
import { newPath } from '../../framework/field-path.ts';
import type { FieldError, Validator } from '../../framework/types.ts';
import { ruleErrors } from '../rule-names.ts';
import { FEATURE_NAMES, otherProviderTypes } from '../shared/capability-text.ts';
import { describeObject, missingWarning, namespaceOf, refNamespace, sameRef } from '../shared/refs.ts';
import { allowed, ratcheted, result } from '../shared/result.ts';
import { vmAndProvider } from '../shared/vm-provider.ts';

const errors = ruleErrors('clone-type-support');
const WAITER = 'the clone waits for it (its clone type is not checked)';
const TYPE_PATH = newPath('spec', 'options', 'type');

export const MESSAGE_TYPE_UNSUPPORTED = (type: string, feature: ProviderFeature, provider: string, providerType: ProviderType): string =>
  `${type} needs ${FEATURE_NAMES[feature]}, which ${provider} of type ${providerType} does not make: use type FullClone`
  + otherProviderTypes({ kind: 'feature', feature }, providerType);
export const MESSAGE_LINKED_ACROSS_PROVIDERS = (source: string): string =>
  `a linked clone shares its source's disks, so it stays on the source VM's ${source}: remove target.providerRef, or use type FullClone`;
export const MESSAGE_LINKED_NEEDS_TEMPLATE = (provider: string): string =>
  `${provider} of type proxmox makes linked clones only from templates: clone from source.templateRef or source.imageRef, or use type FullClone`;
export const MESSAGE_INSTANT_NEEDS_VM =
  'an instant clone forks a running VM: clone from source.vmRef, or use type FullClone or LinkedClone';

const FEATURE_OF: Readonly<Record<string, ProviderFeature>> = { LinkedClone: 'linkedClones', InstantClone: 'instantClones' };

const validateCloneType: Validator<VMClone> = ({ operation, object, lookup }) => {
  const type = object.spec.options?.type ?? 'FullClone';
  const feature = FEATURE_OF[type];
  if ((operation !== 'CREATE' && operation !== 'UPDATE') || feature === undefined) return allowed();
  const namespace = namespaceOf(object.metadata);
  const { source, target } = object.spec;
  const found: FieldError[] = [];
  const warnings: string[] = [];

  // 1. The source VM and its provider, when cloning a VM.
  const fromVM = source.vmRef ? vmAndProvider(lookup, namespace, source.vmRef.name) : undefined;
  if (source.vmRef && !fromVM?.vm) warnings.push(missingWarning('VirtualMachine', namespace, source.vmRef.name, WAITER));
  const targetRef = target.providerRef ? { namespace: refNamespace(target.providerRef, namespace), name: target.providerRef.name } : undefined;

  // 2. Source shape the clone type needs.
  if (type === 'InstantClone' && !source.vmRef) found.push(errors.forbidden(newPath('spec', 'source'), MESSAGE_INSTANT_NEEDS_VM));
  if (type === 'LinkedClone' && fromVM?.providerRef && targetRef && !sameRef(fromVM.providerRef, targetRef)) {
    found.push(errors.forbidden(newPath('spec', 'target', 'providerRef'),
      MESSAGE_LINKED_ACROSS_PROVIDERS(describeObject('Provider', fromVM.providerRef.namespace, fromVM.providerRef.name))));
  }

  // 3. The provider that makes the clone, and what its type can do.
  const providerRef = targetRef ?? fromVM?.providerRef;
  const provider = providerRef ? lookup.provider(providerRef.namespace, providerRef.name) : undefined;
  if (providerRef && !provider) warnings.push(missingWarning('Provider', providerRef.namespace, providerRef.name, WAITER));
  if (provider && providerRef) {
    const name = describeObject('Provider', providerRef.namespace, providerRef.name);
    const caps = capabilitiesOf(provider.spec.type);
    const supported = feature === 'linkedClones' ? caps.linkedClones !== 'none' : caps[feature];
    if (!supported) found.push(errors.notSupported(TYPE_PATH, MESSAGE_TYPE_UNSUPPORTED(type, feature, name, provider.spec.type)));
    else if (feature === 'linkedClones' && caps.linkedClones === 'templates' && !source.templateRef && !source.imageRef) {
      found.push(errors.forbidden(newPath('spec', 'source'), MESSAGE_LINKED_NEEDS_TEMPLATE(name)));
    }
  }
  return result({ errors: found, warnings });
};

export const validateVMClone: Validator<VMClone> = ratcheted(validateCloneType);
