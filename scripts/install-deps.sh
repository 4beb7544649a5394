#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine, idempotently:
#   Debian packages (openssl, curl), npm packages (npm ci), and the pinned control-plane
#   binaries built from the Go module proxy (cached outside the clone by version).
. "$(dirname "$0")/lib/common.sh"

APT_PACKAGES=(openssl curl ca-certificates)

apt_install() {
  local missing=()
  local p; for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  vr_log "installing Debian packages: ${missing[*]}"
  local sudo=; [[ $(id -u) -eq 0 ]] || sudo=sudo
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

check_node() {
  vr_need_cmd node "Node.js 20.19+ (https://nodejs.org); this machine image ships it"
  vr_need_cmd npm "npm (comes with Node.js)"
  local v; v=$(node -p 'process.versions.node')
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
    vr_die "Node.js $v is too old; VirtRigaud needs 20.19 or newer"
}

npm_install() {
  cd "$VR_ROOT"
  # node_modules/.package-lock.json is npm's record of the last install: reinstall only when the lock changed.
  if [[ -f node_modules/.package-lock.json && node_modules/.package-lock.json -nt package-lock.json ]]; then return 0; fi
  vr_log "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
}

apt_install "${APT_PACKAGES[@]}"
check_node
vr_need_cmd go "the Go toolchain (https://go.dev/doc/install); this machine image ships it"
npm_install
bash "$VR_ROOT/scripts/build-binaries.sh"
bash "$VR_ROOT/scripts/fetch-crds.sh"
bash "$VR_ROOT/scripts/install-libvirt.sh"
