#!/usr/bin/env bash
# Stops the local system that scripts/up.sh started.
. "$(dirname "$0")/lib/common.sh"
cd "$VR_ROOT" && exec npx tsx scripts/down.ts
