# mkroot.sh - helpers to assemble a busybox initramfs rootfs (sourced by build.sh, bash).
# Contract: KDIR = extracted linux-image .deb root, KVER = its version; all helpers take the rootfs dir
# first. Nothing is installed on the host; binaries and libraries are copied from the host's
# busybox-static and dropbear-bin packages, kernel modules from the extracted .deb.

# rootfs skeleton + static busybox (applet links are created at boot by `busybox --install -s`)
mkroot_base() {
  local R=$1
  mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,mnt,root,var/log,lib/modules}
  ln -s ../run "$R/var/run"
  chmod 1777 "$R/tmp"; chmod 700 "$R/root"
  cp /bin/busybox "$R/bin/busybox"
  ln -sf busybox "$R/bin/sh"
  printf 'root:x:0:0:root:/root:/bin/sh\n' > "$R/etc/passwd"
  printf 'root:x:0:\n' > "$R/etc/group"
  printf '/bin/sh\n' > "$R/etc/shells"
  printf 'passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n' > "$R/etc/nsswitch.conf"
}

# copy a dynamically linked ELF and the shared libraries ldd lists, at the same paths
mkroot_elf() {
  local R=$1 bin=$2 dest=${3:-$2} lib
  mkdir -p "$R$(dirname "$dest")"; cp -L "$bin" "$R$dest"
  for lib in $(ldd "$bin" | awk '/=>/ && $3 ~ /^\// {print $3} /^\t\/lib/ {print $1}'); do
    mkdir -p "$R$(dirname "$lib")"; [ -e "$R$lib" ] || cp -L "$lib" "$R$lib"
  done
}

# kernel module path by name ("-" and "_" are equivalent), via an index built once per kernel
_modpath() {
  local idx="$KDIR/modindex"
  [ -f "$idx" ] || find "$KDIR/lib/modules/$KVER" -name '*.ko' | awk -F/ '{ n = $NF; sub(/\.ko$/, "", n); gsub(/-/, "_", n); print n, $0 }' > "$idx"
  awk -v n="${1//-/_}" '$1 == n { print $2; exit }' "$idx"
}
_moddeps() { grep -a -o 'depends=[a-zA-Z0-9_,-]*' "$1" | head -1 | sed 's/^depends=//; s/,/ /g'; }

# copy modules (with their dependencies, resolved from each .ko's modinfo) to /lib/modules/standin
# and append them in load order (dependencies first) to /lib/modules/standin/load-order
mkroot_modules() {
  local R=$1; shift
  local D="$R/lib/modules/standin"; mkdir -p "$D"; touch "$D/load-order"
  local m
  for m in "$@"; do _mod_add "$D" "$m"; done
}
_mod_add() {
  local D=$1 m=${2//-/_} p d
  grep -qx "$m" "$D/load-order" && return 0
  if sed 's/-/_/g' "$KDIR/lib/modules/$KVER/modules.builtin" | grep -q "/${m}.ko\$"; then return 0; fi
  p=$(_modpath "$2"); [ -n "$p" ] || { echo "build: kernel module $2 not found" >&2; return 1; }
  for d in $(_moddeps "$p"); do _mod_add "$D" "$d"; done
  cp "$p" "$D/$m.ko"; echo "$m" >> "$D/load-order"
}

# pack the rootfs as a gzip'd newc cpio (owner root)
mkroot_cpio() { (cd "$1" && find . | cpio -o -H newc -R 0:0 --quiet | gzip -6) > "$2"; }
