# Sourced by scripts/cluster for --with-node: one node on this machine. kube-scheduler, a private containerd
# (Debian's, with runc and the CNI plugins: root, state, socket and netns mounts under DIR) and the kubelet built
# by scripts/engines (cgroupfs driver, on this machine's cgroup v1), pods on a CNI bridge.
# What is global on the machine is named by a number N taken from DIR (several clusters can run at once):
#   khd<N>: a portless bridge holding the node's address 10.213.<N>.1/32: the API server advertises it (it refuses a
#           loopback address for the `kubernetes` Service) and serves on it; it routes nowhere.
#   khb<N>: the pods' bridge, 10.214.<N>.1/24; a pod's only route is to the node's address (no default route, no
#           masquerade): pod traffic stays on this machine.
#   10.215.<N>.0/24: the Service range; no kube-proxy: one nat PREROUTING rule (comment kh<N>) sends the
#           `kubernetes` Service's 10.215.<N>.1:443 from the pods to the API server.
#   /kh<N>: the kubelet's cgroup root in every cgroup v1 hierarchy.
# DIR/node.env records them for stop.
node_name=kh-node

node_prepare() {
  for tool in containerd containerd-shim-runc-v2 runc ctr ip; do
    command -v $tool >/dev/null || die "--with-node needs $tool: apt-get install containerd runc containernetworking-plugins iproute2"
  done
  [ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] || die "--with-node needs /usr/lib/cni/{bridge,host-local}: apt-get install containernetworking-plugins"
  [ -x "$k8s/kubelet" ] && [ -x "$k8s/kube-scheduler" ] || die "the kubelet is not built: run scripts/engines build kubernetes"
  # N from DIR's path, the next free one if that link exists (another cluster).
  local n=$(($(printf %s "$dir" | cksum | cut -d' ' -f1) % 200 + 20)) tries=0
  while ip link show "khd$n" >/dev/null 2>&1 || ip link show "khb$n" >/dev/null 2>&1; do
    n=$(((n - 20 + 1) % 200 + 20)); tries=$((tries + 1))
    [ $tries -lt 200 ] || die "no free khd<N>/khb<N> link name"
  done
  node_n=$n node_ip=10.213.$n.1 pod_cidr=10.214.$n.0/24 pod_gateway=10.214.$n.1
  node_svc_range=10.215.$n.0/24 node_svc_ip=10.215.$n.1
  printf 'node_n=%s\nnode_ip=%s\npod_cidr=%s\n' "$node_n" "$node_ip" "$pod_cidr" >"$dir/node.env"
  # A bridge with no ports stands for a dummy link (no dummy module here: `ip link add X type dummy` says
  # "Unknown device type").
  ip link add "khd$n" type bridge
  ip addr add "$node_ip/32" dev "khd$n"
  ip link set "khd$n" up
}

# The API server's port.
node_start() {
  local api_port=$1 t0=$SECONDS sock=$dir/containerd/containerd.sock image tar kubelet_port h
  mkdir -p "$dir/containerd" "$dir/cni/net.d" "$dir/cni/ipam" "$dir/kubelet" "$dir/pod-logs"
  cert scheduler "/CN=system:kube-scheduler"
  cert node "/O=system:nodes/CN=system:node:$node_name"
  kubeconfig scheduler "$dir/scheduler.kubeconfig"
  kubeconfig node "$dir/kubelet.kubeconfig"
  daemon kube-scheduler "$k8s/kube-scheduler" --kubeconfig "$dir/scheduler.kubeconfig" \
    --authentication-kubeconfig "$dir/scheduler.kubeconfig" --authorization-kubeconfig "$dir/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false --profiling=false

  cat >"$dir/cni/net.d/10-bridge.conflist" <<CNI
{"cniVersion": "0.4.0", "name": "kh$node_n", "plugins": [{
  "type": "bridge", "bridge": "khb$node_n", "isGateway": true, "isDefaultGateway": false, "ipMasq": false,
  "hairpinMode": true,
  "ipam": {"type": "host-local", "dataDir": "$dir/cni/ipam", "ranges": [[{"subnet": "$pod_cidr", "gateway": "$pod_gateway"}]],
           "routes": [{"dst": "$node_ip/32", "gw": "$pod_gateway"}, {"dst": "$node_svc_range", "gw": "$pod_gateway"}]}
}, {"type": "loopback"}]}
CNI
  cat >"$dir/containerd/config.toml" <<TOML
version = 2
root = "$dir/containerd/root"
state = "$dir/containerd/state"
# /opt/containerd and the snapshotters this machine cannot use are global or useless here.
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/kube-heapdump/pause:1"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  netns_mounts_under_state_dir = true
  # No CAP_SYS_RESOURCE here: `echo -998 > /proc/self/oom_score_adj` is "Permission denied", and runc fails the
  # pause container with "can't get final child's PID from pipe: EOF". Scores below ours are raised to ours.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni/net.d"
TOML
  command -v iptables >/dev/null || die "--with-node needs iptables"
  node_dnat() { iptables -t nat "$1" PREROUTING -d "$node_svc_ip/32" -p tcp --dport 443 -m comment --comment "kh$node_n" \
    -j DNAT --to-destination "$node_ip:$api_port"; }
  node_dnat -A
  echo "api_port=$api_port" >>"$dir/node.env"
  daemon containerd containerd --config "$dir/containerd/config.toml"
  until ctr --address "$sock" version >/dev/null 2>&1; do
    ours "$(tail -n1 "$dir/pids")" || die "containerd exited during start"
    [ $((SECONDS - t0)) -lt 60 ] || die "containerd did not answer on $sock after 60 s"
    sleep 0.2
  done
  # The images pods can use: nothing can be pulled.
  for image in pause jdk uploader; do
    tar=$("$here/node-images" $image)
    ctr --address "$sock" -n k8s.io images import "$tar" >&2
  done

  # The kubelet's cgroup root, in every v1 hierarchy (the kubelet wants it to exist).
  for h in /sys/fs/cgroup/*/; do [ -L "${h%/}" ] || mkdir -p "$h/kh$node_n"; done
  kubelet_port=$(free_port)
  cat >"$dir/kubelet/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
# This machine has cgroup v1 and swap; 1.34 runs there when told so.
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
cgroupRoot: /kh$node_n
address: $node_ip
port: $kubelet_port
readOnlyPort: 0
healthzPort: 0
containerRuntimeEndpoint: unix://$sock
podLogsDir: $dir/pod-logs
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: $dir/pki/ca.crt}
authorization: {mode: AlwaysAllow}
# A shared test machine: no image garbage collection (the images cannot be pulled again), no eviction for disk.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
protectKernelDefaults: false
resolvConf: /etc/resolv.conf
YAML
  daemon kubelet "$k8s/kubelet" --config "$dir/kubelet/config.yaml" --kubeconfig "$dir/kubelet.kubeconfig" \
    --root-dir "$dir/kubelet" --cert-dir "$dir/kubelet/pki" --hostname-override "$node_name" --node-ip "$node_ip"
  log "kube-scheduler, containerd, kubelet started; waiting for node $node_name to be Ready"
  until [ "$(kubectl --kubeconfig "$dir/kubeconfig" get node "$node_name" \
    -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]; do
    for pid in $(cat "$dir/pids"); do ours "$pid" || die "pid $pid exited during start"; done
    [ $((SECONDS - t0)) -lt 180 ] || die "node $node_name not Ready after 180 s"
    sleep 1
  done
  log "node $node_name Ready after $((SECONDS - t0)) s"
}

# Before the daemons stop: every container of the node, killed through containerd (its shims outlive it).
node_stop_workloads() {
  local sock=$dir/containerd/containerd.sock task
  [ -S "$sock" ] || return 0
  for task in $(ctr --address "$sock" -n k8s.io tasks list -q 2>/dev/null); do
    ctr --address "$sock" -n k8s.io tasks kill -a -s KILL "$task" >/dev/null 2>&1 || true
  done
  for task in $(ctr --address "$sock" -n k8s.io tasks list -q 2>/dev/null); do
    for _ in $(seq 50); do ctr --address "$sock" -n k8s.io tasks delete "$task" >/dev/null 2>&1 && break; sleep 0.2; done
  done
}

# After the daemons stopped: their shims, mounts, links and cgroups.
node_cleanup() {
  [ -f "$dir/node.env" ] || return 0
  local node_n pid mnt h
  node_n=$(sed -n 's/^node_n=//p' "$dir/node.env")
  local node_ip api_port
  node_ip=$(sed -n 's/^node_ip=//p' "$dir/node.env")
  api_port=$(sed -n 's/^api_port=//p' "$dir/node.env")
  [ -z "$api_port" ] || iptables -t nat -D PREROUTING -d "10.215.$node_n.1/32" -p tcp --dport 443 -m comment \
    --comment "kh$node_n" -j DNAT --to-destination "$node_ip:$api_port" 2>/dev/null || true
  for pid in $(pgrep -f "containerd-shim-runc-v2 .*-address $dir/containerd/containerd.sock" || true); do
    kill -KILL "$pid" 2>/dev/null || true
  done
  # Whatever still runs in the node's cgroups is one of its containers' processes.
  if [ -d "/sys/fs/cgroup/pids/kh$node_n" ]; then
    for pid in $(find "/sys/fs/cgroup/pids/kh$node_n" -name cgroup.procs -exec cat {} +); do
      log "killing pid $pid ($(cat "/proc/$pid/comm" 2>/dev/null)), left in cgroup kh$node_n"
      kill -KILL "$pid" 2>/dev/null || true
    done
    sleep 0.5
  fi
  # Deepest first: volumes, rootfs, netns.
  findmnt -rn -o TARGET | awk -v d="$dir/" 'index($0, d) == 1' | sort -r | while read -r mnt; do
    umount "$mnt" 2>/dev/null || umount -l "$mnt" || true
  done
  ip link del "khb$node_n" 2>/dev/null || true
  ip link del "khd$node_n" 2>/dev/null || true
  for h in /sys/fs/cgroup/*/; do
    [ -d "$h/kh$node_n" ] || continue
    find "$h/kh$node_n" -depth -type d -exec rmdir {} \; 2>/dev/null || log "cgroup $h/kh$node_n not removed"
  done
  log "node kh$node_n cleaned up"
}
