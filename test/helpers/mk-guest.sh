#!/bin/bash
# mk-guest.sh OUTDIR DEBDIR -> OUTDIR/{vmlinuz,initrd.gz,kernel.txt}: busybox TCG test guest (test-harness.md §2.2).
# The guest configures eth0 from the kernel cmdline (lab_ip=A.B.C.D/NN|dhcp lab_gw=... lab_name=...),
# serves "hello from NAME" on :80 (busybox httpd), prints "DISK vdX ..." per virtio disk and
# "LAB-READY <uptime>" on ttyS0. Kernel: Debian's linux-image .deb, downloaded into DEBDIR (kept as a
# cache) and extracted with dpkg-deb — never installed. Needs apt lists (apt-get update), busybox-static, cpio.
set -euo pipefail
OUT=$(realpath -m "$1"); DEBS=$(realpath -m "$2")
mkdir -p "$OUT" "$DEBS"; chmod 755 "$DEBS"
W=$(mktemp -d); chmod 755 "$W"; trap 'rm -rf "$W"' EXIT
KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
[ -n "$KPKG" ] || { echo "mk-guest: apt-cache knows no linux-image-amd64 (run apt-get update)" >&2; exit 1; }
KVER=${KPKG#linux-image-}
DEB=$(ls "$DEBS/${KPKG}_"*.deb 2>/dev/null | head -n1 || true)
if [ -z "$DEB" ]; then
  (cd "$W" && apt-get download -qq "$KPKG")
  mv "$W"/*.deb "$DEBS/"
  DEB=$(ls "$DEBS/${KPKG}_"*.deb | head -n1)
fi
dpkg-deb -x "$DEB" "$W/k"
cp "$W/k/boot/vmlinuz-$KVER" "$OUT/vmlinuz"
R="$W/root"; mkdir -p "$R"/{bin,proc,sys,dev,tmp,www,mod}
cp /bin/busybox "$R/bin/" # static, from busybox-static
for a in sh mount insmod ip httpd udhcpc sleep cat echo hostname dd hexdump basename; do ln -s busybox "$R/bin/$a"; done
MODS="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net virtio_blk"
for m in $MODS; do cp "$(find "$W/k/lib/modules/$KVER" -name "$m.ko")" "$R/mod/"; done # load order matters
cat >"$R/init" <<INIT
#!/bin/sh
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $MODS; do insmod /mod/\$m.ko; done
for kv in \$(cat /proc/cmdline); do case "\$kv" in lab_ip=*) IP=\${kv#lab_ip=};; lab_gw=*) GW=\${kv#lab_gw=};; lab_name=*) NAME=\${kv#lab_name=};; esac; done
hostname "\${NAME:-guest}"; ip link set lo up
i=0; while [ ! -e /sys/class/net/eth0 ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i+1)); done
ip link set eth0 up
if [ "\$IP" = dhcp ]; then
  printf '#!/bin/sh\n[ -n "\$ip" ] && ip addr add \$ip/\$mask dev \$interface; [ -n "\$router" ] && ip route add default via \$router; exit 0\n' > /bin/dhcp.sh; chmod +x /bin/dhcp.sh
  udhcpc -i eth0 -s /bin/dhcp.sh -q -t 20 -T 1
else
  ip addr add "\$IP" dev eth0; [ -n "\$GW" ] && ip route add default via "\$GW"
fi
echo "hello from \$(hostname)" > /www/index.html
httpd -p 80 -h /www
for b in /sys/block/vd*; do [ -e "\$b" ] && d=\$(basename \$b) && echo "DISK \$d sectors=\$(cat \$b/size) head=\$(dd if=/dev/\$d bs=16 count=1 2>/dev/null | hexdump -v -e '16/1 "%02x"')" > /dev/console; done
echo "LAB-READY \$(cat /proc/uptime)" > /dev/console
while true; do sleep 3600; done
INIT
chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc --quiet | gzip -1 >"$OUT/initrd.gz")
echo "$KPKG $(basename "$DEB")" >"$OUT/kernel.txt"
echo "$OUT/vmlinuz $OUT/initrd.gz (kernel $KVER)"
