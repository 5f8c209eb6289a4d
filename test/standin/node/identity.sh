#!/bin/sh
# identity.sh - prints the node identity block (README "Disk identity") found at byte offset 64 MiB
# of the first disk that carries one (vd*, sd*, nvme*). Exit 1 if no disk has one.
for b in /sys/block/vd* /sys/block/sd* /sys/block/nvme*; do
  [ -e "$b" ] || continue; d=/dev/$(basename "$b")
  if [ "$(dd if=$d bs=65536 skip=1024 count=1 2>/dev/null | head -c 18)" = "STANDIN-IDENTITY 1" ]; then
    dd if=$d bs=65536 skip=1024 count=1 2>/dev/null | tr -d '\0' | sed '/^END$/q'
    echo "disk=${d#/dev/}" ; exit 0
  fi
done
exit 1
