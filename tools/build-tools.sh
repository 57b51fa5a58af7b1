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
#        vela-core, kratix, work-creator, vela-cue, yq, gofakes3, source-controller,
#        kustomize-controller, actionlint, pulumi-language-yaml.
#        Default set: pulumi, pulumi-language-nodejs, pulumi-resource-kubernetes,
#        kube-apiserver, etcd (name the others to get them).
#   tools/build-tools.sh --crds-dir          # KubeVela's and Kratix's CRDs, from their module sources
# vela-core (KubeVela's controller) and kratix (Kratix's platform controller) are the
# upstream commands; vela-cue is our own small CLI over KubeVela's CUE engine (the
# tests' authority on the definitions). All three come from one wrapper module, so
# the packages they share are compiled once.
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
# The only exact versions the proxy serves (their version lists are refused). Kratix's
# chart runs a newer image than v0.125.0: docs/decisions.md says what that skew means.
KUBEVELA_VERSION=v1.10.9
KRATIX_VERSION=v0.125.0
CONTROLLERS_VERSION="kv${KUBEVELA_VERSION#v}-kx${KRATIX_VERSION#v}"
# yq goes into Kratix's pipeline-adapter image; gofakes3 is the local S3 stand-in.
YQ_VERSION=v4.54.3
GOFAKES3_VERSION=v1.2.0
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
    pulumi|pulumi-language-nodejs) echo pulumi ;;
    pulumi-resource-kubernetes) echo pulumi-resource-kubernetes ;;
    kube-apiserver|kube-controller-manager|kubectl|kubelet|kube-scheduler|kube-proxy) echo kubernetes ;;
    etcd) echo etcd ;;
    vela-core|kratix|work-creator|vela-cue) echo controllers ;;
    yq) echo yq ;;
    gofakes3) echo gofakes3 ;;
    source-controller|kustomize-controller) echo flux ;;
    actionlint) echo actionlint ;;
    pulumi-language-yaml) echo pulumi-yaml ;;
    *) die "unknown tool: $1" ;;
  esac
}
version_of() {
  case "$1" in
    pulumi) echo "$PULUMI_VERSION" ;;
    pulumi-resource-kubernetes) echo "v$K8S_PROVIDER_VERSION" ;;
    kubernetes) echo "$KUBERNETES_VERSION" ;;
    etcd) echo "$ETCD_VERSION" ;;
    controllers) echo "$CONTROLLERS_VERSION" ;;
    yq) echo "$YQ_VERSION" ;;
    gofakes3) echo "$GOFAKES3_VERSION" ;;
    flux) echo "$FLUX_VERSION" ;;
    actionlint) echo "$ACTIONLINT_VERSION" ;;
    pulumi-yaml) echo "$PULUMI_YAML_VERSION" ;;
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

# Stamp = hash of wrapper files + build settings; a change forces a rebuild.
stamp_of() { # group extra...
  local g="$1"; shift
  { (cd "$WRAPPERS/$g" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) \
        ! -name '*-embed.json' | LC_ALL=C sort | xargs sha256sum)
    printf '%s\n' "$@"; } | sha256sum | cut -d' ' -f1
}

# Copy the wrapper to <prefix>/src (outside the repo); go may update go.mod/go.sum there.
stage_src() {
  local g="$1" prefix="$2"
  rm -rf "$prefix/src"; mkdir -p "$prefix/src" "$prefix/bin"
  cp -R "$WRAPPERS/$g/." "$prefix/src/"
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
  [ "$g" = controllers ] && settings+=("$KUBEVELA_VERSION" "$KRATIX_VERSION")
  local stamp; stamp="$(stamp_of "$g" "${settings[@]}")"
  local todo=() t
  for t in "$@"; do
    if [ "$FORCE" = 1 ] || [ ! -x "$prefix/bin/$t" ] || [ "$(cat "$prefix/.stamp-$t" 2>/dev/null)" != "$stamp" ]; then
      todo+=("$t")
    fi
  done
  [ ${#todo[@]} -gt 0 ] || return 0
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
          pulumi-language-nodejs) go_build "$src" "$prefix/bin/pulumi-language-nodejs" ./cmd/pulumi-language-nodejs \
                    -ldflags "-s -w $vflag" ;;
        esac
        log "  $t: $((SECONDS - start))s, $(du -h "$prefix/bin/$t" | cut -f1)"
      done ;;
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
          kratix) go_build "$src" "$prefix/bin/kratix" github.com/syntasso/kratix -ldflags "-s -w" ;;
          work-creator) go_build "$src" "$prefix/bin/work-creator" github.com/syntasso/kratix/work-creator/pipeline/cmd -ldflags "-s -w" ;;
          vela-cue) go_build "$src" "$prefix/bin/vela-cue" ./cmd/vela-cue -ldflags "-s -w" ;;
        esac
        log "  $t: $((SECONDS - start))s, $(du -h "$prefix/bin/$t" | cut -f1)"
      done ;;
    yq)
      start=$SECONDS
      go_build "$src" "$prefix/bin/yq" github.com/mikefarah/yq/v4 -ldflags "-s -w"
      log "  yq: $((SECONDS - start))s, $(du -h "$prefix/bin/yq" | cut -f1)" ;;
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
}

# KubeVela's, Kratix's and Flux's CRDs, copied from their module sources (the versions the
# controllers are built from) into the cache; prints the folder (kubevela/, kratix/, flux/).
module_dir() { # module@version
  "$GO" mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'
}
crds_dir() {
  local dir="$CACHE/crds-$CONTROLLERS_VERSION-fx${FLUX_VERSION#v}"
  if [ ! -f "$dir/.done" ]; then
    setup_go
    local kv kx fs fk
    kv="$(module_dir "github.com/oam-dev/kubevela@$KUBEVELA_VERSION")"
    kx="$(module_dir "github.com/syntasso/kratix@$KRATIX_VERSION")"
    fs="$(module_dir "github.com/fluxcd/source-controller@$FLUX_SOURCE_CONTROLLER")"
    fk="$(module_dir "github.com/fluxcd/kustomize-controller@$FLUX_KUSTOMIZE_CONTROLLER")"
    [ -d "$kv/charts/vela-core/crds" ] && [ -d "$kx/config/crd/bases" ] || die "module sources of KubeVela or Kratix not found"
    [ -d "$fs/config/crd/bases" ] && [ -d "$fk/config/crd/bases" ] || die "module sources of Flux's controllers not found"
    rm -rf "$dir"; mkdir -p "$dir/kubevela" "$dir/kratix" "$dir/flux"
    cp "$kv"/charts/vela-core/crds/*.yaml "$dir/kubevela/"
    cp "$kx"/config/crd/bases/*.yaml "$dir/kratix/"
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
for g in pulumi pulumi-resource-kubernetes kubernetes etcd controllers yq gofakes3 flux actionlint pulumi-yaml; do
  [ -n "${WANT[$g]:-}" ] || continue
  # shellcheck disable=SC2086
  build_group "$g" ${WANT[$g]}
  d="$CACHE/$g-$(version_of "$g")/bin"
  case ":$PATH:" in *":$d:"*) ;; *) DIRS+=("$d") ;; esac
done
if [ ${#DIRS[@]} -gt 0 ]; then
  printf 'export PATH="%s:$PATH"\n' "$(IFS=:; echo "${DIRS[*]}")"
fi
