// Preloaded with NODE_OPTIONS=--require: on SIGUSR2 the process collects garbage (through its own
// inspector session, no --expose-gc needed) and writes process.memoryUsage() to $VR_MEM_REPORT, so a
// benchmark can tell live memory from garbage V8 has not collected yet (RSS alone mixes the two).
// With $VR_HEAP_SNAPSHOT_DIR set it also writes a heap snapshot there (for Chrome DevTools).
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { writeHeapSnapshot, getHeapSpaceStatistics } = require('node:v8');
const { join } = require('node:path');

const out = process.env.VR_MEM_REPORT;
if (out) {
  const session = new Session();
  session.connect();
  process.on('SIGUSR2', () => {
    session.post('HeapProfiler.collectGarbage', () => {
      const spaces = Object.fromEntries(getHeapSpaceStatistics().map((s) => [s.space_name, s.space_used_size]));
      writeFileSync(out, JSON.stringify({ ...process.memoryUsage(), spaces }));
      const dir = process.env.VR_HEAP_SNAPSHOT_DIR;
      if (dir) writeHeapSnapshot(join(dir, `dispatcher-${process.pid}.heapsnapshot`));
    });
  });
}
