/** Default spec.powerState to On when the user leaves it unset. */
import type { VirtualMachineSpec } from '../../../api/kinds/virtual-machine.ts';
import type { VirtualMachine } from '../../../api/objects.ts';
import type { Mutator, Operation } from '../../framework/types.ts';
import { isRecord } from '../shared/shape.ts';

export const DEFAULT_POWER_STATE = 'On';

/** Mutators run on writes only. */
export function isWrite(operation: Operation): boolean {
  return operation === 'CREATE' || operation === 'UPDATE';
}

/** Sets powerState On when unset; never changes a set value. */
export function defaultSpecPowerState(spec: VirtualMachineSpec | undefined): boolean {
  if (!isRecord(spec) || spec.powerState !== undefined) return false;
  spec.powerState = DEFAULT_POWER_STATE;
  return true;
}

export const defaultPowerState: Mutator<VirtualMachine> = ({ operation, object }) =>
  isWrite(operation) && defaultSpecPowerState(object.spec);
