import { validateProvider } from '../../../webhook/kinds/provider/validate-endpoint.ts';
import { ruleTable, type RuleCase } from '../../support/admission-asserts.ts';
import { aProvider } from '../../support/builders.ts';
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
