#!/usr/bin/env bash
# A throwaway Kubernetes control plane (etcd + kube-apiserver, no kubelet, no
# controller-manager) on 127.0.0.1, for hermetic e2e tests.
#
#   tools/local-cluster.sh start DIR   # start, wait for /readyz, write DIR/kubeconfig
#   tools/local-cluster.sh env DIR     # print: export KUBECONFIG=DIR/kubeconfig
#   tools/local-cluster.sh stop DIR    # kill both processes and remove DIR
#   tools/local-cluster.sh start-controllers DIR   # vela-core and kratix against it (CRDs applied first)
#   tools/local-cluster.sh kill NAME DIR / restart NAME DIR   # fault injection: kube-apiserver,
#                                      # vela-core or kratix, killed with SIGKILL, relaunched as before
#
# Binaries come from PATH or are built by tools/build-tools.sh (cached outside the repo).
# Auth: a generated bearer token (DIR/tokens.csv, user "admin" in system:masters),
# authorization RBAC, serving certs from a generated CA (DIR/pki), service-account
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
# start-controllers runs KubeVela's vela-core and Kratix's platform controller as
# processes with the kubeconfig above, after their CRDs are applied (the caller does
# that: local-env/cluster.ts). Webhooks: vela-core's are off (its --use-webhook default);
# Kratix always serves its webhook on :9443, so it gets a self-signed pair in
# DIR/kratix-tmp, and no webhook configuration points at it. WC_IMG names Kratix's
# pipeline-adapter image (KDDB_KRATIX_WC_IMG overrides). Logs: DIR/<name>.log.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MARK=.kddb-local-cluster

log() { printf '[local-cluster] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
usage() { sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

CMD="${1:-}" NAME=""
case "$CMD" in
  kill|restart) [ $# -eq 3 ] || usage; NAME="$2"; shift ;;
  *) [ $# -eq 2 ] || usage ;;
esac
mkdir -p "$(dirname "$2")"
DIR="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p i
  for i in $(seq 1 200); do
    p=$(( 20000 + (RANDOM * 32768 + RANDOM) % 30000 ))
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

do_stop() {
  [ -e "$DIR" ] || return 0
  [ -f "$DIR/$MARK" ] || die "$DIR was not made by local-cluster.sh; not touching it"
  stop_pid kratix
  stop_pid vela-core
  stop_pid kube-controller-manager
  stop_pid kube-apiserver
  stop_pid etcd
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
  printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:198.19.0.1" \
    "extendedKeyUsage=serverAuth" "keyUsage=digitalSignature,keyEncipherment" > "$pki/apiserver.ext"
  openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 30 -extfile "$pki/apiserver.ext" -out "$pki/apiserver.crt" 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  chmod 600 "$pki"/*.key
}

write_kubeconfig() { # port token
  local ca; ca="$(base64 -w0 < "$DIR/pki/ca.crt")"
  cat > "$DIR/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://127.0.0.1:$1
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
  chmod 600 "$DIR/kubeconfig"
}

# Start failed: show the log, stop whatever was started, keep DIR for inspection.
fail() { # logname message
  [ -f "$DIR/$1.log" ] && tail -30 "$DIR/$1.log" >&2
  stop_pid kratix; stop_pid vela-core; stop_pid kube-controller-manager; stop_pid kube-apiserver; stop_pid etcd
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
  token="$(cut -d, -f1 "$DIR/tokens.csv")"
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
  local with_cm="${KDDB_CONTROLLER_MANAGER:-0}" tools=(etcd kube-apiserver)
  [ "$with_cm" = 1 ] && tools+=(kube-controller-manager)
  local pathline t
  pathline="$("$ROOT/build-tools.sh" "${tools[@]}")" || fail none "building ${tools[*]} failed"
  eval "$pathline"
  for t in "${tools[@]}"; do command -v "$t" >/dev/null || fail none "$t not found"; done
  command -v openssl >/dev/null || die "openssl is needed"
  command -v curl >/dev/null || die "curl is needed"

  local etcd_port="${KDDB_ETCD_PORT:-$(free_port)}" peer_port="${KDDB_ETCD_PEER_PORT:-$(free_port)}"
  local api_port="${KDDB_APISERVER_PORT:-$(free_port)}"
  local token; token="$(openssl rand -hex 24)"
  printf '%s,admin,admin,"system:masters"\n' "$token" > "$DIR/tokens.csv"
  chmod 600 "$DIR/tokens.csv"
  gen_pki
  write_kubeconfig "$api_port" "$token"
  cat > "$DIR/cluster.env" <<EOF
APISERVER_URL=https://127.0.0.1:$api_port
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
      --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" \
      --tls-cert-file="$DIR/pki/apiserver.crt" --tls-private-key-file="$DIR/pki/apiserver.key" \
      --client-ca-file="$DIR/pki/ca.crt" \
      --token-auth-file="$DIR/tokens.csv" \
      --authorization-mode=RBAC --anonymous-auth=false \
      --service-cluster-ip-range=198.19.0.0/24 \
      --service-account-issuer=https://kubernetes.default.svc.cluster.local \
      --service-account-key-file="$DIR/pki/sa.pub" --service-account-signing-key-file="$DIR/pki/sa.key" \
      --allow-privileged=true
    [ "$with_cm" = 1 ] || echo --disable-admission-plugins=ServiceAccount
  } > "$DIR/kube-apiserver.cmd"
  launch_apiserver
  wait_apiserver

  if [ "$with_cm" = 1 ]; then
    setsid kube-controller-manager \
      --kubeconfig="$DIR/kubeconfig" --authentication-kubeconfig="$DIR/kubeconfig" \
      --authorization-kubeconfig="$DIR/kubeconfig" \
      --bind-address=127.0.0.1 --secure-port=0 --leader-elect=false \
      --controllers=namespace-controller,garbage-collector-controller,serviceaccount-controller,serviceaccount-token-controller,clusterrole-aggregation-controller,root-ca-certificate-publisher-controller,deployment-controller,replicaset-controller \
      --service-account-private-key-file="$DIR/pki/sa.key" --root-ca-file="$DIR/pki/ca.crt" \
      --use-service-account-credentials=false \
      > "$DIR/kube-controller-manager.log" 2>&1 < /dev/null &
    echo $! > "$DIR/kube-controller-manager.pid"
    sleep 1
    kill -0 "$(cat "$DIR/kube-controller-manager.pid")" 2>/dev/null ||
      fail kube-controller-manager "kube-controller-manager exited"
  fi
  log "ready in $((SECONDS - start))s: https://127.0.0.1:$api_port (etcd 127.0.0.1:$etcd_port)"
  log "export KUBECONFIG=$DIR/kubeconfig"
}

# Waits for a controller's health endpoint; on failure shows its log.
wait_healthy() { # name url
  local i
  for i in $(seq 1 240); do
    curl -fsS --max-time 2 "$2" >/dev/null 2>&1 && return 0
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
      echo "KUBECONFIG=$DIR/kubeconfig"
      echo "TMPDIR=$DIR/kratix-tmp"
      echo "WC_IMG=${KDDB_KRATIX_WC_IMG:-localhost/kratix-platform-pipeline-adapter:v0.125.0}"
      command -v kratix
      printf '%s\n' --metrics-bind-address="127.0.0.1:$km" \
        --health-probe-bind-address="127.0.0.1:$kh" --pprof-bind-address="127.0.0.1:$kp"
    } > "$DIR/kratix.cmd"
    echo "http://127.0.0.1:$kh/readyz" > "$DIR/kratix.health"
    launch kratix
  fi
  wait_healthy vela-core "$(cat "$DIR/vela-core.health")"
  wait_healthy kratix "$(cat "$DIR/kratix.health")"
  log "vela-core and kratix running (logs: $DIR/vela-core.log, $DIR/kratix.log)"
}

# Processes the fault tests may kill and relaunch.
faultable() { case "$1" in kube-apiserver|vela-core|kratix) return 0 ;; *) die "cannot kill or restart $1" ;; esac; }

case "$CMD" in
  start) do_start ;;
  stop) do_stop ;;
  start-controllers) do_start_controllers ;;
  kill)
    [ -f "$DIR/$MARK" ] || die "no cluster in $DIR"; faultable "$NAME"
    pid="$(cat "$DIR/$NAME.pid")"
    kill -KILL "$pid" 2>/dev/null || true
    # Gone before we return, so a restart finds its ports free.
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done ;;
  restart)
    [ -f "$DIR/$MARK" ] || die "no cluster in $DIR"; faultable "$NAME"
    launch "$NAME"
    if [ "$NAME" = kube-apiserver ]; then wait_apiserver; else wait_healthy "$NAME" "$(cat "$DIR/$NAME.health")"; fi
    log "$NAME back" ;;
  env) [ -f "$DIR/kubeconfig" ] || die "no cluster in $DIR"; echo "export KUBECONFIG=$DIR/kubeconfig" ;;
  *) usage ;;
esac
