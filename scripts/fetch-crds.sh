#!/usr/bin/env bash
# Fetches the CRDs of the third-party kinds the kustomize overlays use (cert-manager Certificate
# and Issuer, KEDA ScaledObject and TriggerAuthentication, Prometheus Operator ServiceMonitor) from
# those projects' sources on the Go module proxy, at the versions pinned in scripts/versions.env,
# into $VR_CACHE/crds/<project>-<version>/. The tests install them into the test apiserver so the
# overlays are validated against the real schemas. Idempotent: a cached version costs nothing.
. "$(dirname "$0")/lib/common.sh"

# fetch_crds NAME MODULE VERSION DIR-IN-MODULE FILE...
fetch_crds() {
  local name=$1 module=$2 version=$3 dir=$4; shift 4
  local out="$VR_CACHE/crds/$name-$version"
  if [[ -f "$out/.complete" ]]; then return 0; fi
  vr_need_cmd go "the Go toolchain (https://go.dev/doc/install); this machine image ships it"
  vr_log "fetching $name $version CRDs from the Go module proxy ($module)"
  local src
  # Outside any module, `go mod download` fetches module@version into the module cache.
  src=$(cd "${TMPDIR:-/tmp}" && GOFLAGS=-mod=mod go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -n "$src" && -d "$src/$dir" ]] || vr_die "could not download $module@$version (or it has no $dir)"
  rm -rf "$out" && mkdir -p "$out"
  local f; for f in "$@"; do
    [[ -f "$src/$dir/$f" ]] || { rm -rf "$out"; vr_die "$module@$version has no $dir/$f"; }
    cp "$src/$dir/$f" "$out/$f"
  done
  chmod -R u+w "$out"
  touch "$out/.complete"
}

fetch_crds cert-manager github.com/cert-manager/cert-manager "$CERT_MANAGER_VERSION" deploy/crds \
  cert-manager.io_certificates.yaml cert-manager.io_issuers.yaml
fetch_crds keda github.com/kedacore/keda/v2 "$KEDA_VERSION" config/crd/bases \
  keda.sh_scaledobjects.yaml keda.sh_triggerauthentications.yaml
fetch_crds prometheus-operator github.com/prometheus-operator/prometheus-operator "$PROMETHEUS_OPERATOR_VERSION" example/prometheus-operator-crd \
  monitoring.coreos.com_servicemonitors.yaml monitoring.coreos.com_podmonitors.yaml
