// Mocha's spec reporter, ending with the one line CI reads: "N passed, N failed".
const Mocha = require('mocha');

class SummaryReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      // Registered after the spec reporter's own epilogue, so this line comes last.
      console.log(`${runner.stats.passes} passed, ${runner.stats.failures} failed`);
    });
  }
}

module.exports = SummaryReporter;
