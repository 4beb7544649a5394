/** Shapes shared by the status mutations, decide and the status writer. */
import type { VirtualMachineStatus } from '../../api/kinds/virtual-machine.ts';
import type { ConditionUpdate } from './conditions.ts';

export type VMStatus = VirtualMachineStatus;
export type VMPhase = NonNullable<VMStatus['phase']>;
export type VMPowerState = NonNullable<VMStatus['powerState']>;
/** What status.lastCommand records about the last command published for a VM. */
export type LastCommand = NonNullable<VMStatus['lastCommand']>;

/** What a reconcile wants the status to say (written once, through the status writer). */
export interface StatusIntent {
  phase?: VMPhase;
  conditions: ConditionUpdate[];
  /** Replaces status.lastCommand. */
  lastCommand?: LastCommand;
  message?: string;
}

/** The newer of two records of the last command (by dispatch sequence; `b` on a tie). */
export function newestCommand(a: LastCommand | undefined, b: LastCommand | undefined): LastCommand | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.sequence >= a.sequence ? b : a;
}
