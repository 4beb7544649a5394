# Shared shell helpers for the project's scripts. Source it; do not run it.
set -euo pipefail

VR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Built binaries live outside the clone so a fresh clone (CI) reuses them.
VR_CACHE=${VIRTRIGAUD_CACHE:-$HOME/.cache/virtrigaud}
# shellcheck source=../versions.env
. "$VR_ROOT/scripts/versions.env"

vr_log() { printf '[virtrigaud %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
vr_die() { printf '[virtrigaud] error: %s\n' "$*" >&2; exit 1; }

# vr_need_cmd CMD HOW: fail with the command that installs CMD.
vr_need_cmd() {
  command -v "$1" >/dev/null 2>&1 || vr_die "'$1' is missing; install it with: $2"
}
