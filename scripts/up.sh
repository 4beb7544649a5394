#!/usr/bin/env bash
# Brings the whole local system up and shows it working (installs what it needs first).
. "$(dirname "$0")/lib/common.sh"
bash "$VR_ROOT/scripts/install-deps.sh"
cd "$VR_ROOT" && exec npx tsx scripts/up.ts "$@"
