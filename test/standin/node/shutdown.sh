#!/bin/sh
# shutdown.sh - run by busybox init on poweroff/reboot: stop services, flush disks.
echo "STANDIN-NODE-SHUTDOWN $(hostname)" > /dev/console
killall dropbear 2>/dev/null
sync
