#!/bin/bash
# ns-init.sh DIR LIBVIRT TGTD — PID 1 of a lab namespace (test-harness.md §2.3). labns.ts starts it as
#   setpriv --pdeathsig KILL -- unshare --pid --fork --kill-child --mount-proc --mount --net \
#     --propagation private -- bash ns-init.sh DIR 0|1 0|1
# Contract, in this order:
#   1. private /run (tmpfs) and /sys (sysfs of this netns), lo up;
#   2. LIBVIRT=1: copy /etc/libvirt to DIR/etc with lab overrides, bind DIR/{etc,lib,log,cache} over the
#      libvirt dirs, start virtlogd + libvirtd and wait until libvirtd answers;
#   3. TGTD=1: start tgtd and wait until tgtadm answers;
#   4. touch DIR/ready, then reap zombies forever (daemons re-parent to us).
# Any failure exits non-zero with a message on stderr (DIR/ns.log); the namespace dies with PID 1.
set -euo pipefail
S=$1 LV=$2 TGT=$3

mount -t tmpfs -o mode=755 labrun /run
mkdir -p /run/lock /run/libvirt /run/sshd
chmod 1777 /run/lock
mount -t sysfs labsys /sys # libvirt's bridge code reads /sys/class/net of this netns
ip link set lo up

waitfor() { # waitfor TRIES CMD... (0.1 s apart)
  local n=$1; shift
  for ((i = 0; i < n; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "ns-init: gave up waiting for: $*" >&2; return 1
}

if [ "$LV" = 1 ]; then
  mkdir -p "$S"/{etc,lib,log,cache}
  cp -a /etc/libvirt/. "$S/etc/"
  rm -f "$S"/etc/qemu/*.xml "$S"/etc/qemu/networks/*.xml "$S"/etc/qemu/networks/autostart/*.xml
  cat >>"$S/etc/qemu.conf" <<'CONF'
# --- lab overrides: throwaway TCG guests, no cgroups/relabelling shared with the host libvirtd ---
user = "root"
group = "root"
dynamic_ownership = 0
cgroup_controllers = [ ]
security_driver = "none"
CONF
  mount --bind "$S/etc" /etc/libvirt
  mount --bind "$S/lib" /var/lib/libvirt
  mount --bind "$S/log" /var/log/libvirt
  mount --bind "$S/cache" /var/cache/libvirt
  export LIBVIRT_LOG_OUTPUTS="3:file:/var/log/libvirt/libvirtd.log"
  virtlogd -d </dev/null >>"$S/log/virtlogd.out" 2>&1
  libvirtd -d </dev/null >>"$S/log/libvirtd.out" 2>&1
  unset LIBVIRT_LOG_OUTPUTS
  waitfor 300 virsh -c qemu:///system -q uri
fi

if [ "$TGT" = 1 ]; then
  tgtd </dev/null >>"$S/tgtd.out" 2>&1 # daemonises; control socket /run/tgtd/socket.0 is private
  waitfor 100 tgtadm --lld iscsi --mode target --op show
fi

touch "$S/ready"
trap 'exit 0' TERM
while :; do sleep 3600 & wait $! || true; done # PID 1: bash reaps re-parented zombies
