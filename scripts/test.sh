#!/usr/bin/env bash
# The whole test suite: installs what it needs, typechecks, then runs every mocha test against
# real servers. The last line is mocha's count: "N passed, N failed".
. "$(dirname "$0")/lib/common.sh"
bash "$VR_ROOT/scripts/install-deps.sh"
cd "$VR_ROOT"
vr_log "typechecking"
if ! npx tsc --noEmit -p tsconfig.json; then
  echo "0 passed, 1 failed"
  exit 1
fi
vr_log "running tests"
exec npx mocha --reporter ./test/support/summary-reporter.cjs 'test/**/*.test.ts'
