#!/bin/sh
# low-level-install.sh CFGDIR - the stand-in's "proxmox-low-level-installer start-session".
# Writes the node image (/cdrom/standin/node-disk.img) to every selected disk, then the node identity
# block at byte offset 64 MiB (IDENT_OFFSET) of each of them. Identity format: README "Disk identity".
# Progress lines follow upstream's "INFO: progress  NN.N % - TEXT" format. Secrets are not printed.
set -u
CFG=$1; . "$CFG/config"
IMG=/cdrom/standin/node-disk.img
IDENT_BLOCK=65536; IDENT_SKIP=1024          # 1024 * 64 KiB = 64 MiB
progress() { printf 'INFO: progress %5s %% - %s\n' "$1" "$2"; }
fail() { echo "ERROR: $1"; exit 1; }
[ -f "$IMG" ] || fail "node image missing on the installation medium"
LEASE=/run/proxmox-installer/lease
if [ "$NET_SOURCE" = from-dhcp ]; then   # from-dhcp freezes the install-time lease as static config
  if [ -f $LEASE ]; then
    ip=$(sed -n 's/^ip=//p' $LEASE); mask=$(sed -n 's/^mask=//p' $LEASE)
    CIDR="$ip/$mask"; GATEWAY=$(sed -n 's/^router=//p' $LEASE); DNS=$(sed -n 's/^dns=//p' $LEASE)
  else
    echo "WARN: no DHCP lease - using installer defaults"   # UNVERIFIED upstream defaults
    CIDR=192.168.100.2/24; GATEWAY=192.168.100.1; DNS=127.0.0.1
  fi
fi
progress 0.0 "cleanup root-disks"
for d in $DISKS; do
  sz=$(( $(cat /sys/block/$d/size) * 512 ))
  [ $sz -ge $((IDENT_BLOCK * (IDENT_SKIP + 1))) ] || fail "disk /dev/$d too small ($sz bytes)"
done
case $FILESYSTEM in
  zfs) progress 2.0 "create partitions"; progress 3.0 "create rpool" ;;
  btrfs) progress 2.0 "create partitions"; progress 3.0 "create btrfs" ;;
  *) progress 2.0 "create partitions"; progress 3.0 "create LVs"; progress 4.0 "create swap space" ;;
esac
progress 4.5 "creating root filesystems"
progress 5.0 "extracting base system"
for d in $DISKS; do dd if="$IMG" of=/dev/$d bs=1M conv=fsync 2>/dev/null || fail "writing /dev/$d failed"; done
progress 50.0 "configuring base system"
W=/run/proxmox-installer/ident; mkdir -p $W; umask 077
if [ -f "$CFG/root-password-hashed" ]; then cp "$CFG/root-password-hashed" $W/hash
else mkpasswd -m sha512 < "$CFG/root-password" > $W/hash; fi
dropbearkey -t ed25519 -f $W/hostkey >/dev/null 2>&1 || fail "host key generation failed"
{
  echo "STANDIN-IDENTITY 1"
  echo "release=$(cat /etc/standin-release)"
  for k in FQDN HOSTNAME DOMAIN CIDR GATEWAY DNS NIC_MAC FILESYSTEM RAID DISKS KEYBOARD COUNTRY TIMEZONE MAILTO REBOOT_MODE; do
    eval "v=\${$k}"; echo "$(echo $k | tr A-Z a-z)=$v"
  done
  echo "nic_name=$(awk -v n="$NIC" '$1 == "nic" && $2 == n { for (i = 3; i <= NF; i++) if ($i ~ /^ID_NET_NAME=/) { sub(/^ID_NET_NAME=/, "", $i); print $i } }' /run/proxmox-installer/hw)"
  echo "root_password_hash=$(cat $W/hash)"
  while IFS= read -r key; do [ -n "$key" ] && echo "root_ssh_key=$key"; done < "$CFG/root-ssh-keys"
  echo "host_key_ed25519=$(base64 -w0 $W/hostkey)"
  echo "END"
} > $W/identity
[ $(wc -c < $W/identity) -lt $IDENT_BLOCK ] || fail "identity larger than 64 KiB"
dd if=/dev/zero of=$W/block bs=$IDENT_BLOCK count=1 2>/dev/null
dd if=$W/identity of=$W/block conv=notrunc 2>/dev/null
progress 75.0 "configuring pve-manager"
for d in $DISKS; do dd if=$W/block of=/dev/$d bs=$IDENT_BLOCK seek=$IDENT_SKIP conv=notrunc,fsync 2>/dev/null || fail "writing identity to /dev/$d failed"; done
rm -rf $W; sync
progress 95.0 "make system bootable"
progress 100.0 "installation finished"
action=rebooting; [ -f /run/proxmox-poweroff-after-install ] && action="powering off"
echo "INFO: Finished: 'ok' Installation finished - auto $action in 1 seconds .."
sleep 1
exit 0
