#!/usr/bin/env bash
# A throwaway Kubernetes cluster on this machine for ./dev local and the hermetic e2e:
# etcd + kube-apiserver (+ kube-controller-manager), and on request the controllers, a
# node and the state store with Flux.
#
#   tools/local-cluster.sh start DIR   # start, wait for /readyz, write DIR/kubeconfig
#   tools/local-cluster.sh env DIR     # print: export KUBECONFIG=DIR/kubeconfig
#   tools/local-cluster.sh stop DIR    # stop everything started in DIR and remove DIR
#   tools/local-cluster.sh start-controllers DIR   # vela-core and kratix against it (CRDs applied first)
#   tools/local-cluster.sh start-node DIR   # a node: containerd + runc + CNI bridge, kubelet,
#                                      # kube-scheduler, kube-proxy; images from tools/build-images.sh
#   tools/local-cluster.sh start-delivery DIR   # the state store (gofakes3 on 127.0.0.1:19000)
#                                      # and Flux's source- and kustomize-controller
#   tools/local-cluster.sh kill NAME DIR / restart NAME DIR   # fault injection: any process with a
#                                      # DIR/NAME.cmd (kube-apiserver, vela-core, kratix, kubelet, ...)
#                                      # killed with SIGKILL, relaunched with the same command line
#
# Binaries come from PATH or are built by tools/build-tools.sh (cached outside the repo).
# Auth: generated bearer tokens (DIR/tokens.csv): "admin" in system:masters (DIR/kubeconfig),
# and the names production gives the parts the platform's admission guards look for, each
# with its kubeconfig: kube-controller-manager as system:kube-controller-manager with
# --use-service-account-credentials (each controller as its own kube-system service account,
# as kubeadm and EKS run it), the kubelet as system:node:<node> in system:nodes (Node
# authorizer), Kratix's manager as its chart's service account (KDDB_KRATIX_USER; it keeps
# system:masters in place of its chart's RBAC, which is not applied here). Authorization
# Node and RBAC, serving certs from a generated CA (DIR/pki), service-account
# signing key from openssl. Ports: free random ones unless KDDB_APISERVER_PORT /
# KDDB_ETCD_PORT / KDDB_ETCD_PEER_PORT are set.
#
# KDDB_CONTROLLER_MANAGER=1 also runs kube-controller-manager (namespace deletion,
# garbage collection, service accounts and their tokens, deployments/replicasets).
# Without it no controller runs: a deleted Namespace stays Terminating forever
# (so `pulumi destroy` of a Namespace hangs), no default ServiceAccount appears
# (the ServiceAccount admission plugin is then disabled). Pods never run either way
# (no scheduler, no kubelet).
#
# KDDB_NODE=1 (with KDDB_CONTROLLER_MANAGER=1) prepares `start` for a node: a bridge
# kddb0 with 198.18.0.1/24 is made first and the API server listens on 198.18.0.1, so
# pods (198.18.0.0/24) reach it through the `kubernetes` Service (198.19.0.1, kube-proxy)
# without anything listening beyond this machine. Pods and Services stay inside
# 198.18.0.0/15 (a benchmarking range), never 10.x, 172.16-31.x or 192.168.x.
#
# start-controllers runs KubeVela's vela-core and Kratix's platform controller as
# processes with the kubeconfig above, after their CRDs are applied (the caller does
# that: local-env/cluster.ts). Webhooks: vela-core's are off (its --use-webhook default);
# Kratix always serves its webhook on :9443, so it gets a self-signed pair in
# DIR/kratix-tmp, and no webhook configuration points at it. PIPELINE_ADAPTER_IMG names
# the image of Kratix's own pipeline containers: the platform image itself, as the Kratix
# chart sets it (KDDB_KRATIX_IMG overrides). Logs: DIR/<name>.log.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MARK=.kddb-local-cluster
# Addresses (all on this machine): the API server's, and the node's pod network.
API_HOST=127.0.0.1
BRIDGE=kddb0
NODE_GATEWAY=198.18.0.1
POD_CIDR=198.18.0.0/24
SERVICE_CIDR=198.19.0.0/24
NODE_NAME=kddb-node
# The user Kratix's manager acts as: its chart's service account (core/install/pipeline-identity-guard.ts
# KRATIX_MANAGER, held equal by test/render/local-identities.test.ts).
KRATIX_USER="${KDDB_KRATIX_USER:-system:serviceaccount:kratix-platform-system:kratix-platform-controller-manager}"

log() { printf '[local-cluster] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
usage() { sed -n '2,40p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

CMD="${1:-}" NAME=""
case "$CMD" in
  kill|restart) [ $# -eq 3 ] || usage; NAME="$2"; shift ;;
  *) [ $# -eq 2 ] || usage ;;
esac
mkdir -p "$(dirname "$2")"
DIR="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# Ports for our listeners come from below the kernel's ephemeral range: a free port inside
# it can be taken as the source port of any outgoing connection between the check and the
# bind (seen: Flux's artifact server lost its port to a client connection, and Flux died).
EPHEMERAL_MIN="$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
free_port() {
  local p i lo=20000
  [ "$EPHEMERAL_MIN" -gt $((lo + 1000)) ] || lo=10000
  for i in $(seq 1 200); do
    p=$(( lo + (RANDOM * 32768 + RANDOM) % (EPHEMERAL_MIN - lo) ))
    if port_free "$p" && ! grep -qx "$p" "$DIR/.ports" 2>/dev/null; then
      echo "$p" >> "$DIR/.ports"; echo "$p"; return 0
    fi
  done
  die "no free port found"
}

stop_pid() { # name
  local f="$DIR/$1.pid" pid i
  [ -f "$f" ] || return 0
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

# Everything started in DIR: the node, whatever else has a pid file (controllers, Flux,
# the state store, the local test doubles), then the control plane last.
stop_all() {
  local f name
  stop_node
  for f in "$DIR"/*.pid; do
    [ -e "$f" ] || continue
    name="$(basename "$f" .pid)"
    case "$name" in kube-controller-manager|kube-apiserver|etcd) ;; *) stop_pid "$name" ;; esac
  done
  stop_pid kube-controller-manager; stop_pid kube-apiserver; stop_pid etcd
}

do_stop() {
  [ -e "$DIR" ] || return 0
  [ -f "$DIR/$MARK" ] || die "$DIR was not made by local-cluster.sh; not touching it"
  stop_all
  rm -rf "$DIR"
  log "stopped; removed $DIR"
}

gen_pki() {
  local pki="$DIR/pki"
  mkdir -p "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=kddb-local-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
    -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=IP:127.0.0.1,IP:$NODE_GATEWAY,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:198.19.0.1" \
    "extendedKeyUsage=serverAuth" "keyUsage=digitalSignature,keyEncipherment" > "$pki/apiserver.ext"
  openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 30 -extfile "$pki/apiserver.ext" -out "$pki/apiserver.crt" 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  chmod 600 "$pki"/*.key
}

write_kubeconfig() { # port token file
  local ca; ca="$(base64 -w0 < "$DIR/pki/ca.crt")"
  cat > "$3" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://$API_HOST:$1
    certificate-authority-data: $ca
users:
- name: admin
  user:
    token: $2
contexts:
- name: local
  context:
    cluster: local
    user: admin
    namespace: default
current-context: local
EOF
  chmod 600 "$3"
}
admin_token() { head -n 1 "$DIR/tokens.csv" | cut -d, -f1; }

# Start failed: show the log, stop whatever was started, keep DIR for inspection.
fail() { # logname message
  [ -f "$DIR/$1.log" ] && tail -30 "$DIR/$1.log" >&2
  stop_all
  die "$2 (logs kept in $DIR; run '$0 stop $DIR' to remove it)"
}

# Each long-running process has its command line in DIR/<name>.cmd (one argument a
# line), so the fault tests can kill it and relaunch exactly the same process.
launch() { # name
  local cmd=()
  mapfile -t cmd < "$DIR/$1.cmd"
  setsid "${cmd[@]}" >> "$DIR/$1.log" 2>&1 < /dev/null &
  echo $! > "$DIR/$1.pid"
}
launch_apiserver() { launch kube-apiserver; }

wait_apiserver() {
  local token url out="" i
  token="$(admin_token)"
  url="$(sed -n 's/^APISERVER_URL=//p' "$DIR/cluster.env")/readyz"
  for i in $(seq 1 300); do
    out="$(curl -sS --max-time 2 --cacert "$DIR/pki/ca.crt" -H "Authorization: Bearer $token" "$url" 2>/dev/null || true)"
    [ "$out" = ok ] && return 0
    if ! kill -0 "$(cat "$DIR/kube-apiserver.pid")" 2>/dev/null; then
      fail kube-apiserver "kube-apiserver exited"
    fi
    sleep 0.5
  done
  fail kube-apiserver "kube-apiserver not ready after 150s: $out"
}

do_start() {
  if [ -f "$DIR/$MARK" ] && [ -f "$DIR/kube-apiserver.pid" ] && kill -0 "$(cat "$DIR/kube-apiserver.pid")" 2>/dev/null; then
    log "already running in $DIR"; return 0
  fi
  [ ! -e "$DIR" ] || [ -f "$DIR/$MARK" ] || [ -z "$(ls -A "$DIR")" ] || die "$DIR exists and is not empty"
  do_stop 2>/dev/null || true
  mkdir -p "$DIR"; touch "$DIR/$MARK"

  # Binaries: PATH first, else build (or reuse the cached build).
  local with_cm="${KDDB_CONTROLLER_MANAGER:-0}" with_node="${KDDB_NODE:-0}" tools=(etcd kube-apiserver)
  [ "$with_cm" = 1 ] && tools+=(kube-controller-manager)
  if [ "$with_node" = 1 ]; then
    [ "$with_cm" = 1 ] || die "KDDB_NODE=1 needs KDDB_CONTROLLER_MANAGER=1 (Jobs, node lifecycle)"
    make_bridge
    API_HOST="$NODE_GATEWAY"
    touch "$DIR/.node"
  fi
  local pathline t
  pathline="$("$ROOT/build-tools.sh" "${tools[@]}")" || fail none "building ${tools[*]} failed"
  eval "$pathline"
  for t in "${tools[@]}"; do command -v "$t" >/dev/null || fail none "$t not found"; done
  command -v openssl >/dev/null || die "openssl is needed"
  command -v curl >/dev/null || die "curl is needed"

  local etcd_port="${KDDB_ETCD_PORT:-$(free_port)}" peer_port="${KDDB_ETCD_PEER_PORT:-$(free_port)}"
  local api_port="${KDDB_APISERVER_PORT:-$(free_port)}"
  local token kcm_token node_token kratix_token
  token="$(openssl rand -hex 24)" kcm_token="$(openssl rand -hex 24)"
  node_token="$(openssl rand -hex 24)" kratix_token="$(openssl rand -hex 24)"
  {
    printf '%s,admin,admin,"system:masters"\n' "$token"
    printf '%s,system:kube-controller-manager,system:kube-controller-manager\n' "$kcm_token"
    printf '%s,system:node:%s,system:node:%s,"system:nodes"\n' "$node_token" "$NODE_NAME" "$NODE_NAME"
    printf '%s,%s,%s,"system:serviceaccounts,system:serviceaccounts:%s,system:masters"\n' \
      "$kratix_token" "$KRATIX_USER" "$KRATIX_USER" "$(cut -d: -f3 <<< "$KRATIX_USER")"
  } > "$DIR/tokens.csv"
  chmod 600 "$DIR/tokens.csv"
  gen_pki
  write_kubeconfig "$api_port" "$token" "$DIR/kubeconfig"
  write_kubeconfig "$api_port" "$kcm_token" "$DIR/kube-controller-manager.kubeconfig"
  write_kubeconfig "$api_port" "$node_token" "$DIR/node.kubeconfig"
  write_kubeconfig "$api_port" "$kratix_token" "$DIR/kratix.kubeconfig"
  cat > "$DIR/cluster.env" <<EOF
APISERVER_URL=https://$API_HOST:$api_port
ETCD_URL=http://127.0.0.1:$etcd_port
KUBECONFIG=$DIR/kubeconfig
EOF

  local start=$SECONDS
  setsid etcd --name local --data-dir "$DIR/etcd-data" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-cluster "local=http://127.0.0.1:$peer_port" --listen-metrics-urls "" \
    --unsafe-no-fsync --log-level warn \
    > "$DIR/etcd.log" 2>&1 < /dev/null &
  echo $! > "$DIR/etcd.pid"

  local i
  for i in $(seq 1 100); do
    curl -fsS --max-time 2 "http://127.0.0.1:$etcd_port/health" 2>/dev/null | grep -q '"health":"true"' && break
    kill -0 "$(cat "$DIR/etcd.pid")" 2>/dev/null || fail etcd "etcd exited"
    sleep 0.2
  done
  curl -fsS --max-time 2 "http://127.0.0.1:$etcd_port/health" 2>/dev/null | grep -q '"health":"true"' ||
    fail etcd "etcd not healthy after 20s"

  # The command line is kept in DIR so the fault tests can kill and relaunch the same server.
  {
    command -v kube-apiserver
    printf '%s\n' \
      --etcd-servers="http://127.0.0.1:$etcd_port" \
      --bind-address="$API_HOST" --advertise-address="$API_HOST" --secure-port="$api_port" \
      --tls-cert-file="$DIR/pki/apiserver.crt" --tls-private-key-file="$DIR/pki/apiserver.key" \
      --client-ca-file="$DIR/pki/ca.crt" \
      --token-auth-file="$DIR/tokens.csv" \
      --authorization-mode=Node,RBAC --anonymous-auth=false \
      --service-cluster-ip-range="$SERVICE_CIDR" \
      --service-account-issuer=https://kubernetes.default.svc.cluster.local \
      --service-account-key-file="$DIR/pki/sa.pub" --service-account-signing-key-file="$DIR/pki/sa.key" \
      --allow-privileged=true
    [ "$with_cm" = 1 ] || echo --disable-admission-plugins=ServiceAccount
  } > "$DIR/kube-apiserver.cmd"
  launch_apiserver
  wait_apiserver

  if [ "$with_cm" = 1 ]; then
    local kcm_controllers=namespace-controller,garbage-collector-controller,serviceaccount-controller,serviceaccount-token-controller,clusterrole-aggregation-controller,root-ca-certificate-publisher-controller,deployment-controller,replicaset-controller
    # With a node: Kratix's pipeline Jobs become pods, the node's not-ready taint is lifted,
    # finished pods are collected.
    [ "$with_node" = 1 ] && kcm_controllers+=,job-controller,node-lifecycle-controller,pod-garbage-collector-controller,ttl-after-finished-controller,endpointslice-controller
    setsid kube-controller-manager \
      --kubeconfig="$DIR/kube-controller-manager.kubeconfig" \
      --authentication-kubeconfig="$DIR/kube-controller-manager.kubeconfig" \
      --authorization-kubeconfig="$DIR/kube-controller-manager.kubeconfig" \
      --bind-address=127.0.0.1 --secure-port=0 --leader-elect=false \
      --controllers="$kcm_controllers" \
      --service-account-private-key-file="$DIR/pki/sa.key" --root-ca-file="$DIR/pki/ca.crt" \
      --use-service-account-credentials=true \
      > "$DIR/kube-controller-manager.log" 2>&1 < /dev/null &
    echo $! > "$DIR/kube-controller-manager.pid"
    sleep 1
    kill -0 "$(cat "$DIR/kube-controller-manager.pid")" 2>/dev/null ||
      fail kube-controller-manager "kube-controller-manager exited"
  fi
  log "ready in $((SECONDS - start))s: https://$API_HOST:$api_port (etcd 127.0.0.1:$etcd_port)"
  log "export KUBECONFIG=$DIR/kubeconfig"
}

# Waits for a controller's health endpoint; on failure shows its log.
wait_healthy() { # name url
  local i
  for i in $(seq 1 240); do
    curl -kfsS --max-time 2 "$2" >/dev/null 2>&1 && return 0
    kill -0 "$(cat "$DIR/$1.pid")" 2>/dev/null || { tail -30 "$DIR/$1.log" >&2; die "$1 exited (log: $DIR/$1.log)"; }
    sleep 0.5
  done
  tail -30 "$DIR/$1.log" >&2
  die "$1 not healthy after 120s (log: $DIR/$1.log)"
}

do_start_controllers() {
  [ -f "$DIR/$MARK" ] && [ -f "$DIR/kubeconfig" ] || die "no cluster in $DIR: start it first"
  local pathline t
  pathline="$("$ROOT/build-tools.sh" vela-core kratix)" || die "building vela-core and kratix failed"
  eval "$pathline"
  for t in vela-core kratix; do command -v "$t" >/dev/null || die "$t not found"; done

  # vela-core: the chart's controller flags that apply to one cluster without webhooks
  # (charts/vela-core/templates/kubevela-controller.yaml), with a 30s re-sync (the chart's
  # is 5m) so a restarted controller catches up within a test's patience.
  if [ ! -f "$DIR/vela-core.pid" ] || ! kill -0 "$(cat "$DIR/vela-core.pid")" 2>/dev/null; then
    local vm vh
    vm="$(free_port)" vh="$(free_port)"
    {
      # vela-core has no --kubeconfig flag: controller-runtime reads KUBECONFIG.
      printf '%s\n' env "KUBECONFIG=$DIR/kubeconfig"
      command -v vela-core
      printf '%s\n' --metrics-addr="127.0.0.1:$vm" --health-addr="127.0.0.1:$vh" \
        --use-webhook=false --enable-leader-election=false --system-definition-namespace=vela-system \
        --disable-remote-cluster-client \
        --optimize-mark-with-prob=0.1 --optimize-disable-component-revision \
        --application-re-sync-period=30s
    } > "$DIR/vela-core.cmd"
    echo "http://127.0.0.1:$vh/healthz" > "$DIR/vela-core.health"
    launch vela-core
  fi

  # kratix: no flag turns its webhook server off; it needs a key pair to start.
  if [ ! -f "$DIR/kratix.pid" ] || ! kill -0 "$(cat "$DIR/kratix.pid")" 2>/dev/null; then
    local km kh kp certs="$DIR/kratix-tmp/k8s-webhook-server/serving-certs"
    km="$(free_port)" kh="$(free_port)" kp="$(free_port)"
    mkdir -p "$certs"
    [ -f "$certs/tls.crt" ] || openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=kratix-webhook-local" \
      -keyout "$certs/tls.key" -out "$certs/tls.crt" 2>/dev/null
    {
      echo env
      echo "KUBECONFIG=$DIR/kratix.kubeconfig"
      echo "TMPDIR=$DIR/kratix-tmp"
      echo "PIPELINE_ADAPTER_IMG=${KDDB_KRATIX_IMG:-localhost/syntasso/kratix-platform:224e148}"
      command -v kratix
      # The chart's flags (kratix-chart deployment.yaml) that apply to a process: plain-HTTP
      # metrics on loopback (the chart serves them through its own authenticated Service).
      printf '%s\n' --metrics-bind-address="127.0.0.1:$km" --metrics-secure=false \
        --health-probe-bind-address="127.0.0.1:$kh" --pprof-bind-address="127.0.0.1:$kp"
    } > "$DIR/kratix.cmd"
    echo "http://127.0.0.1:$kh/readyz" > "$DIR/kratix.health"
    launch kratix
  fi
  wait_healthy vela-core "$(cat "$DIR/vela-core.health")"
  wait_healthy kratix "$(cat "$DIR/kratix.health")"
  log "vela-core and kratix running (logs: $DIR/vela-core.log, $DIR/kratix.log)"
}

# ---- the node ------------------------------------------------------------------------
# The bridge the pods attach to, made before the API server starts so it can listen on
# the bridge's address (the CNI bridge plugin finds the bridge there and reuses it).
make_bridge() {
  command -v ip >/dev/null || die "iproute2 (ip) is needed for a node"
  ip link show "$BRIDGE" >/dev/null 2>&1 || ip link add "$BRIDGE" type bridge
  ip addr replace "$NODE_GATEWAY/24" dev "$BRIDGE"
  ip link set "$BRIDGE" up
}

api_get() { # path -> body (admin token from tokens.csv)
  curl -fsS --max-time 5 --cacert "$DIR/pki/ca.crt" -H "Authorization: Bearer $(admin_token)" \
    "$(sed -n 's/^APISERVER_URL=//p' "$DIR/cluster.env")$1"
}

# stdin: a Node object; true when Ready and the not-ready taint is gone.
node_ready() {
  python3 -c '
import json, sys
n = json.load(sys.stdin)
ready = any(c["type"] == "Ready" and c["status"] == "True" for c in n.get("status", {}).get("conditions", []))
tainted = any(t["key"].startswith("node.kubernetes.io/not-ready") for t in n.get("spec", {}).get("taints", []) or [])
sys.exit(0 if ready and not tainted else 1)'
}

CNI_BIN_DIRS=(/usr/lib/cni /opt/cni/bin)
NODE_APT="containerd runc containernetworking-plugins iptables conntrack"

write_node_configs() { # node-dir cni-bin pause-image
  local n="$1" cni_bin="$2" pause="$3" kp kh sp pm ph
  kp="$(free_port)" kh="$(free_port)" sp="$(free_port)" pm="$(free_port)" ph="$(free_port)"
  cat > "$n/containerd.toml" <<EOF
# containerd for the local node. CRI settings from ../shared/notes/local-reality.md:
# restrict_oom_score_adj (this process may not lower oom_score_adj), runc with
# cgroupfs (hybrid cgroups: crun and the systemd driver fail here), overlayfs.
version = 2
root = "$n/containerd/root"
state = "$n/containerd/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$n/containerd.sock"
[plugins."io.containerd.internal.v1.opt"]
  path = "$n/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause"
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$cni_bin"
    conf_dir = "$n/cni"
EOF
  # Pods reach 198.18.0.0/15 only (their bridge, and Services through kube-proxy on the
  # host): no default route, no masquerading, so no pod traffic can leave the machine.
  cat > "$n/cni/10-kddb.conflist" <<EOF
{
  "cniVersion": "0.4.0",
  "name": "kddb",
  "plugins": [
    {
      "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": { "type": "host-local", "dataDir": "$n/ipam", "subnet": "$POD_CIDR", "gateway": "$NODE_GATEWAY",
                "routes": [ { "dst": "198.18.0.0/15" } ] }
    }
  ]
}
EOF
  cat > "$n/kubelet.yaml" <<EOF
# The kubelet settings this machine needs (../shared/notes/local-reality.md): cgroup v1
# allowed, cgroupfs, no QoS cgroups or allocatable enforcement, no eviction, no swap check.
# Its API listens on 127.0.0.1 only, unauthenticated, so nothing but this host reaches it;
# the node's address is the bridge's (kubelet 1.36 refuses a loopback node IP), so the API
# server cannot proxy logs/exec to it: the containers' logs are files in node/logs.
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: 127.0.0.1
port: $kp
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $kh
authentication:
  anonymous: {enabled: true}
  webhook: {enabled: false}
authorization: {mode: AlwaysAllow}
cgroupDriver: cgroupfs
cgroupsPerQOS: false
enforceNodeAllocatable: []
failSwapOn: false
failCgroupV1: false
localStorageCapacityIsolation: true
evictionHard: {}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
containerRuntimeEndpoint: unix://$n/containerd.sock
resolvConf: $n/resolv.conf
serializeImagePulls: false
podLogsDir: $n/logs
EOF
  cat > "$n/kube-proxy.yaml" <<EOF
# Services for pods: iptables rules on this host for the pod range; conntrack limits
# are left as the machine has them.
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $DIR/kubeconfig}
mode: iptables
clusterCIDR: $POD_CIDR
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:$ph
metricsBindAddress: 127.0.0.1:$pm
hostnameOverride: $NODE_NAME
nodePortAddresses: [127.0.0.1/32]
conntrack: {maxPerCore: 0, min: 0}
EOF
  { command -v containerd; printf '%s\n' --config "$n/containerd.toml"; } > "$DIR/containerd.cmd"
  { command -v kube-scheduler
    printf '%s\n' --kubeconfig="$DIR/kubeconfig" --authentication-kubeconfig="$DIR/kubeconfig" \
      --authorization-kubeconfig="$DIR/kubeconfig" --leader-elect=false \
      --bind-address=127.0.0.1 --secure-port="$sp"; } > "$DIR/kube-scheduler.cmd"
  { command -v kubelet
    printf '%s\n' --config="$n/kubelet.yaml" --kubeconfig="$DIR/node.kubeconfig" --root-dir="$n/kubelet" \
      --cert-dir="$n/kubelet-pki" --hostname-override="$NODE_NAME" --node-ip="$NODE_GATEWAY"; } > "$DIR/kubelet.cmd"
  { command -v kube-proxy; printf '%s\n' --config="$n/kube-proxy.yaml"; } > "$DIR/kube-proxy.cmd"
  echo "http://127.0.0.1:$kh/healthz" > "$DIR/kubelet.health"
  echo "http://127.0.0.1:$ph/healthz" > "$DIR/kube-proxy.health"
  echo "https://127.0.0.1:$sp/healthz" > "$DIR/kube-scheduler.health"
}

wait_containerd() {
  local i sock="$DIR/node/containerd.sock"
  for i in $(seq 1 100); do ctr -a "$sock" version >/dev/null 2>&1 && return 0; sleep 0.2; done
  fail containerd "containerd did not start"
}

# containerd (its own root, state and socket under DIR/node), then the images the pods
# use (OCI archives from tools/build-images.sh, imported into containerd's k8s.io
# namespace), then kube-scheduler, kubelet and kube-proxy; waits for the node to be Ready.
do_start_node() {
  [ -f "$DIR/$MARK" ] && [ -f "$DIR/.node" ] ||
    die "no node-ready cluster in $DIR: start it with KDDB_NODE=1 KDDB_CONTROLLER_MANAGER=1"
  if [ -f "$DIR/kubelet.pid" ] && kill -0 "$(cat "$DIR/kubelet.pid")" 2>/dev/null; then log "node already running"; return 0; fi
  local b cni_bin="" missing=()
  for b in containerd containerd-shim-runc-v2 runc ctr iptables conntrack python3; do command -v "$b" >/dev/null || missing+=("$b"); done
  for b in "${CNI_BIN_DIRS[@]}"; do [ -x "$b/bridge" ] && [ -x "$b/host-local" ] && { cni_bin="$b"; break; }; done
  [ -n "$cni_bin" ] || missing+=(cni-plugins)
  [ ${#missing[@]} -eq 0 ] || die "missing ${missing[*]}: run tools/install-node-packages.sh (apt-get install $NODE_APT)"
  local pathline
  pathline="$("$ROOT/build-tools.sh" kubelet kube-scheduler kube-proxy)" || die "building the node's tools failed"
  eval "$pathline"
  local images=() line pause=""
  mapfile -t images < <(bash "$ROOT/build-images.sh") || die "building the images failed"
  for line in "${images[@]}"; do case "${line%% *}" in */pause:*) pause="${line%% *}" ;; esac; done
  [ -n "$pause" ] || die "tools/build-images.sh gave no pause image"

  local n="$DIR/node" start=$SECONDS
  mkdir -p "$n/cni" "$n/kubelet" "$n/containerd/root" "$n/containerd/state" "$n/opt" "$n/ipam" "$n/logs"
  { ls /run/netns 2>/dev/null || true; } | sort > "$n/netns.before"
  : > "$n/resolv.conf"   # no nameserver: nothing the pods run needs DNS, and nothing leaves the machine
  write_node_configs "$n" "$cni_bin" "$pause"

  launch containerd
  wait_containerd
  local t0=$SECONDS
  for line in "${images[@]}"; do
    ctr -a "$n/containerd.sock" -n k8s.io images import "${line#* }" >/dev/null ||
      fail containerd "importing ${line%% *} failed"
  done
  log "imported ${#images[@]} images in $((SECONDS - t0))s"
  launch kube-scheduler
  launch kubelet
  launch kube-proxy
  local i
  for i in $(seq 1 240); do
    if api_get "/api/v1/nodes/$NODE_NAME" 2>/dev/null | node_ready 2>/dev/null; then
      log "node $NODE_NAME Ready in $((SECONDS - start))s (pods $POD_CIDR on $BRIDGE; logs $DIR/kubelet.log)"
      return 0
    fi
    for b in containerd kube-scheduler kubelet kube-proxy; do
      kill -0 "$(cat "$DIR/$b.pid")" 2>/dev/null || fail "$b" "$b exited"
    done
    sleep 0.5
  done
  fail kubelet "node $NODE_NAME not Ready after 120s"
}

# Everything the node made: its containers (killed through containerd, then the shims),
# its mounts under DIR, the pods' network namespaces, kube-proxy's iptables rules, the bridge.
stop_node() {
  [ -f "$DIR/.node" ] || return 0
  local n="$DIR/node" id sock="$DIR/node/containerd.sock"
  stop_pid kube-proxy; stop_pid kubelet; stop_pid kube-scheduler
  if [ -S "$sock" ] && [ -f "$DIR/containerd.pid" ] && kill -0 "$(cat "$DIR/containerd.pid")" 2>/dev/null; then
    for id in $(ctr -a "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr -a "$sock" -n k8s.io tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
    done
    sleep 0.5
    for id in $(ctr -a "$sock" -n k8s.io tasks ls -q 2>/dev/null); do
      ctr -a "$sock" -n k8s.io tasks delete -f "$id" >/dev/null 2>&1 || true
    done
  fi
  stop_pid containerd
  pkill -KILL -f "containerd-shim-runc-v2 .*-address $sock" 2>/dev/null || true
  if [ -f "$DIR/kube-proxy.cmd" ]; then "$(head -1 "$DIR/kube-proxy.cmd")" --cleanup >/dev/null 2>&1 || true; fi
  # The kubelet's own chains: its canaries, the localnet firewall and the iptables-mode hint.
  local ipt t c
  for ipt in iptables ip6tables; do
    "$ipt" -t filter -D INPUT -j KUBE-FIREWALL 2>/dev/null || true
    "$ipt" -t filter -D OUTPUT -j KUBE-FIREWALL 2>/dev/null || true
    for t in mangle nat filter; do
      for c in KUBE-KUBELET-CANARY KUBE-FIREWALL KUBE-IPTABLES-HINT; do
        "$ipt" -t "$t" -F "$c" 2>/dev/null && "$ipt" -t "$t" -X "$c" 2>/dev/null || true
      done
    done
  done
  # Mounts under DIR, deepest first (the kubelet bind-mounts its root dir; volumes; rootfs).
  { grep -F " $DIR/" /proc/mounts || true; } | cut -d' ' -f2 | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2- |
    while read -r m; do umount -l "$(printf '%b' "$m")" 2>/dev/null || true; done
  if [ -d /run/netns ] && [ -f "$n/netns.before" ]; then
    { comm -13 "$n/netns.before" <(ls /run/netns | sort) | grep '^cni-' || true; } | while read -r ns; do
      umount -l "/run/netns/$ns" 2>/dev/null || true; rm -f "/run/netns/$ns"
    done
  fi
  ip link del "$BRIDGE" 2>/dev/null || true
}

# ---- delivery: the state store and Flux -------------------------------------------------
# Kratix writes each Work's files to an S3-compatible bucket (gofakes3, on loopback: the
# closest to the product's s3 mode), and Flux's source-controller reads the bucket while
# kustomize-controller applies what it finds, as on EKS. gofakes3 ignores credentials:
# Kratix and Flux still send theirs, from the Secrets the stack makes.
# The S3 port is fixed (KDDB_S3_PORT, default 19000) because the local stack's config
# names the endpoint; like Kratix's webhook port, it allows one local environment at a time.
S3_PORT="${KDDB_S3_PORT:-19000}"
S3_BUCKET=kratix

do_start_delivery() {
  [ -f "$DIR/$MARK" ] && [ -f "$DIR/kubeconfig" ] || die "no cluster in $DIR: start it first"
  local pathline t
  pathline="$("$ROOT/build-tools.sh" gofakes3 source-controller kustomize-controller)" || die "building gofakes3 and Flux failed"
  eval "$pathline"
  for t in gofakes3 source-controller kustomize-controller; do command -v "$t" >/dev/null || die "$t not found"; done
  if [ ! -f "$DIR/s3.pid" ] || ! kill -0 "$(cat "$DIR/s3.pid")" 2>/dev/null; then
    port_free "$S3_PORT" || die "127.0.0.1:$S3_PORT is taken (another local environment?): set KDDB_S3_PORT"
    mkdir -p "$DIR/s3"
    { command -v gofakes3
      printf '%s\n' -host "127.0.0.1:$S3_PORT" -backend fs -fs.path "$DIR/s3" -fs.create -initialbucket "$S3_BUCKET"
    } > "$DIR/s3.cmd"
    echo "http://127.0.0.1:$S3_PORT/" > "$DIR/s3.health"
    launch s3
  fi
  if [ ! -f "$DIR/source-controller.pid" ] || ! kill -0 "$(cat "$DIR/source-controller.pid")" 2>/dev/null; then
    local sm sh ss
    sm="$(free_port)" sh="$(free_port)" ss="$(free_port)"
    mkdir -p "$DIR/flux-storage"
    { printf '%s\n' env "KUBECONFIG=$DIR/kubeconfig" "RUNTIME_NAMESPACE=flux-system"
      command -v source-controller
      printf '%s\n' --metrics-addr="127.0.0.1:$sm" --health-addr="127.0.0.1:$sh" --enable-leader-election=false \
        --watch-all-namespaces --storage-path="$DIR/flux-storage" \
        --storage-addr="127.0.0.1:$ss" --storage-adv-addr="127.0.0.1:$ss" --log-level=info
    } > "$DIR/source-controller.cmd"
    echo "http://127.0.0.1:$sh/readyz" > "$DIR/source-controller.health"
    launch source-controller
  fi
  if [ ! -f "$DIR/kustomize-controller.pid" ] || ! kill -0 "$(cat "$DIR/kustomize-controller.pid")" 2>/dev/null; then
    local km kh
    km="$(free_port)" kh="$(free_port)"
    { printf '%s\n' env "KUBECONFIG=$DIR/kubeconfig" "RUNTIME_NAMESPACE=flux-system"
      command -v kustomize-controller
      printf '%s\n' --metrics-addr="127.0.0.1:$km" --health-addr="127.0.0.1:$kh" --enable-leader-election=false \
        --watch-all-namespaces --log-level=info --default-service-account=default
    } > "$DIR/kustomize-controller.cmd"
    echo "http://127.0.0.1:$kh/readyz" > "$DIR/kustomize-controller.health"
    launch kustomize-controller
  fi
  wait_healthy s3 "$(cat "$DIR/s3.health")"
  wait_healthy source-controller "$(cat "$DIR/source-controller.health")"
  wait_healthy kustomize-controller "$(cat "$DIR/kustomize-controller.health")"
  log "state store on 127.0.0.1:$S3_PORT (bucket $S3_BUCKET), Flux source- and kustomize-controller running"
}

# Processes the fault tests may kill and relaunch.
# Any process with its command line in DIR/<name>.cmd (etcd and the controller manager
# are started without one).
faultable() { [ -f "$DIR/$1.cmd" ] || die "cannot kill or restart $1: no $1.cmd in $DIR"; }

case "$CMD" in
  start) do_start ;;
  stop) do_stop ;;
  start-controllers) do_start_controllers ;;
  start-node) do_start_node ;;
  start-delivery) do_start_delivery ;;
  kill)
    [ -f "$DIR/$MARK" ] || die "no cluster in $DIR"; faultable "$NAME"
    pid="$(cat "$DIR/$NAME.pid")"
    kill -KILL "$pid" 2>/dev/null || true
    # Gone before we return, so a restart finds its ports free.
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done ;;
  restart)
    [ -f "$DIR/$MARK" ] || die "no cluster in $DIR"; faultable "$NAME"
    launch "$NAME"
    if [ "$NAME" = kube-apiserver ]; then wait_apiserver
    elif [ "$NAME" = containerd ]; then wait_containerd
    elif [ -f "$DIR/$NAME.health" ]; then wait_healthy "$NAME" "$(cat "$DIR/$NAME.health")"; fi
    log "$NAME back" ;;
  env) [ -f "$DIR/kubeconfig" ] || die "no cluster in $DIR"; echo "export KUBECONFIG=$DIR/kubeconfig" ;;
  *) usage ;;
esac
