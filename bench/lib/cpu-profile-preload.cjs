// Preloaded with NODE_OPTIONS=--require (where --cpu-prof is not allowed): records a V8 CPU profile
// of the process and writes it to $VR_CPU_PROF_DIR/<pid>.cpuprofile when the process exits
// (open it in Chrome DevTools or speedscope). The inspector session runs on the same thread, so
// stopping it inside the 'exit' handler completes synchronously.
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const dir = process.env.VR_CPU_PROF_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 500 });
  session.post('Profiler.start');
  process.on('exit', () => {
    session.post('Profiler.stop', (err, result) => {
      if (!err) writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
