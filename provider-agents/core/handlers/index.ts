/** The handler of each operation. Export and import of disks come with the migration issue. */
import type { OpName } from '../decode.ts';
import { NotSupportedError } from '../errors.ts';
import { cloneVm } from './clone.ts';
import type { CommandHandler } from './context.ts';
import { deleteVm } from './delete.ts';
import { reconcile } from './reconcile.ts';
import { snapshotCreate, snapshotDelete, snapshotRevert } from './snapshot.ts';

const notYet = (op: string): CommandHandler => async (c) => {
  throw new NotSupportedError(op, c.driver.type);
};

export const HANDLERS: Readonly<Record<OpName, CommandHandler>> = {
  reconcile,
  delete: deleteVm,
  snapshotCreate,
  snapshotRevert,
  snapshotDelete,
  clone: cloneVm,
  exportDisk: notYet('exportDisk'),
  importDisk: notYet('importDisk'),
};

export type { CommandContext, CommandHandler } from './context.ts';
export { powerMatches } from './reconcile.ts';
