#!/usr/bin/env bash
# The Debian packages the local cluster's node needs (tools/local-cluster.sh start-node):
# containerd and runc (the container runtime; crun cannot run on this kind of machine's
# hybrid cgroups), the CNI plugins (bridge, host-local), iptables and conntrack (kube-proxy),
# iproute2 (the pod bridge). Installs only what is missing; needs root.
# tools/build-images.sh installs its own (buildah, gcc, busybox-static).
set -euo pipefail
PACKAGES=(containerd runc containernetworking-plugins iptables conntrack iproute2)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
[ "$(id -u)" = 0 ] || { echo "install-node-packages: need root for apt-get install ${missing[*]}" >&2; exit 1; }
echo "[install-node-packages] apt-get install ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 ||
  { apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${missing[@]}" >&2; }
