import assert from 'node:assert/strict';
import {
  capabilitiesOf, isSupported, normalizeFirmware, PROVIDER_CAPABILITIES, PROVIDER_TYPES, providerTypesSupporting,
  type CapabilityRequest, type ProviderType,
} from '../../../api/capabilities.ts';
import { ProviderSpec } from '../../../api/kinds/provider.ts';

describe('api/capabilities', () => {
  it('has a row for every provider type of the Provider CRD enum, and no other', () => {
    const enumValues = (ProviderSpec.properties.type as unknown as { enum: string[] }).enum;
    assert.deepEqual([...PROVIDER_TYPES].sort(), [...enumValues].sort());
  });

  const facts: Array<{ name: string; type: ProviderType; request: CapabilityRequest; supported: boolean }> = [
    { name: 'vSphere supports secure boot', type: 'vsphere', request: { kind: 'feature', feature: 'secureBoot' }, supported: true },
    { name: 'vSphere supports eagerzeroedthick disks', type: 'vsphere', request: { kind: 'diskType', diskType: 'eagerzeroedthick' }, supported: true },
    { name: 'vSphere makes instant clones', type: 'vsphere', request: { kind: 'feature', feature: 'instantClones' }, supported: true },
    { name: 'libvirt boots UEFI through OVMF', type: 'libvirt', request: { kind: 'firmware', firmware: 'UEFI' }, supported: true },
    { name: 'libvirt has a TPM through swtpm', type: 'libvirt', request: { kind: 'feature', feature: 'tpm' }, supported: true },
    { name: 'libvirt makes linked clones from qcow2 backing files', type: 'libvirt', request: { kind: 'feature', feature: 'linkedClones' }, supported: true },
    { name: 'libvirt has no eagerzeroedthick (a VMFS mode)', type: 'libvirt', request: { kind: 'diskType', diskType: 'eagerzeroedthick' }, supported: false },
    { name: 'libvirt leaves ssd/hdd to the storage pool', type: 'libvirt', request: { kind: 'diskType', diskType: 'ssd' }, supported: false },
    { name: 'Proxmox emulates SSDs per disk', type: 'proxmox', request: { kind: 'diskType', diskType: 'ssd' }, supported: true },
    { name: 'Proxmox passes GPUs through', type: 'proxmox', request: { kind: 'feature', feature: 'gpu' }, supported: true },
    { name: 'Proxmox snapshots memory (vmstate)', type: 'proxmox', request: { kind: 'feature', feature: 'memorySnapshots' }, supported: true },
    { name: 'Proxmox has no NVMe disk bus', type: 'proxmox', request: { kind: 'diskType', diskType: 'nvme' }, supported: false },
    { name: 'Firecracker has no UEFI', type: 'firecracker', request: { kind: 'firmware', firmware: 'UEFI' }, supported: false },
    { name: 'Firecracker has no PCI passthrough', type: 'firecracker', request: { kind: 'feature', feature: 'gpu' }, supported: false },
  ];
  for (const f of facts) it(f.name, () => assert.equal(isSupported(f.type, f.request), f.supported));

  it('vSphere supports everything the table knows', () => {
    const caps = capabilitiesOf('vsphere');
    const booleans = Object.entries(caps).filter(([, v]) => typeof v === 'boolean');
    assert.ok(booleans.every(([, v]) => v === true), JSON.stringify(caps));
    assert.equal(caps.linkedClones, 'any');
  });

  it('Proxmox makes linked clones from templates only', () => assert.equal(PROVIDER_CAPABILITIES.proxmox.linkedClones, 'templates'));

  it('lists the provider types supporting a request, in table order', () => {
    assert.deepEqual(providerTypesSupporting({ kind: 'diskType', diskType: 'eagerzeroedthick' }), ['vsphere']);
    assert.deepEqual(providerTypesSupporting({ kind: 'feature', feature: 'instantClones' }), ['vsphere']);
  });

  const firmware: Array<[string | undefined, string]> = [[undefined, 'BIOS'], ['BIOS', 'BIOS'], ['UEFI', 'UEFI'], ['EFI', 'UEFI']];
  for (const [given, want] of firmware) it(`reads firmware ${String(given)} as ${want}`, () => assert.equal(normalizeFirmware(given), want));
});
