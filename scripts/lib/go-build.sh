# Builds Go commands from the Go module proxy inside a throwaway module, caching the
# result by version under $VR_CACHE/bin. Source after common.sh.

# vr_go_throwaway_build NAME VERSION GOMOD_BODY LDFLAGS PKG...
#   Writes a go.mod with GOMOD_BODY into a scratch dir, resolves it, and builds each PKG
#   into $VR_CACHE/bin/NAME-VERSION/. A marker file makes a finished build idempotent.
vr_go_throwaway_build() {
  local name=$1 version=$2 gomod_body=$3 ldflags=$4; shift 4
  local out="$VR_CACHE/bin/$name-$version"
  if [[ -f "$out/.complete" ]]; then return 0; fi
  vr_need_cmd go "the Go toolchain (https://go.dev/doc/install); this machine image ships it"
  local work; work=$(mktemp -d "${TMPDIR:-/tmp}/vr-build-$name.XXXXXX")
  mkdir -p "$out"
  printf 'module virtrigaud.local/build/%s\n\ngo 1.26\n\n%s\n' "$name" "$gomod_body" >"$work/go.mod"
  printf 'package tools\n\nimport (\n' >"$work/tools.go"
  local p; for p in "$@"; do printf '\t_ "%s"\n' "$p" >>"$work/tools.go"; done
  printf ')\n' >>"$work/tools.go"
  vr_log "building $name $version from the Go module proxy (cold: several minutes; cached in $out)"
  local started=$SECONDS
  ( while sleep 60; do vr_log "  still building $name ($((SECONDS - started))s)"; done ) &
  local ticker=$!
  local status=0
  (
    cd "$work"
    export GOFLAGS=-mod=mod CGO_ENABLED=0
    # tools.go imports main packages, which Go refuses to compile but lets `mod tidy` resolve.
    go mod tidy -e >/dev/null
    rm tools.go
    go build -trimpath -ldflags "$ldflags" -o "$out/" "$@"
  ) || status=$?
  kill "$ticker" 2>/dev/null || true
  wait "$ticker" 2>/dev/null || true
  # A failed build leaves neither a scratch dir nor a half-filled cache entry.
  rm -rf "$work"
  if [[ $status -ne 0 ]]; then
    rm -rf "$out"
    vr_die "building $name $version failed (see the go output above); rerun: bash scripts/build-binaries.sh"
  fi
  touch "$out/.complete"
  vr_log "built $name $version in $((SECONDS - started))s"
}
