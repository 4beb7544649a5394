/**
 * Command ids, also the Nats-Msg-Id: deterministic from the VM's uid, the dispatch sequence
 * (status.lastCommand.sequence + 1), the generation and the desired-state hash.
 *
 * - A dispatcher that published and crashed before recording it computes the same id again, so
 *   JetStream's duplicate window drops the republish.
 * - Every real new dispatch has a new sequence, so going back to an earlier desired state
 *   (A → B → A) is a new id and is never mistaken for a duplicate.
 */

export type Operation = 'Reconcile' | 'Delete';

export interface CommandIdParts {
  uid: string;
  operation: Operation;
  sequence: number;
  generation: number;
  hash: string;
}

export function commandId(p: CommandIdParts): string {
  const op = p.operation === 'Delete' ? 'd' : 'r';
  return `${p.uid}-${op}${p.sequence}-g${p.generation}-${p.hash.slice(0, 12)}`;
}

/** The hash recorded for a delete command (it carries no desired state). */
export const DELETE_HASH = 'delete';
