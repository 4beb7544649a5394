// Preloaded with NODE_OPTIONS=--require: on SIGUSR2 the process collects garbage (through its own
// inspector session, no --expose-gc needed) and writes process.memoryUsage() to $VR_MEM_REPORT, so a
// benchmark can tell live memory from garbage V8 has not collected yet (RSS alone mixes the two).
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');

const out = process.env.VR_MEM_REPORT;
if (out) {
  const session = new Session();
  session.connect();
  process.on('SIGUSR2', () => {
    session.post('HeapProfiler.collectGarbage', () => {
      writeFileSync(out, JSON.stringify(process.memoryUsage()));
    });
  });
}
