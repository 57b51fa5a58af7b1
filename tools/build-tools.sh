#!/usr/bin/env bash
# Builds the binaries the hermetic e2e needs from Go modules (Go module proxy only),
# into a cache outside the repo, and prints the PATH to use them:
#
#   eval "$(tools/build-tools.sh)"            # build what is missing, export PATH
#   tools/build-tools.sh pulumi etcd          # only some tools
#   tools/build-tools.sh --list               # show tools, versions and where they come from
#
# Tools: pulumi, pulumi-language-nodejs, pulumi-resource-kubernetes, kube-apiserver,
#        kube-controller-manager, kubectl, kubelet, kube-scheduler, kube-proxy, etcd,
#        vela-core, kratix, pipeline-adapter, ack-dynamodb-controller, vela-cue, gofakes3,
#        source-controller, kustomize-controller, actionlint, pulumi-language-yaml, helm.
#        Default set: pulumi, pulumi-language-nodejs, pulumi-resource-kubernetes,
#        kube-apiserver, etcd (name the others to get them).
#   tools/build-tools.sh --crds-dir          # the upstream CRDs (and vela-core's chart), from their sources
# vela-core (KubeVela's controller) is the upstream command; vela-cue is our own small CLI
# over KubeVela's CUE engine (the tests' authority on the definitions); both come from one
# wrapper module, so the packages they share are compiled once. Kratix (manager and
# pipeline-adapter), ACK's DynamoDB controller and Pulumi's Node.js language host come from
# the exact upstream trees in ../shared/upstream-src (KDDB_UPSTREAM_SRC), which the module
# proxy refuses: each tree is copied outside the repo and built there with its own go.mod.
# Each one is taken from PATH when a binary of that name is already there (a normal
# install), unless KDDB_TOOLS_IGNORE_PATH=1. Otherwise it is built once into
#   ${KDDB_CACHE_DIR:-$HOME/.cache/kratix-dynamodb}/tools/<group>-<version>/bin
# from the wrapper modules in tools/go/<group>/ (copied to .../src first, so builds
# never touch the work tree). A build is redone when the wrapper files or the build
# settings change (a .stamp file records them); --force rebuilds anyway.
#
# Progress goes to stderr; stdout carries only the `export PATH=...` line.
# Needs Go >= 1.26 (on PATH or /usr/local/go/bin). Uses the usual GOMODCACHE/GOCACHE.
set -euo pipefail

# ---- versions -----------------------------------------------------------------
# pulumi/pkg v3.259.0 is the newest pkg version whose module zip the proxy serves
# here (v3.260.0+ are refused), so the CLI is one minor line behind the npm SDK.
PULUMI_VERSION=v3.259.0
# The provider module has no provider/v4.x tags; this pseudo-version (2026-01-15,
# just before the v4.25.0 release) is the one the proxy serves.
K8S_PROVIDER_MODVERSION=v4.0.0-20260115033456-f47bc2d6f199
K8S_PROVIDER_VERSION=4.25.0-alpha.20260115033456
KUBERNETES_VERSION=v1.36.3
ETCD_VERSION=v3.6.16
# The only exact version of KubeVela the proxy serves (its version list is refused).
KUBEVELA_VERSION=v1.10.9
CONTROLLERS_VERSION="kv${KUBEVELA_VERSION#v}"
# gofakes3 is the local state store (an S3 stand-in).
GOFAKES3_VERSION=v1.2.0
# Exact upstream trees (../shared/upstream-src/README.md has their provenance):
# - Kratix at the commit whose image digest the product pins (core/install/versions.ts);
# - ACK's DynamoDB controller at the chart version the product pins;
# - Pulumi's Node.js language host at the CLI's version (its module is refused by the proxy;
#   its go.mod points pkg/v3 and sdk/v3 at monorepo paths, which are swapped for the served
#   modules at PULUMI_VERSION).
UPSTREAM_SRC="${KDDB_UPSTREAM_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/shared/upstream-src}"
KRATIX_TREE=kratix-224e148
KRATIX_VERSION=224e148
ACK_TREE=ack-dynamodb-controller-v1.9.2
ACK_VERSION=v1.9.2
ACK_COMMIT=8f8c351cbd2b81083f062da34dd16f7e867c95e8
ACK_BUILD_DATE=2026-07-07T00:00:00Z
PULUMI_NODEJS_TREE=pulumi-language-nodejs-v3.259.0
# helm renders ACK's chart for the local environment (the controller's service account and
# RBAC); the version the Kubernetes provider renders charts with (tools/go/helm/go.mod).
HELM_VERSION=v3.18.6
# Flux v2.9.3's controllers: the newest Flux release whose whole dependency closure the
# proxy serves (v1.10.x need Go 1.27 and modules the proxy refuses; source-controller
# v1.9.4+ needs fluxcd/pkg/artifact v0.18.2+, refused). tools/go/flux/go.mod pins them.
FLUX_VERSION=v2.9.3
FLUX_SOURCE_CONTROLLER=v1.9.3
FLUX_KUSTOMIZE_CONTROLLER=v1.9.4
# actionlint checks .github/workflows/ in test/ci/workflows.test.ts; v1.7.12 is the newest
# version the proxy serves (v1.7.13+ are refused).
ACTIONLINT_VERSION=v1.7.12
# pulumi-language-yaml runs the YAML program that uses the component package
# (test/e2e/yaml-package.test.ts). v1.32.0 is the newest pulumi-yaml the proxy serves here
# (v1.33.0+ are refused); it keeps its own pulumi/pkg v3.230.0: pkg v3.259.0 changed the
# plugin API it calls (NewContextWithRoot), so it cannot share the CLI's pkg version.
PULUMI_YAML_VERSION=v1.32.0

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WRAPPERS="$ROOT/go"
CACHE="${KDDB_CACHE_DIR:-$HOME/.cache/kratix-dynamodb}/tools"

log() { printf '[build-tools] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# tool -> group, group -> version
group_of() {
  case "$1" in
    pulumi) echo pulumi ;;
    pulumi-language-nodejs) echo pulumi-nodejs ;;
    pulumi-resource-kubernetes) echo pulumi-resource-kubernetes ;;
    kube-apiserver|kube-controller-manager|kubectl|kubelet|kube-scheduler|kube-proxy) echo kubernetes ;;
    etcd) echo etcd ;;
    vela-core|vela-cue) echo controllers ;;
    kratix|pipeline-adapter) echo kratix ;;
    ack-dynamodb-controller) echo ack ;;
    helm) echo helm ;;
    gofakes3) echo gofakes3 ;;
    source-controller|kustomize-controller) echo flux ;;
    actionlint) echo actionlint ;;
    pulumi-language-yaml) echo pulumi-yaml ;;
    *) die "unknown tool: $1" ;;
  esac
}
version_of() {
  case "$1" in
    pulumi|pulumi-nodejs) echo "$PULUMI_VERSION" ;;
    pulumi-resource-kubernetes) echo "v$K8S_PROVIDER_VERSION" ;;
    kubernetes) echo "$KUBERNETES_VERSION" ;;
    etcd) echo "$ETCD_VERSION" ;;
    controllers) echo "$CONTROLLERS_VERSION" ;;
    kratix) echo "$KRATIX_VERSION" ;;
    ack) echo "$ACK_VERSION" ;;
    helm) echo "$HELM_VERSION" ;;
    gofakes3) echo "$GOFAKES3_VERSION" ;;
    flux) echo "$FLUX_VERSION" ;;
    actionlint) echo "$ACTIONLINT_VERSION" ;;
    pulumi-yaml) echo "$PULUMI_YAML_VERSION" ;;
  esac
}
# The upstream tree a group is built from (empty: a wrapper module in tools/go/<group>).
tree_of() {
  case "$1" in
    kratix) echo "$KRATIX_TREE" ;;
    ack) echo "$ACK_TREE" ;;
    pulumi-nodejs) echo "$PULUMI_NODEJS_TREE" ;;
  esac
}
bindir_of() { local g; g="$(group_of "$1")"; echo "$CACHE/$g-$(version_of "$g")/bin"; }

# ---- arguments ------------------------------------------------------------------
FORCE=0 LIST=0 CRDS=0 TOOLS=()
for a in "$@"; do
  case "$a" in
    --force) FORCE=1 ;;
    --list) LIST=1 ;;
    --crds-dir) CRDS=1 ;;
    -h|--help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $a" ;;
    *) group_of "$a" >/dev/null; TOOLS+=("$a") ;;
  esac
done
[ ${#TOOLS[@]} -gt 0 ] || TOOLS=(pulumi pulumi-language-nodejs pulumi-resource-kubernetes kube-apiserver etcd)

# Where a tool comes from: "path:<file>" (ambient install) or "cache:<file>".
ours() { case "$1" in "$CACHE"/*) return 0 ;; *) return 1 ;; esac; }
locate() {
  local t="$1" p
  if [ "${KDDB_TOOLS_IGNORE_PATH:-0}" != 1 ] && p="$(command -v "$t" 2>/dev/null)" && ! ours "$p"; then
    echo "path:$p"
  else
    echo "cache:$(bindir_of "$t")/$t"
  fi
}

if [ "$LIST" = 1 ]; then
  for t in "${TOOLS[@]}"; do
    src="$(locate "$t")"; f="${src#*:}"
    state=missing; [ -x "$f" ] && state=present
    printf '%-28s %-32s %-6s %s (%s)\n' "$t" "$(version_of "$(group_of "$t")")" "${src%%:*}" "$f" "$state" >&2
  done
  exit 0
fi

# ---- Go environment -----------------------------------------------------------------
setup_go() {
  [ -n "${GO:-}" ] && return 0
  local cand v maj rest min
  for cand in "$(command -v go || true)" /usr/local/go/bin/go; do
    [ -n "$cand" ] && [ -x "$cand" ] || continue
    v="$(GOTOOLCHAIN=local "$cand" env GOVERSION 2>/dev/null)"; v="${v#go}"
    maj="${v%%.*}" rest="${v#*.}"; min="${rest%%.*}"
    if [ "${maj:-0}" -gt 1 ] || [ "${min:-0}" -ge 26 ]; then GO="$cand"; break; fi
  done
  [ -n "${GO:-}" ] || die "need Go >= 1.26 (on PATH or in /usr/local/go/bin)"
  export GOFLAGS=-mod=mod CGO_ENABLED=0 GOTOOLCHAIN=local
  # The checksum database is not reachable from every machine that reaches the proxy.
  if [ -z "${GOSUMDB:-}" ] || [ "$GOSUMDB" = sum.golang.org ]; then
    if ! curl -fsS --max-time 5 -o /dev/null https://sum.golang.org/latest 2>/dev/null; then
      export GOSUMDB=off
      log "sum.golang.org unreachable: GOSUMDB=off (go.sum in tools/go/* still pins hashes)"
    fi
  fi
}

# Stamp = hash of wrapper files (an upstream tree: its name, go.mod and go.sum; the trees are
# exact tags, never edited) + build settings; a change forces a rebuild.
stamp_of() { # group extra...
  local g="$1" tree; shift
  tree="$(tree_of "$g")"
  { if [ -n "$tree" ]; then
      echo "$tree"; (cd "$UPSTREAM_SRC/$tree" && sha256sum go.mod go.sum)
    else
      (cd "$WRAPPERS/$g" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) \
        ! -name '*-embed.json' | LC_ALL=C sort | xargs sha256sum)
    fi
    printf '%s\n' "$@"; } | sha256sum | cut -d' ' -f1
}

# Copy the wrapper (or the upstream tree) to <prefix>/src, outside the repo and outside
# ../shared (read-only in CI); go may update go.mod/go.sum there.
stage_src() {
  local g="$1" prefix="$2" from tree
  tree="$(tree_of "$g")"
  if [ -n "$tree" ]; then
    from="$UPSTREAM_SRC/$tree"
    [ -f "$from/go.mod" ] || die "no upstream tree $from (../shared/upstream-src beside the clone, or KDDB_UPSTREAM_SRC)"
  else
    from="$WRAPPERS/$g"
  fi
  rm -rf "$prefix/src"; mkdir -p "$prefix/src" "$prefix/bin"
  cp -R "$from/." "$prefix/src/"
  chmod -R u+w "$prefix/src"
}

go_build() { # dir out pkg [extra go build args...]
  local dir="$1" out="$2" pkg="$3"; shift 3
  (cd "$dir" && "$GO" build -trimpath "$@" -o "$out" "$pkg")
}

BUILT_GROUPS=" "
build_group() { # group tool...   (builds the listed tools of one group)
  local g="$1"; shift
  local ver; ver="$(version_of "$g")"
  local prefix="$CACHE/$g-$ver"
  local settings=("$ver" "$(uname -m)" "$K8S_PROVIDER_VERSION" "$K8S_PROVIDER_MODVERSION")
  [ "$g" = controllers ] && settings+=("$KUBEVELA_VERSION")
  [ "$g" = ack ] && settings+=("$ACK_COMMIT" "$ACK_BUILD_DATE")
  local stamp; stamp="$(stamp_of "$g" "${settings[@]}")"
  # One build of a group at a time (two test files, or a test and ./dev local, may ask at
  # once; they would share and wipe its src dir): the second waits, then finds it built.
  mkdir -p "$CACHE"
  local lock
  exec {lock}>"$CACHE/.lock-$g"
  flock "$lock"
  local todo=() t
  for t in "$@"; do
    if [ "$FORCE" = 1 ] || [ ! -x "$prefix/bin/$t" ] || [ "$(cat "$prefix/.stamp-$t" 2>/dev/null)" != "$stamp" ]; then
      todo+=("$t")
    fi
  done
  if [ ${#todo[@]} -eq 0 ]; then exec {lock}>&-; return 0; fi
  set -- "${todo[@]}"
  setup_go
  log "building $* ($g $ver) into $prefix/bin ..."
  stage_src "$g" "$prefix"
  local src="$prefix/src" start
  case "$g" in
    pulumi)
      local vflag="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$ver"
      for t in "$@"; do
        start=$SECONDS
        case "$t" in
          pulumi) go_build "$src" "$prefix/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
                    -tags osusergo,grpcnotrace -ldflags "-s -w $vflag" ;;
        esac
        log "  $t: $((SECONDS - start))s, $(du -h "$prefix/bin/$t" | cut -f1)"
      done ;;
    pulumi-nodejs)
      start=$SECONDS
      (cd "$src" && "$GO" mod edit -dropreplace=github.com/pulumi/pulumi/pkg/v3 -dropreplace=github.com/pulumi/pulumi/sdk/v3 \
         "-require=github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" "-require=github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION")
      go_build "$src" "$prefix/bin/pulumi-language-nodejs" . \
        -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$ver"
      log "  pulumi-language-nodejs: $((SECONDS - start))s, $(du -h "$prefix/bin/pulumi-language-nodejs" | cut -f1)" ;;
    kratix)
      for t in "$@"; do
        start=$SECONDS
        case "$t" in
          # As its Dockerfile: the manager from cmd/, the pipeline adapter from work-creator/.
          kratix) go_build "$src" "$prefix/bin/kratix" ./cmd -ldflags "-s -w" ;;
          pipeline-adapter) go_build "$src" "$prefix/bin/pipeline-adapter" ./work-creator -ldflags "-s -w" ;;
        esac
        log "  $t: $((SECONDS - start))s, $(du -h "$prefix/bin/$t" | cut -f1)"
      done ;;
    ack)
      start=$SECONDS
      # The stamps its Makefile sets (main.version, buildHash, buildDate), from the tag.
      go_build "$src" "$prefix/bin/ack-dynamodb-controller" ./cmd/controller -ldflags \
        "-s -w -X main.version=$ACK_VERSION -X main.buildHash=$ACK_COMMIT -X main.buildDate=$ACK_BUILD_DATE"
      log "  ack-dynamodb-controller: $((SECONDS - start))s, $(du -h "$prefix/bin/ack-dynamodb-controller" | cut -f1)" ;;
    helm)
      start=$SECONDS
      go_build "$src" "$prefix/bin/helm" helm.sh/helm/v3/cmd/helm -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$ver"
      log "  helm: $((SECONDS - start))s, $(du -h "$prefix/bin/helm" | cut -f1)" ;;
    pulumi-resource-kubernetes)
      start=$SECONDS
      (cd "$src" && "$GO" mod download github.com/pulumi/pulumi-kubernetes/provider/v4)
      local modsrc
      modsrc="$(cd "$src" && "$GO" list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)/cmd/pulumi-resource-kubernetes"
      (cd "$src" && "$GO" run prepare.go "$modsrc" "$K8S_PROVIDER_VERSION")
      go_build "$src" "$prefix/bin/pulumi-resource-kubernetes" . -ldflags \
        "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$K8S_PROVIDER_VERSION"
      log "  pulumi-resource-kubernetes: $((SECONDS - start))s, $(du -h "$prefix/bin/pulumi-resource-kubernetes" | cut -f1)" ;;
    kubernetes)
      local v="${ver#v}" date
      date="$(cd "$src" && "$GO" list -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes 2>/dev/null || true)"
      local ld="-s -w" p
      for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        ld+=" -X $p.gitVersion=$ver -X $p.gitMajor=${v%%.*} -X $p.gitMinor=$(echo "$v" | cut -d. -f2)"
        ld+=" -X $p.gitTreeState=clean -X $p.gitCommit=module-$ver"
        [ -n "$date" ] && ld+=" -X $p.buildDate=$date"
      done
      for t in "$@"; do
        start=$SECONDS
        go_build "$src" "$prefix/bin/$t" "k8s.io/kubernetes/cmd/$t" -ldflags "$ld"
        log "  $t: $((SECONDS - start))s, $(du -h "$prefix/bin/$t" | cut -f1)"
      done ;;
    etcd)
      start=$SECONDS
      go_build "$src" "$prefix/bin/etcd" go.etcd.io/etcd/server/v3 \
        -ldflags "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=module-$ver"
      log "  etcd: $((SECONDS - start))s, $(du -h "$prefix/bin/etcd" | cut -f1)" ;;
    controllers)
      for t in "$@"; do
        start=$SECONDS
        case "$t" in
          vela-core) go_build "$src" "$prefix/bin/vela-core" github.com/oam-dev/kubevela/cmd/core -ldflags \
                       "-s -w -X github.com/oam-dev/kubevela/version.VelaVersion=$KUBEVELA_VERSION -X github.com/oam-dev/kubevela/version.GitRevision=module-$KUBEVELA_VERSION" ;;
          vela-cue) go_build "$src" "$prefix/bin/vela-cue" ./cmd/vela-cue -ldflags "-s -w" ;;
        esac
        log "  $t: $((SECONDS - start))s, $(du -h "$prefix/bin/$t" | cut -f1)"
      done ;;
    gofakes3)
      start=$SECONDS
      go_build "$src" "$prefix/bin/gofakes3" github.com/johannesboyne/gofakes3/cmd/gofakes3 -ldflags "-s -w"
      log "  gofakes3: $((SECONDS - start))s, $(du -h "$prefix/bin/gofakes3" | cut -f1)" ;;
    flux)
      for t in "$@"; do
        start=$SECONDS
        go_build "$src" "$prefix/bin/$t" "github.com/fluxcd/$t" -ldflags "-s -w"
        log "  $t: $((SECONDS - start))s, $(du -h "$prefix/bin/$t" | cut -f1)"
      done ;;
    actionlint)
      start=$SECONDS
      go_build "$src" "$prefix/bin/actionlint" github.com/rhysd/actionlint/cmd/actionlint \
        -ldflags "-s -w -X github.com/rhysd/actionlint.version=$ver"
      log "  actionlint: $((SECONDS - start))s, $(du -h "$prefix/bin/actionlint" | cut -f1)" ;;
    pulumi-yaml)
      start=$SECONDS
      go_build "$src" "$prefix/bin/pulumi-language-yaml" github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml \
        -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=$ver"
      log "  pulumi-language-yaml: $((SECONDS - start))s, $(du -h "$prefix/bin/pulumi-language-yaml" | cut -f1)" ;;
  esac
  for t in "$@"; do echo "$stamp" > "$prefix/.stamp-$t"; done
  exec {lock}>&-
}

# KubeVela's, Kratix's, Flux's and ACK's CRDs, copied from the sources the controllers are
# built from (module sources; Kratix's config/crd/bases and ACK's helm/crds from their upstream
# trees) into the cache; prints the folder (kubevela/, kratix/, flux/, ack/).
module_dir() { # module@version
  "$GO" mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'
}
crds_dir() {
  # The CRDs the tests validate against, and vela-core's chart (test/render/vela-core-chart.test.ts).
  local dir="$CACHE/crds-$CONTROLLERS_VERSION-kx$KRATIX_VERSION-fx${FLUX_VERSION#v}-ack${ACK_VERSION#v}-charts"
  if [ ! -f "$dir/.done" ]; then
    setup_go
    local kv kx fs fk ack
    kv="$(module_dir "github.com/oam-dev/kubevela@$KUBEVELA_VERSION")"
    kx="$UPSTREAM_SRC/$KRATIX_TREE"
    ack="$UPSTREAM_SRC/$ACK_TREE"
    fs="$(module_dir "github.com/fluxcd/source-controller@$FLUX_SOURCE_CONTROLLER")"
    fk="$(module_dir "github.com/fluxcd/kustomize-controller@$FLUX_KUSTOMIZE_CONTROLLER")"
    [ -d "$kv/charts/vela-core/crds" ] && [ -d "$kx/config/crd/bases" ] || die "module sources of KubeVela or Kratix not found"
    [ -d "$fs/config/crd/bases" ] && [ -d "$fk/config/crd/bases" ] || die "module sources of Flux's controllers not found"
    [ -d "$ack/helm/crds" ] || die "ACK's CRDs not found in $ack/helm/crds"
    rm -rf "$dir"; mkdir -p "$dir/kubevela" "$dir/kratix" "$dir/flux" "$dir/ack" "$dir/charts"
    cp "$kv"/charts/vela-core/crds/*.yaml "$dir/kubevela/"
    cp -r "$kv/charts/vela-core" "$dir/charts/"
    cp "$kx"/config/crd/bases/*.yaml "$dir/kratix/"
    cp "$ack"/helm/crds/*.yaml "$dir/ack/"
    cp "$fs"/config/crd/bases/*.yaml "$fk"/config/crd/bases/*.yaml "$dir/flux/"
    chmod -R u+w "$dir"
    touch "$dir/.done"
  fi
  echo "$dir"
}
if [ "$CRDS" = 1 ]; then crds_dir; exit 0; fi

# ---- main -------------------------------------------------------------------------------
declare -A WANT=()
DIRS=()
for t in "${TOOLS[@]}"; do
  src="$(locate "$t")"
  if [ "${src%%:*}" = path ]; then
    log "$t: using ${src#path:} from PATH"
    continue
  fi
  g="$(group_of "$t")"
  WANT[$g]="${WANT[$g]:-} $t"
done
# One group at a time by default (KDDB_BUILD_JOBS=1): the groups share many packages, which
# a serial build compiles once into the Go build cache. Two at a time was measured slower
# cold on 2 cores (docs/benchmarks.md): each pair took longer than both in turn.
JOBS="${KDDB_BUILD_JOBS:-1}"
declare -A BUILDING=()
failed=0
for g in pulumi pulumi-nodejs pulumi-resource-kubernetes kubernetes etcd controllers kratix ack helm gofakes3 flux actionlint pulumi-yaml; do
  [ -n "${WANT[$g]:-}" ] || continue
  while [ "${#BUILDING[@]}" -ge "$JOBS" ]; do
    wait -n -p done_pid || { log "ERROR: building ${BUILDING[$done_pid]} failed"; failed=1; }
    unset "BUILDING[$done_pid]"
  done
  # shellcheck disable=SC2086
  build_group "$g" ${WANT[$g]} &
  BUILDING[$!]="$g"
  d="$CACHE/$g-$(version_of "$g")/bin"
  case ":$PATH:" in *":$d:"*) ;; *) DIRS+=("$d") ;; esac
done
while [ "${#BUILDING[@]}" -gt 0 ]; do
  wait -n -p done_pid || { log "ERROR: building ${BUILDING[$done_pid]} failed"; failed=1; }
  unset "BUILDING[$done_pid]"
done
[ "$failed" = 0 ] || die "some tools failed to build"
if [ ${#DIRS[@]} -gt 0 ]; then
  printf 'export PATH="%s:$PATH"\n' "$(IFS=:; echo "${DIRS[*]}")"
fi
