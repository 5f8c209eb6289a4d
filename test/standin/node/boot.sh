#!/bin/sh
# boot.sh - installed node bring-up (busybox init sysinit). Order (README "Installed node"):
#  1. pseudo filesystems, busybox applet links, kernel modules (virtio, bridge, veth, tun, overlay, ...)
#  2. read the identity block from the disk (identity.sh) -> /etc/standin/identity (0600)
#  3. hostname, /etc/resolv.conf, /etc/network/interfaces like a Proxmox install; debian.sh: /etc/hosts,
#     /etc/hostname, apt sources, dpkg status (open-iscsi), /etc/iscsi as an ISO install leaves them
#  4. root password hash -> /etc/shadow, root's SSH keys -> /root/.ssh/authorized_keys
#  5. network: NIC chosen by the answer's MAC, renamed to its predictable name, enslaved to bridge vmbr0
#     which carries the node's address; default route via the gateway
#  6. dropbear on :22 with the install-time host key
#  7. every executable /etc/standin/rc.d/* in name order (env: STANDIN_*), then
#     "STANDIN-NODE-READY <fqdn> <ip>" on the console (ttyS0)
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
/bin/busybox --install -s
for d in /bin /sbin /usr/bin /usr/sbin; do  # iproute2 instead of busybox's ip/bridge applets
  ln -sf /usr/lib/standin/bin/ip $d/ip; ln -sf /usr/lib/standin/bin/bridge $d/bridge
done
mkdir -p /dev/pts /dev/shm /run /var/run /var/log
mount -t devpts devpts /dev/pts; mount -t tmpfs tmpfs /dev/shm; mount -t tmpfs -o mode=755 tmpfs /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
for m in $(cat /lib/modules/standin/load-order); do insmod /lib/modules/standin/$m.ko 2>/dev/null; done
ip link set lo up

i=0
until /usr/lib/standin/identity.sh > /run/identity 2>/dev/null; do
  i=$((i+1)); [ $i -ge 50 ] && { echo "STANDIN-NODE-ERROR no identity block on any disk"; exit 1; }; sleep 0.2
done
mkdir -p /etc/standin; umask 077; mv /run/identity /etc/standin/identity; umask 022
get() { sed -n "s/^$1=//p" /etc/standin/identity | head -1; }
FQDN=$(get fqdn); HOST=$(get hostname); DOMAIN=$(get domain); CIDR=$(get cidr); IP=${CIDR%/*}
GW=$(get gateway); DNS=$(get dns); MAC=$(get nic_mac); NICNAME=$(get nic_name)

hostname "$HOST"
/usr/lib/standin/debian.sh || echo "STANDIN-NODE-WARN debian.sh exited $?"  # hosts, hostname, apt, dpkg, iscsi
printf 'search %s\nnameserver %s\n' "$DOMAIN" "$DNS" > /etc/resolv.conf
echo "$(get timezone)" > /etc/timezone

umask 077
printf 'root:%s:20000:0:99999:7:::\n' "$(get root_password_hash)" > /etc/shadow
mkdir -p /root/.ssh; sed -n 's/^root_ssh_key=//p' /etc/standin/identity > /root/.ssh/authorized_keys
get host_key_ed25519 | base64 -d > /etc/dropbear/dropbear_ed25519_host_key
umask 022

nic=
for n in /sys/class/net/*; do [ "$(cat $n/address)" = "$MAC" ] && [ -e $n/device ] && nic=$(basename $n) && break; done
if [ -z "$nic" ]; then  # the install-time NIC is gone: fall back to the first NIC (like a changed MAC)
  for n in /sys/class/net/*; do [ -e $n/device ] && nic=$(basename $n) && break; done
  echo "STANDIN-NODE-WARN NIC $MAC not found, using $nic"
fi
if [ -n "$NICNAME" ] && [ "$nic" != "$NICNAME" ] && [ ! -e /sys/class/net/$NICNAME ]; then
  ip link set "$nic" name "$NICNAME" && nic=$NICNAME
fi
cat > /etc/network/interfaces <<EOF
auto lo
iface lo inet loopback

iface $nic inet manual

auto vmbr0
iface vmbr0 inet static
	address $CIDR
	gateway $GW
	bridge-ports $nic
	bridge-stp off
	bridge-fd 0
EOF
ip link add vmbr0 type bridge stp_state 0 forward_delay 0
ip link set vmbr0 address "$(cat /sys/class/net/$nic/address)"
ip link set "$nic" master vmbr0
ip link set "$nic" up; ip link set vmbr0 up
ip addr add "$CIDR" dev vmbr0
[ -n "$GW" ] && ip route add default via "$GW" dev vmbr0

dropbear -r /etc/dropbear/dropbear_ed25519_host_key -p 22
i=0; until netstat -ltn 2>/dev/null | grep -q ':22 '; do i=$((i+1)); [ $i -ge 50 ] && break; sleep 0.1; done

export STANDIN_FQDN="$FQDN" STANDIN_HOSTNAME="$HOST" STANDIN_IP="$IP" STANDIN_CIDR="$CIDR" STANDIN_GATEWAY="$GW"
export STANDIN_NIC="$nic" STANDIN_BRIDGE=vmbr0 STANDIN_RELEASE="$(get release)"
for f in /etc/standin/rc.d/*; do
  [ -f "$f" ] && [ -x "$f" ] || continue
  "$f" || echo "STANDIN-NODE-WARN rc.d hook $(basename "$f") exited $?"
done
echo "STANDIN-NODE-READY $FQDN $IP"
