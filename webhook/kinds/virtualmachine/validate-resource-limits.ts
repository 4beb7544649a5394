/**
 * spec.resources overrides stay within the class's resourceLimits. Only memory can be compared:
 * the class's cpuLimit and cpuReservation are MHz, which a vCPU count cannot be checked against
 * without the host's clock, and resourceLimits has no GPU field.
 */
import type { FieldError } from '../../framework/types.ts';
import { ruleErrors } from '../rule-names.ts';
import { formatMiB, quantityToMiB } from '../shared/quantity.ts';
import { describeObject } from '../shared/refs.ts';
import { result } from '../shared/result.ts';
import type { VMSpecRule } from './vm-spec-context.ts';

const errors = ruleErrors('class-resource-limits');

export const MESSAGE_MEMORY_OVER_LIMIT = (memoryMiB: number, className: string, limit: string | number, limitMiB: number): string =>
  `memoryMiB ${memoryMiB} exceeds ${className}'s resourceLimits.memoryLimit ${limit} (= ${formatMiB(limitMiB)}): use at most ${Math.floor(limitMiB)}`;

export const MESSAGE_MEMORY_UNDER_RESERVATION = (memoryMiB: number, className: string, reservation: string | number, reservationMiB: number): string =>
  `memoryMiB ${memoryMiB} is below ${className}'s resourceLimits.memoryReservation ${reservation} (= ${formatMiB(reservationMiB)}), `
  + `and a VM cannot reserve more memory than it has: use at least ${Math.ceil(reservationMiB)}`;

export const validateResourceLimits: VMSpecRule = (ctx) => {
  const vmClass = ctx.refs.vmClass;
  const memoryMiB = ctx.spec.resources?.memoryMiB;
  const limits = vmClass?.spec.resourceLimits;
  if (!vmClass || memoryMiB === undefined || !limits) return result({});
  const className = describeObject('VMClass', ctx.refs.classRef.namespace, ctx.refs.classRef.name);
  const path = ctx.path.child('resources', 'memoryMiB');
  const found: FieldError[] = [];
  const limitMiB = quantityToMiB(limits.memoryLimit);
  if (limits.memoryLimit !== undefined && limitMiB !== undefined && memoryMiB > limitMiB) {
    found.push(errors.invalid(path, MESSAGE_MEMORY_OVER_LIMIT(memoryMiB, className, limits.memoryLimit, limitMiB)));
  }
  const reservationMiB = quantityToMiB(limits.memoryReservation);
  if (limits.memoryReservation !== undefined && reservationMiB !== undefined && memoryMiB < reservationMiB) {
    found.push(errors.invalid(path, MESSAGE_MEMORY_UNDER_RESERVATION(memoryMiB, className, limits.memoryReservation, reservationMiB)));
  }
  return result({ errors: found });
};
