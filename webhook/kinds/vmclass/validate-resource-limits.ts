/**
 * A VMClass's resourceLimits agree with each other and with its memory: a reservation no larger
 * than the limit, the memory within [reservation, limit] (a VM cannot reserve more memory than it
 * has, and VMs check their memoryMiB overrides against the same limit).
 */
import type { VMClass } from '../../../api/objects.ts';
import { newPath } from '../../framework/field-path.ts';
import type { FieldError, Validator } from '../../framework/types.ts';
import { ruleErrors } from '../rule-names.ts';
import { quantityToMiB } from '../shared/quantity.ts';
import { allowed, result } from '../shared/result.ts';

const errors = ruleErrors('class-resource-limits');
const LIMITS = newPath('spec', 'resourceLimits');

export const MESSAGE_RESERVATION_OVER_MEMORY = (reservation: string | number, memory: string | number): string =>
  `memoryReservation ${reservation} is more than spec.memory ${memory}, and a VM cannot reserve more memory than it has: use at most ${memory}`;
export const MESSAGE_LIMIT_UNDER_MEMORY = (limit: string | number, memory: string | number): string =>
  `memoryLimit ${limit} is below spec.memory ${memory}: use at least ${memory}, or lower spec.memory`;
export const MESSAGE_LIMIT_UNDER_RESERVATION = (limit: string | number, reservation: string | number): string =>
  `memoryLimit ${limit} is below memoryReservation ${reservation}: use at least ${reservation}`;
export const MESSAGE_CPU_RESERVATION_OVER_LIMIT = (reservation: number, limit: number): string =>
  `cpuReservation ${reservation} MHz is above cpuLimit ${limit} MHz: use at most ${limit}`;

export const validateClassResourceLimits: Validator<VMClass> = ({ operation, object }) => {
  const limits = object.spec.resourceLimits;
  if ((operation !== 'CREATE' && operation !== 'UPDATE') || !limits) return allowed();
  const memory = quantityToMiB(object.spec.memory);
  const limit = quantityToMiB(limits.memoryLimit);
  const reservation = quantityToMiB(limits.memoryReservation);
  const found: FieldError[] = [];
  if (limits.memoryReservation !== undefined && reservation !== undefined && memory !== undefined && reservation > memory) {
    found.push(errors.invalid(LIMITS.child('memoryReservation'), MESSAGE_RESERVATION_OVER_MEMORY(limits.memoryReservation, object.spec.memory)));
  }
  if (limits.memoryLimit !== undefined && limit !== undefined) {
    if (memory !== undefined && limit < memory) {
      found.push(errors.invalid(LIMITS.child('memoryLimit'), MESSAGE_LIMIT_UNDER_MEMORY(limits.memoryLimit, object.spec.memory)));
    } else if (limits.memoryReservation !== undefined && reservation !== undefined && limit < reservation) {
      found.push(errors.invalid(LIMITS.child('memoryLimit'), MESSAGE_LIMIT_UNDER_RESERVATION(limits.memoryLimit, limits.memoryReservation)));
    }
  }
  if (limits.cpuReservation !== undefined && limits.cpuLimit !== undefined && limits.cpuReservation > limits.cpuLimit) {
    found.push(errors.invalid(LIMITS.child('cpuReservation'), MESSAGE_CPU_RESERVATION_OVER_LIMIT(limits.cpuReservation, limits.cpuLimit)));
  }
  return result({ errors: found });
};
