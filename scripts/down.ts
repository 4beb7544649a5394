/** `bash scripts/down.sh`: stops the local stack that `up` started and removes its state. */
import { rmSync } from 'node:fs';
import { stopPid } from './stack/processes.ts';
import { STACK_DIR, readStackState } from './stack/state.ts';

const state = readStackState();
if (!state) {
  console.log('[virtrigaud down] nothing is running');
} else {
  for (const { name, pid } of [...state.pids].reverse()) {
    await stopPid(pid);
    console.log(`[virtrigaud down] stopped ${name} (pid ${pid})`);
  }
}
rmSync(STACK_DIR, { recursive: true, force: true });
