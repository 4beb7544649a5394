import { validateVMClass } from '../../../webhook/kinds/vmclass/validate-vmclass.ts';
import { ruleTable } from '../../support/admission-asserts.ts';
import { anInMemoryLookup, aVirtualMachine, aVMClass } from '../../support/builders.ts';

describe('VMClass: secure boot and TPM need UEFI (security-needs-uefi)', () => {
  ruleTable(validateVMClass, [
    {
      name: 'denies secure boot on BIOS firmware, at spec.securityProfile.secureBoot',
      object: aVMClass({ spec: { firmware: 'BIOS', securityProfile: { secureBoot: true } } }),
      denied: [{ field: 'spec.securityProfile.secureBoot', rule: 'security-needs-uefi', type: 'FieldValueForbidden' }],
      message: /secure boot needs UEFI firmware, but spec\.firmware is BIOS: set spec\.firmware to UEFI, or turn off securityProfile\.secureBoot/,
    },
    {
      name: 'denies a TPM with firmware left unset (BIOS by default)',
      object: aVMClass({ spec: { firmware: undefined, securityProfile: { tpmEnabled: true } } }),
      denied: [{ field: 'spec.securityProfile.tpmEnabled', rule: 'security-needs-uefi' }],
    },
    {
      name: 'allows secure boot and a TPM on UEFI',
      object: aVMClass({ spec: { firmware: 'UEFI', securityProfile: { secureBoot: true, tpmEnabled: true } } }),
    },
    {
      name: 'allows BIOS without secure boot or TPM (the upstream example class)',
      object: aVMClass({ spec: { firmware: 'BIOS', securityProfile: { secureBoot: false, tpmEnabled: false } } }),
    },
  ]);
});

describe('VMClass: resourceLimits agree with each other and the memory (class-resource-limits)', () => {
  ruleTable(validateVMClass, [
    {
      name: 'allows memory between the reservation and the limit',
      object: aVMClass({ spec: { memory: '4Gi', resourceLimits: { memoryReservation: '2Gi', memoryLimit: '8Gi', cpuReservation: 1000, cpuLimit: 2000 } } }),
    },
    {
      name: 'denies a memoryReservation above the memory',
      object: aVMClass({ spec: { memory: '4Gi', resourceLimits: { memoryReservation: '6Gi' } } }),
      denied: [{ field: 'spec.resourceLimits.memoryReservation', rule: 'class-resource-limits', type: 'FieldValueInvalid' }],
      message: /use at most 4Gi/,
    },
    {
      name: 'denies a memoryLimit below the memory, comparing units (4096Mi < 8Gi)',
      object: aVMClass({ spec: { memory: '8Gi', resourceLimits: { memoryLimit: '4096Mi' } } }),
      denied: [{ field: 'spec.resourceLimits.memoryLimit', rule: 'class-resource-limits' }],
    },
    {
      name: 'denies a cpuReservation above the cpuLimit',
      object: aVMClass({ spec: { resourceLimits: { cpuReservation: 3000, cpuLimit: 2000 } } }),
      denied: [{ field: 'spec.resourceLimits.cpuReservation', rule: 'class-resource-limits' }],
      message: /cpuReservation 3000 MHz is above cpuLimit 2000 MHz: use at most 2000/,
    },
  ]);
});

describe('VMClass: not deleted while VMs use it (class-in-use)', () => {
  const users = ['g', 'a', 'f', 'c', 'b', 'e', 'd'].map((name) => aVirtualMachine({ metadata: { name } }));
  const leaving = aVirtualMachine({ metadata: { name: 'z', deletionTimestamp: '2026-01-01T00:00:00Z' } });
  const otherClass = aVirtualMachine({ metadata: { name: 'y' }, spec: { classRef: { name: 'large' } } });
  const otherNamespace = aVirtualMachine({ metadata: { name: 'x', namespace: 'other' } });
  ruleTable(validateVMClass, [
    {
      name: 'denies deleting a class 7 VMs use, naming five of them',
      operation: 'DELETE',
      object: aVMClass(),
      lookup: anInMemoryLookup({ vms: users }),
      denied: [{ field: 'metadata.name', rule: 'class-in-use', type: 'FieldValueForbidden' }],
      message: /^VMClass default\/small is used by 7 VMs: a, b, c, d, e and 2 more; move them to another class or delete them first$/,
    },
    {
      name: 'denies deleting a class one VM uses, naming it',
      operation: 'DELETE',
      object: aVMClass(),
      lookup: anInMemoryLookup({ vms: [users[0]!] }),
      denied: [{ field: 'metadata.name', rule: 'class-in-use' }],
      message: /used by 1 VM: g;/,
    },
    {
      name: 'allows deleting a class used only by VMs being deleted, of other classes or namespaces',
      operation: 'DELETE',
      object: aVMClass(),
      lookup: anInMemoryLookup({ vms: [leaving, otherClass, otherNamespace] }),
    },
    {
      name: 'counts a VM that names the class with an explicit namespace',
      operation: 'DELETE',
      object: aVMClass(),
      lookup: anInMemoryLookup({ vms: [aVirtualMachine({ metadata: { name: 'w' }, spec: { classRef: { name: 'small', namespace: 'default' } } })] }),
      denied: [{ field: 'metadata.name', rule: 'class-in-use' }],
    },
  ]);
});
