/** Disks have unique names and, on UPDATE, may grow but never shrink. */
import type { FieldError } from '../../framework/types.ts';
import { ruleErrors } from '../rule-names.ts';
import { result } from '../shared/result.ts';
import type { VMSpecRule } from './vm-spec-context.ts';

const unique = ruleErrors('disk-names-unique');
const noShrink = ruleErrors('disk-no-shrink');

export const MESSAGE_DISK_DUPLICATE = (name: string, first: number): string =>
  `disk name ${name} is already used by disks[${first}]: give each disk its own name`;

export const MESSAGE_DISK_SHRINK = (name: string, was: number, now: number): string =>
  `disk ${name} would shrink from ${was} GiB to ${now} GiB, which would lose its data: use ${was} GiB or more`;

export const validateDiskNames: VMSpecRule = (ctx) => {
  const seen = new Map<string, number>();
  const found: FieldError[] = [];
  (ctx.spec.disks ?? []).forEach((disk, i) => {
    const first = seen.get(disk.name);
    if (first === undefined) seen.set(disk.name, i);
    else found.push(unique.duplicate(ctx.path.child('disks').index(i).child('name'), MESSAGE_DISK_DUPLICATE(disk.name, first)));
  });
  return result({ errors: found });
};

export const validateDiskGrowth: VMSpecRule = (ctx) => {
  if (ctx.operation !== 'UPDATE' || !ctx.oldSpec) return result({});
  const before = new Map((ctx.oldSpec.disks ?? []).map((d) => [d.name, d.sizeGiB] as const));
  const found: FieldError[] = [];
  (ctx.spec.disks ?? []).forEach((disk, i) => {
    const was = before.get(disk.name);
    if (was !== undefined && disk.sizeGiB < was) {
      found.push(noShrink.invalid(ctx.path.child('disks').index(i).child('sizeGiB'), MESSAGE_DISK_SHRINK(disk.name, was, disk.sizeGiB)));
    }
  });
  return result({ errors: found });
};
