#!/bin/bash
# build.sh RELEASE OUTDIR [--overlay DIR]
#   -> OUTDIR/pve-standin-<RELEASE>.iso : hybrid (BIOS+UEFI) Proxmox VE installer stand-in (README.md).
# RELEASE: 8.2 .. 9.2 (optionally with ISO release, e.g. 8.4-1). --overlay DIR is copied into the
# installed node's rootfs (part 2 adds its command shims and /etc/standin/rc.d hooks there).
# Inputs are Debian packages only: the linux-image .deb (downloaded with apt-get download, unpacked with
# dpkg-deb -x, never installed) plus the host's busybox-static, dropbear-bin, grub-pc-bin,
# grub-efi-amd64-bin, mtools, xorriso. Results are cached under <repo>/.cache/standin/ keyed by a hash
# of every input (scripts, overlay, package versions, release), so a repeated call only copies the ISO.
# Prints the ISO path on stdout (last line).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${STANDIN_CACHE:-$REPO/.cache/standin}
usage() { echo "usage: build.sh RELEASE OUTDIR [--overlay DIR]" >&2; exit 2; }
[ $# -ge 2 ] || usage
REL_FULL=$1; OUT=$2; shift 2; OVERLAY=
while [ $# -gt 0 ]; do case $1 in --overlay) OVERLAY=$(realpath "$2"); shift 2 ;; *) usage ;; esac; done
[[ $REL_FULL =~ ^([89])\.([0-9])(-([0-9]+))?$ ]] || { echo "build: unsupported release '$REL_FULL' (8.2 .. 9.2)" >&2; exit 2; }
REL="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}"; ISOREL=${BASH_REMATCH[4]:-1}
RNUM=$((BASH_REMATCH[1] * 100 + BASH_REMATCH[2]))
{ [ $RNUM -ge 802 ] && [ $RNUM -le 902 ]; } || { echo "build: release $REL outside 8.2 .. 9.2" >&2; exit 2; }
for t in grub-mkrescue xorriso mformat cpio dropbear dropbearkey apt-get dpkg-deb dpkg-query getent bridge dash bash /usr/lib/openssh/sftp-server; do
  command -v $t >/dev/null || { echo "build: missing tool $t (see README prerequisites)" >&2; exit 3; }
done
mkdir -p "$CACHE/debs" "$OUT"
source "$HERE/lib/mkroot.sh"

# --- kernel: Debian's linux-image .deb, extracted once (vmlinuz + modules only)
KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
[ -n "$KPKG" ] || { echo "build: cannot resolve linux-image-amd64 (run apt-get update)" >&2; exit 3; }
KVER=${KPKG#linux-image-}
KDIR="$CACHE/kernel/$KVER"
if [ ! -f "$KDIR/.done" ]; then
  ls "$CACHE/debs/${KPKG}_"*.deb >/dev/null 2>&1 || (cd "$CACHE/debs" && apt-get download -qq "$KPKG" 2>/dev/null)
  T=$(mktemp -d "$CACHE/kx.XXXX"); dpkg-deb -x "$CACHE/debs/${KPKG}_"*.deb "$T"
  rm -rf "$KDIR"; mkdir -p "$KDIR/lib/modules"
  cp "$T/boot/vmlinuz-$KVER" "$KDIR/vmlinuz"; mv "$T/lib/modules/$KVER" "$KDIR/lib/modules/"
  rm -rf "$T"; touch "$KDIR/.done"
fi
KDEB=$(basename "$CACHE/debs/${KPKG}_"*.deb)
# --- open-iscsi .deb (Debian's, never installed): iscsid.conf and its control fields for the node's
# dpkg status (a Proxmox ISO install has open-iscsi, README "Debian files on the node")
ls "$CACHE/debs/open-iscsi_"*.deb >/dev/null 2>&1 || (cd "$CACHE/debs" && apt-get download -qq open-iscsi 2>/dev/null)
OIDEB=$(ls "$CACHE/debs/open-iscsi_"*.deb 2>/dev/null | head -1)
[ -n "$OIDEB" ] || { echo "build: cannot download open-iscsi (run apt-get update)" >&2; exit 3; }

# --- cache keys: hash of all build inputs
hash_inputs() { # node|iso
  { echo "$1 $KDEB $(basename "$OIDEB")"; sha256sum /bin/busybox "$(command -v dropbear)" "$(command -v dropbearkey)" /usr/lib/openssh/sftp-server \
      /usr/bin/getent /usr/bin/dpkg-query /bin/sed /bin/grep
    dpkg-query -W grub-pc-bin grub-efi-amd64-bin xorriso 2>/dev/null
    (cd "$HERE" && find . -path ./control -prune -o -type f ! -name README.md -print | LC_ALL=C sort | xargs sha256sum)
    if [ -n "$OVERLAY" ]; then (cd "$OVERLAY" && find . -type f | LC_ALL=C sort | xargs -r sha256sum; find . | LC_ALL=C sort); fi
  } | sha256sum | cut -c1-16
}
NODE_KEY=$(hash_inputs node)
ISO_KEY=$(hash_inputs "iso $REL $ISOREL $NODE_KEY")
ISO_NAME="pve-standin-$REL.iso"
ISO_CACHED="$CACHE/iso-$ISO_KEY/$ISO_NAME"
if [ -f "$ISO_CACHED" ]; then cp "$ISO_CACHED" "$OUT/$ISO_NAME"; echo "$OUT/$ISO_NAME"; exit 0; fi

W=$(mktemp -d "$CACHE/work.XXXX"); trap 'rm -rf "$W"' EXIT
GRUB_MODS="linux normal iso9660 search search_fs_uuid search_label serial terminal test configfile echo part_gpt part_msdos fat ext2 sleep"
mkrescue() { # TREE OUT VOLID
  grub-mkrescue --install-modules="$GRUB_MODS" --fonts= --locales= --themes= --compress=xz \
    -o "$2" "$1" -- -volid "$3" >"$W/mkrescue.log" 2>&1 || { cat "$W/mkrescue.log" >&2; exit 4; }
}

# --- installed node image (grub-mkrescue hybrid image, dd'd to the target disk by the installer)
NODE_IMG="$CACHE/node-$NODE_KEY/node-disk.img"
if [ ! -f "$NODE_IMG" ]; then
  R="$W/noderoot"; mkroot_base "$R"
  mkroot_elf "$R" "$(command -v dropbear)" /usr/sbin/dropbear
  mkroot_elf "$R" "$(command -v dropbearkey)" /usr/bin/dropbearkey
  # SFTP as on a Proxmox node (OpenSSH's sftp-server; Debian's dropbear runs /usr/lib/sftp-server)
  mkroot_elf "$R" /usr/lib/openssh/sftp-server /usr/lib/sftp-server
  # iproute2 (ip netns, veth peers in other namespaces, ip -n), as on a real node (boot.sh links it)
  # shells as on a Proxmox node: dash as /bin/sh, bash for root (busybox sh would run its own
  # applets, e.g. its small `ip`, instead of the iproute2 binaries in PATH)
  mkroot_elf "$R" "$(command -v dash)" /bin/dash; ln -sf dash "$R/bin/sh"
  mkroot_elf "$R" "$(command -v bash)" /bin/bash; echo /bin/bash >> "$R/etc/shells"
  sed -i 's|:/root:/bin/sh$|:/root:/bin/bash|' "$R/etc/passwd"
  # Debian userland pvelab and admins use on a node: getent (libc-bin), GNU sed and grep (busybox
  # --install keeps existing files), dpkg-query reading /var/lib/dpkg/status (node/debian.sh)
  mkroot_elf "$R" /usr/bin/getent; mkroot_elf "$R" /bin/sed; mkroot_elf "$R" /bin/grep
  mkroot_elf "$R" /usr/bin/dpkg-query
  T="$W/oi"; mkdir -p "$T" "$R/usr/lib/standin/debian"; dpkg-deb -x "$OIDEB" "$T"
  install -m 644 "$T/etc/iscsi/iscsid.conf" "$R/usr/lib/standin/debian/iscsid.conf"
  dpkg-deb -f "$OIDEB" > "$R/usr/lib/standin/debian/open-iscsi.control"
  mkroot_elf "$R" /bin/ip /usr/lib/standin/bin/ip; mkroot_elf "$R" "$(command -v bridge)" /usr/lib/standin/bin/bridge
  mkroot_modules "$R" virtio_pci virtio_blk virtio_net virtio_scsi virtio_console ahci sd_mod \
    bridge veth tun overlay loop 8021q evdev
  mkdir -p "$R/etc/standin/rc.d" "$R/etc/dropbear" "$R/etc/network" "$R/usr/lib/standin"
  install -m 755 "$HERE/node/boot.sh" "$R/usr/lib/standin/boot.sh"
  install -m 755 "$HERE/node/shutdown.sh" "$R/usr/lib/standin/shutdown.sh"
  install -m 755 "$HERE/node/identity.sh" "$R/usr/lib/standin/identity.sh"
  install -m 755 "$HERE/node/debian.sh" "$R/usr/lib/standin/debian.sh"
  install -m 644 "$HERE/node/inittab" "$R/etc/inittab"
  ln -s bin/busybox "$R/init"
  [ -z "$OVERLAY" ] || cp -a "$OVERLAY/." "$R/"
  T="$W/nodetree"; mkdir -p "$T/boot/grub"
  cp "$KDIR/vmlinuz" "$T/boot/vmlinuz"; mkroot_cpio "$R" "$T/boot/initrd.img"
  cp "$HERE/node/grub.cfg" "$T/boot/grub/grub.cfg"
  mkdir -p "$(dirname "$NODE_IMG")"; mkrescue "$T" "$NODE_IMG.tmp" PVE-NODE; mv "$NODE_IMG.tmp" "$NODE_IMG"
fi

# --- installer initramfs
R="$W/instroot"; mkroot_base "$R"
mkroot_elf "$R" "$(command -v dropbearkey)" /usr/bin/dropbearkey
mkroot_modules "$R" virtio_pci virtio_blk virtio_net virtio_scsi ahci sd_mod sr_mod isofs vfat \
  nls_cp437 nls_iso8859_1 nls_utf8 ext4
mkdir -p "$R/usr/lib/standin" "$R/usr/share/zoneinfo" "$R/cdrom" "$R/mnt/answer"
for f in toml.awk schema.awk rules.awk validate-answer.sh inventory.sh low-level-install.sh; do
  install -m 755 "$HERE/installer/$f" "$R/usr/lib/standin/$f"
done
install -m 755 "$HERE/installer/init" "$R/init"
install -m 755 "$HERE/installer/proxmox-fetch-answer" "$R/usr/bin/proxmox-fetch-answer"
install -m 755 "$HERE/installer/proxmox-auto-installer" "$R/usr/bin/proxmox-auto-installer"
cp /usr/share/zoneinfo/iso3166.tab /usr/share/zoneinfo/zone.tab "$R/usr/share/zoneinfo/"
echo "$REL" > "$R/etc/standin-release"

# --- ISO tree (proxmox.md B: /.cd-info, /auto-installer-capable, /boot/linux26, /boot/initrd.img)
T="$W/isotree"; mkdir -p "$T/boot/grub" "$T/standin"
cp "$KDIR/vmlinuz" "$T/boot/linux26"; mkroot_cpio "$R" "$T/boot/initrd.img"
cp "$HERE/iso/grub.cfg" "$T/boot/grub/grub.cfg"
: > "$T/auto-installer-capable"
printf "PRODUCT='pve'\nPRODUCTLONG='Proxmox VE'\nRELEASE='%s'\nISORELEASE='%s'\nISONAME='proxmox-ve'\n" "$REL" "$ISOREL" > "$T/.cd-info"
cp "$NODE_IMG" "$T/standin/node-disk.img"
mkdir -p "$(dirname "$ISO_CACHED")"; mkrescue "$T" "$ISO_CACHED.tmp" PVE; mv "$ISO_CACHED.tmp" "$ISO_CACHED"
cp "$ISO_CACHED" "$OUT/$ISO_NAME"
echo "$OUT/$ISO_NAME"
