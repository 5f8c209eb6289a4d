#!/bin/sh
# inventory.sh - the stand-in's "proxmox-low-level-installer dump-udev": prints the hardware inventory
# that rules.awk matches filters against, one device per line:
#   nic NAME mac=MAC INTERFACE=.. ID_NET_NAME_MAC=enx<mac> ID_NET_NAME_PATH=enpXsY ID_NET_NAME=enpXsY ID_NET_DRIVER=..
#   disk NAME size=BYTES DEVNAME=/dev/NAME ID_SERIAL=.. ID_MODEL=.. ID_PATH=pci-..
# Disks exclude CD-ROMs, the install medium (/run/standin-cdrom) and any filesystem labelled
# PROXMOX-AIS (answer media). Values contain no spaces (udev style: spaces -> _).
pcipath() { # sysfs device dir -> PCI address (0000:00:02.0) of the nearest PCI ancestor
  p=$(readlink -f "$1")
  while [ -n "$p" ] && [ "$p" != / ]; do
    b=$(basename "$p"); case $b in [0-9a-f][0-9a-f][0-9a-f][0-9a-f]:*:*.*) echo "$b"; return ;; esac
    p=$(dirname "$p")
  done
}
for n in /sys/class/net/*; do
  nm=$(basename "$n"); [ "$nm" = lo ] && continue; [ -e "$n/device" ] || continue
  mac=$(cat "$n/address"); h=$(echo "$mac" | tr -d ':')
  a=$(pcipath "$n/device"); path=
  if [ -n "$a" ]; then
    bus=${a#*:}; bus=${bus%%:*}; slot=${a##*:}; fn=${slot#*.}; slot=${slot%.*}
    path=$(printf 'enp%ds%d' "0x$bus" "0x$slot"); [ "$fn" = 0 ] || path="${path}f$fn"
  fi
  drv=$(basename "$(readlink -f "$n/device/driver")")
  echo "nic $nm mac=$mac INTERFACE=$nm ID_NET_NAME_MAC=enx$h${path:+ ID_NET_NAME_PATH=$path ID_NET_NAME=$path} ID_NET_DRIVER=$drv"
done
media=$(cat /run/standin-cdrom 2>/dev/null)
for b in /sys/block/*; do
  nm=$(basename "$b")
  case $nm in vd*|sd*|nvme*|hd*) ;; *) continue ;; esac
  [ "/dev/$nm" = "$media" ] && continue
  lbl=$(dd if=/dev/$nm bs=1 skip=32808 count=32 2>/dev/null | tr -d ' \0')
  case $lbl in [Pp][Rr][Oo][Xx][Mm][Oo][Xx]-[Aa][Ii][Ss]) continue ;; esac
  for l in proxmox-ais PROXMOX-AIS; do [ "$(findfs LABEL=$l 2>/dev/null)" = "/dev/$nm" ] && continue 2; done
  size=$(( $(cat "$b/size") * 512 ))
  serial=$(cat "$b/serial" 2>/dev/null || cat "$b/device/serial" 2>/dev/null)
  model=$(cat "$b/device/model" 2>/dev/null | tr -s ' ' '_' | sed 's/_$//')
  a=$(pcipath "$b/device")
  echo "disk $nm size=$size DEVNAME=/dev/$nm${serial:+ ID_SERIAL=$(echo "$serial" | tr ' ' _) ID_SERIAL_SHORT=$(echo "$serial" | tr ' ' _)}${model:+ ID_MODEL=$model}${a:+ ID_PATH=pci-$a}"
done
