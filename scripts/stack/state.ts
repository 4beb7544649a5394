/** The record of a running local stack (.local/stack/state.json), shared by up and down. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isAlive } from './processes.ts';

export const STACK_DIR = join(new URL('../..', import.meta.url).pathname, '.local/stack');

export interface StackState {
  server: string;
  kubeconfig: string;
  pids: Array<{ name: string; pid: number }>;
}

export function readStackState(): StackState | undefined {
  const file = join(STACK_DIR, 'state.json');
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as StackState;
}

export function stackRunning(state: StackState): boolean {
  return state.pids.some(({ pid }) => isAlive(pid));
}
