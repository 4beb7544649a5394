import { validateProvider } from '../../../webhook/kinds/provider/validate-endpoint.ts';
import { ruleTable, type RuleCase } from '../../support/admission-asserts.ts';
import { anInMemoryLookup, aProvider, aVirtualMachine } from '../../support/builders.ts';
import type { Provider } from '../../../api/objects.ts';
import type { ProviderType } from '../../../api/capabilities.ts';

const accepted: Array<[ProviderType, string]> = [
  ['libvirt', 'qemu+ssh://root@kvm.example.com/system'],
  ['libvirt', 'qemu+tcp://libvirt.example.com/system'],
  ['libvirt', 'qemu+tls://kvm.example.com:16514/system'],
  ['libvirt', 'qemu:///system'],
  ['libvirt', 'qemu://kvm.example.com/system'],
  ['vsphere', 'https://vcenter.example.com/sdk'],
  ['proxmox', 'https://172.16.56.190:8006'],
];
const refused: Array<[ProviderType, string, RegExp]> = [
  ['libvirt', 'https://kvm.example.com/', /which takes qemu\+ssh:\/\/…, qemu\+tcp:\/\/…, qemu\+tls:\/\/… or qemu:\/\/…/],
  ['vsphere', 'http://vcenter.example.com/sdk', /takes https:\/\/…: e\.g\. https:\/\/vcenter\.example\.com\/sdk/],
  ['vsphere', 'qemu:///system', /vsphere provider/],
  ['proxmox', 'tcp://pve.example.com:8006', /e\.g\. https:\/\/pve\.example\.com:8006/],
];

describe("Provider: the endpoint scheme fits the provider's type (provider-endpoint-scheme)", () => {
  const cases: RuleCase<Provider>[] = [
    ...accepted.map(([type, endpoint]): RuleCase<Provider> => ({
      name: `allows a ${type} endpoint ${endpoint}`,
      object: aProvider({ spec: { type, endpoint } }),
    })),
    ...refused.map(([type, endpoint, message]): RuleCase<Provider> => ({
      name: `denies a ${type} endpoint ${endpoint}`,
      object: aProvider({ spec: { type, endpoint } }),
      denied: [{ field: 'spec.endpoint', rule: 'provider-endpoint-scheme', type: 'FieldValueNotSupported' }],
      message,
    })),
  ];
  ruleTable(validateProvider, cases);
});

describe('Provider: a name its agent objects and bus subjects can carry (provider-name)', () => {
  ruleTable(validateProvider, [
    { name: 'allows a DNS label of 57 characters', object: aProvider({ metadata: { name: `a${'b'.repeat(56)}` } }) },
    {
      name: 'denies 58 characters, which cannot name the Service <name>-agent',
      object: aProvider({ metadata: { name: `a${'b'.repeat(57)}` } }),
      denied: [{ field: 'metadata.name', rule: 'provider-name', type: 'FieldValueInvalid' }],
      message: /at most 57 characters .*has 58$/,
    },
    {
      name: 'denies a dotted name (a NATS subject token cannot hold a dot)',
      object: aProvider({ metadata: { name: 'vcenter.prod' } }),
      denied: [{ field: 'metadata.name', rule: 'provider-name' }],
      message: /no dots/,
    },
    {
      name: 'denies a name starting with a digit (not a Service name)',
      object: aProvider({ metadata: { name: '1vcenter' } }),
      denied: [{ field: 'metadata.name', rule: 'provider-name' }],
    },
    {
      name: 'leaves an existing Provider with such a name updatable (names cannot change)',
      operation: 'UPDATE',
      object: aProvider({ metadata: { name: 'vcenter.prod' } }),
      oldObject: aProvider({ metadata: { name: 'vcenter.prod' } }),
    },
  ]);
});

describe("Provider: the credential Secret is in the Provider's namespace (provider-credentials-namespace)", () => {
  ruleTable(validateProvider, [
    { name: 'allows no namespace', object: aProvider() },
    { name: 'allows its own namespace spelled out', object: aProvider({ spec: { credentialSecretRef: { name: 'vsphere-creds', namespace: 'default' } } }) },
    {
      name: 'denies another namespace, saying where to copy the Secret',
      object: aProvider({ spec: { credentialSecretRef: { name: 'vsphere-creds', namespace: 'secrets' } } }),
      denied: [{ field: 'spec.credentialSecretRef.namespace', rule: 'provider-credentials-namespace', type: 'FieldValueForbidden' }],
      message: /must be in the Provider's namespace default .* not secrets: copy the Secret to default/,
    },
  ]);
});

describe('Provider: not deleted while VMs use it (provider-in-use)', () => {
  const users = ['b', 'a'].map((name) => aVirtualMachine({ metadata: { name }, spec: { providerRef: { name: 'vsphere-prod' } } }));
  const leaving = aVirtualMachine({ metadata: { name: 'z', deletionTimestamp: '2026-01-01T00:00:00Z' }, spec: { providerRef: { name: 'vsphere-prod' } } });
  const other = aVirtualMachine({ metadata: { name: 'y' }, spec: { providerRef: { name: 'kvm' } } });
  ruleTable(validateProvider, [
    {
      name: 'denies deleting a Provider two VMs use, naming them',
      operation: 'DELETE',
      object: aProvider(),
      lookup: anInMemoryLookup({ vms: users }),
      denied: [{ field: 'metadata.name', rule: 'provider-in-use', type: 'FieldValueForbidden' }],
      message: /^Provider default\/vsphere-prod is used by 2 VMs: a and b; delete them \(or move them with a VMMigration\) first$/,
    },
    {
      name: 'allows deleting a Provider used only by VMs being deleted or by none',
      operation: 'DELETE',
      object: aProvider(),
      lookup: anInMemoryLookup({ vms: [leaving, other] }),
    },
  ]);
});
