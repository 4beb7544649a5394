/**
 * A Provider's endpoint scheme fits its type: libvirt URIs for libvirt (and bare QEMU), HTTPS for
 * vSphere and Proxmox VE, whose APIs take credentials we never send in the clear.
 */
import type { ProviderType } from '../../../api/capabilities.ts';
import type { Provider } from '../../../api/objects.ts';
import { newPath } from '../../framework/field-path.ts';
import type { Validator } from '../../framework/types.ts';
import { ruleErrors } from '../rule-names.ts';
import { joinOr } from '../shared/capability-text.ts';
import { allowed, combineValidators, result, ratcheted } from '../shared/result.ts';
import { validateProviderNotInUse } from './validate-in-use.ts';
import { validateProviderName, validateProviderSecretNamespace } from './validate-runtime.ts';

const errors = ruleErrors('provider-endpoint-scheme');

/** libvirt connection URIs: SSH, plain TCP, TLS, and `qemu://` (local `qemu:///system`, or remote over TLS, libvirt's default). */
const LIBVIRT_SCHEMES = ['qemu+ssh://', 'qemu+tcp://', 'qemu+tls://', 'qemu://'] as const;

/** The endpoint prefixes each provider type accepts. */
export const ENDPOINT_SCHEMES: Readonly<Record<ProviderType, readonly string[]>> = {
  vsphere: ['https://'],
  proxmox: ['https://'],
  libvirt: LIBVIRT_SCHEMES,
  qemu: LIBVIRT_SCHEMES,
  firecracker: ['https://', 'http://', 'tcp://', 'grpc://'],
  // The simulated hypervisor of tests and the local demo; its state lives on the bus.
  mock: ['mock://'],
};

/** Endpoints a message shows as examples of what would be accepted. */
export const ENDPOINT_EXAMPLES: Readonly<Record<ProviderType, string>> = {
  vsphere: 'https://vcenter.example.com/sdk',
  proxmox: 'https://pve.example.com:8006',
  libvirt: 'qemu+ssh://user@kvm.example.com/system, qemu+tcp://kvm.example.com/system, qemu+tls://kvm.example.com/system or qemu:///system',
  qemu: 'qemu+ssh://user@kvm.example.com/system or qemu:///system',
  firecracker: 'https://fc-agent.example.com:8443',
  mock: 'mock://local',
};

export const MESSAGE_SCHEME = (endpoint: string, type: ProviderType): string =>
  `endpoint ${endpoint} does not fit a ${type} provider, which takes ${joinOr(ENDPOINT_SCHEMES[type].map((s) => `${s}…`))}: e.g. ${ENDPOINT_EXAMPLES[type]}`;

const validateEndpointScheme: Validator<Provider> = ({ operation, object }) => {
  if (operation !== 'CREATE' && operation !== 'UPDATE') return allowed();
  const { endpoint, type } = object.spec;
  const schemes = ENDPOINT_SCHEMES[type];
  if (!schemes || schemes.some((s) => endpoint.startsWith(s))) return allowed();
  return result({ errors: [errors.notSupported(newPath('spec', 'endpoint'), MESSAGE_SCHEME(endpoint, type))] });
};

/** Every Provider rule: endpoint scheme, name, credential Secret namespace, not deleted while in use. */
export const validateProvider: Validator<Provider> = combineValidators(
  ratcheted(validateEndpointScheme), validateProviderName, validateProviderSecretNamespace, validateProviderNotInUse,
);
