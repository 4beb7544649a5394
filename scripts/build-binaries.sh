#!/usr/bin/env bash
# Builds the control-plane binaries the local stack and the tests run, from pinned versions
# (scripts/versions.env), caching them outside the clone. Idempotent: a cached build costs nothing.
#   kube-apiserver, kube-controller-manager, kubectl  <- k8s.io/kubernetes $KUBERNETES_VERSION
#   etcd                                               <- go.etcd.io/etcd/server/v3 $ETCD_VERSION
#   nats-server (JetStream; Debian's 2.9 is too old)   <- github.com/nats-io/nats-server/v2 $NATS_SERVER_VERSION
#   vcsim (vSphere simulator for the vSphere agent's tests) <- github.com/vmware/govmomi $GOVMOMI_VERSION
. "$(dirname "$0")/lib/common.sh"
. "$VR_ROOT/scripts/lib/go-build.sh"

build_kubernetes() {
  local v=$KUBERNETES_VERSION staging_v="v0.${KUBERNETES_VERSION#v1.}"
  local gomod; gomod=$(curl -fsSL "${GOPROXY_URL:-https://proxy.golang.org}/k8s.io/kubernetes/@v/$v.mod") ||
    vr_die "cannot read k8s.io/kubernetes $v's go.mod from the Go module proxy"
  # k8s.io/kubernetes replaces its ~30 staging modules with ./staging paths; a consumer must pin
  # each to the published v0.X.Y instead.
  local replaces
  replaces=$(sed -n 's#^[[:space:]]*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\t\1 => \1 '"$staging_v"'#p' <<<"$gomod")
  [[ -n "$replaces" ]] || vr_die "found no staging replace lines in k8s.io/kubernetes $v's go.mod"
  local minor=${v#v1.}; minor=${minor%%.*}
  local pkg=k8s.io/component-base/version
  local ldflags="-s -w -X $pkg.gitVersion=$v -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$v -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
  vr_go_throwaway_build kubernetes "$v" "require k8s.io/kubernetes $v

replace (
$replaces
)" "$ldflags" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    k8s.io/kubernetes/cmd/kubectl
}

build_etcd() {
  vr_go_throwaway_build etcd "$ETCD_VERSION" "require go.etcd.io/etcd/server/v3 $ETCD_VERSION" \
    "-s -w" go.etcd.io/etcd/server/v3
  local out="$VR_CACHE/bin/etcd-$ETCD_VERSION"
  # `go build` names the binary after the package path's last element ("server").
  [[ -x "$out/etcd" ]] || mv "$out/server" "$out/etcd"
}

build_nats() {
  vr_go_throwaway_build nats-server "$NATS_SERVER_VERSION" "require github.com/nats-io/nats-server/v2 $NATS_SERVER_VERSION" \
    "-s -w" github.com/nats-io/nats-server/v2
  local out="$VR_CACHE/bin/nats-server-$NATS_SERVER_VERSION"
  [[ -x "$out/nats-server" ]] || mv "$out/v2" "$out/nats-server"
}

build_vcsim() {
  # Since govmomi 0.47 vcsim is its own module with a replace directive and no published tags, so
  # neither `go install …/vcsim@latest` nor a throwaway module can build a newer one; 0.46.3 is the
  # last release where vcsim is a package of github.com/vmware/govmomi.
  vr_go_throwaway_build vcsim "$GOVMOMI_VERSION" "require github.com/vmware/govmomi $GOVMOMI_VERSION" \
    "-s -w" github.com/vmware/govmomi/vcsim
  # `go mod tidy -e` silently falls back to another govmomi (v0.18.0) when the package is missing
  # from the pinned one: refuse such a binary instead of caching it.
  local bin="$VR_CACHE/bin/vcsim-$GOVMOMI_VERSION/vcsim"
  if ! go version -m "$bin" | grep -q "github.com/vmware/govmomi[[:space:]]*$GOVMOMI_VERSION"; then
    rm -rf "$VR_CACHE/bin/vcsim-$GOVMOMI_VERSION"
    vr_die "vcsim was not built from govmomi $GOVMOMI_VERSION (vcsim left the govmomi module in 0.47); pin GOVMOMI_VERSION<=v0.46.3"
  fi
}

build_etcd
build_nats
build_vcsim
build_kubernetes
