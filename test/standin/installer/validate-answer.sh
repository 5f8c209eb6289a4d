#!/bin/sh
# validate-answer.sh - the stand-in's answer.toml validation, runnable in the installer and on the host:
#   busybox sh validate-answer.sh --release 8.3 [--nics MAC,..] [--nic NAME,MAC[,KEY=VAL..]]..
#       [--disks vda,vdb] [--disk NAME[,KEY=VAL..]].. [--hw FILE] [--dhcp-hostname H] [--dhcp-domain D]
#       [--out DIR] ANSWER.toml
# Checks answer.toml against Proxmox's rules for that ISO release (see README "Validation") and prints
# what proxmox-auto-installer prints (INFO:/ERROR: lines). Exit 0 = accepted, 1 = rejected, 2 = usage.
# --out DIR (on success): DIR/config (shell KEY='value' lines), DIR/root-ssh-keys, and DIR/root-password
# or DIR/root-password-hashed (mode 600); DIR/flags (REBOOT_ON_ERROR, REBOOT_MODE) as soon as the answer
# parsed, even if a runtime check fails. Secrets are never printed.
# Hardware: --nics gives NICs eth0.. by MAC; --disks gives disks by name; --nic/--disk add udev
# properties (e.g. --disk sda,ID_SERIAL=X); --hw FILE is the inventory format rules.awk reads.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
AWK=${STANDIN_AWK:-awk}
REL= ; OUT= ; DH= ; DD= ; FILE=
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT; : > "$W/hw"
nicprops() { # NAME MAC -> udev-like properties of a NIC
  h=$(echo "$2" | tr -d ':' | tr 'A-F' 'a-f')
  echo "nic $1 mac=$2 INTERFACE=$1 ID_NET_NAME_MAC=enx$h ID_NET_NAME=${3:-$1} ID_NET_DRIVER=virtio_net"
}
n=0
while [ $# -gt 0 ]; do
  case "$1" in
    --release) REL=$2; shift 2 ;;
    --nics) for m in $(echo "$2" | tr ',' ' '); do nicprops "eth$n" "$m" >> "$W/hw"; n=$((n+1)); done; shift 2 ;;
    --nic) set -- "$(echo "$2" | tr ',' ' ')" "$@"; a=$1; shift; nm=${a%% *}; rest=${a#* }; mac=${rest%% *}
           extra=""; [ "$rest" != "$mac" ] && extra=${rest#* }
           echo "$(nicprops "$nm" "$mac") $extra" >> "$W/hw"; shift 2 ;;
    --disks) for d in $(echo "$2" | tr ',' ' '); do echo "disk $d DEVNAME=/dev/$d" >> "$W/hw"; done; shift 2 ;;
    --disk) echo "disk $(echo "$2" | tr ',' ' ') DEVNAME=/dev/${2%%,*}" >> "$W/hw"; shift 2 ;;
    --hw) cat "$2" >> "$W/hw"; shift 2 ;;
    --dhcp-hostname) DH=$2; shift 2 ;;
    --dhcp-domain) DD=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) FILE=$1; shift ;;
  esac
done
[ -n "$REL" ] && [ -n "$FILE" ] || { echo "usage: validate-answer.sh --release X.Y [...] ANSWER.toml" >&2; exit 2; }
R=$(echo "$REL" | $AWK -F'[.-]' '{ printf "%d", $1 * 100 + $2 }')
if ! $AWK -f "$HERE/toml.awk" "$FILE" > "$W/parsed" || ! $AWK -v REL="$R" -f "$HERE/schema.awk" "$W/parsed" > "$W/canon"; then
  # render like the toml crate: "TOML parse error at line L, column C", the line, a caret, the message
  E=$(grep -m1 '^!' "$W/canon" 2>/dev/null || true)
  [ -n "$E" ] || E=$(grep -m1 '^!error' "$W/parsed" | $AWK -F'\t' '{ printf "!parse\t%s\t1\t%s", $3, $2 }')
  $AWK -F'\t' -v src="$FILE" '{
    L = $2; len = $3; msg = $4; n = 0
    while ((getline t < src) > 0) if (++n == L) break
    key = msg; c = 1
    if (match(msg, /`[^`]*`/)) { key = substr(msg, RSTART + 1, RLENGTH - 2); if (index(t, key) > 0) c = index(t, key) }
    printf "ERROR: Autoinstaller setup error: TOML parse error at line %d, column %d\n", L, c
    pad = ""; for (i = 0; i < length(L); i++) pad = pad " "
    printf "%s |\n%d | %s\n%s | ", pad, L, t, pad
    for (i = 1; i < c; i++) printf " "; for (i = 0; i < (len > 0 ? len : 1); i++) printf "^"
    printf "\n%s\n", msg
  }' <<X
$E
X
  exit 1
fi
if [ -n "$OUT" ]; then  # flags the installer acts on even when a later runtime check fails
  mkdir -p "$OUT"
  $AWK -F'\t' '$1 ~ /^global\.reboot[-_]on[-_]error$/ && $3 == "true" { e = 1 } $1 ~ /^global\.reboot[-_]mode$/ { m = $3 }
    END { printf "REBOOT_ON_ERROR=%d\nREBOOT_MODE=%s\n", e, (m == "" ? "reboot" : m) }' "$W/canon" > "$OUT/flags"
fi
$AWK -v REL="$R" -v ISOTAB="${STANDIN_ISOTAB:-/usr/share/zoneinfo/iso3166.tab}" \
     -v ZONETAB="${STANDIN_ZONETAB:-/usr/share/zoneinfo/zone.tab}" -v DHCP_HOST="$DH" -v DHCP_DOMAIN="$DD" \
     -f "$HERE/rules.awk" "$W/canon" "$W/hw" > "$W/result" || { grep -v '^@' "$W/result"; exit 1; }
grep -v '^@' "$W/result"
if [ -n "$OUT" ]; then
  mkdir -p "$OUT"; umask 077
  grep '^@' "$W/result" | $AWK -F'\t' '{ v = $2; gsub(/\047/, "\047\\\047\047", v); printf "%s=\047%s\047\n", substr($1, 2), v }' > "$OUT/config"
  $AWK -F'\t' '$1 ~ /^global\.root[-_]ssh[-_]keys$/ { n = split($3, a, "\037"); for (i = 1; i <= n; i++) print a[i] }' "$W/canon" > "$OUT/root-ssh-keys"
  rm -f "$OUT/root-password" "$OUT/root-password-hashed"
  $AWK -F'\t' '$1 ~ /^global\.root[-_]password$/ { printf "%s", $3 > (O "/root-password") }
               $1 ~ /^global\.root[-_]password[-_]hashed$/ { printf "%s", $3 > (O "/root-password-hashed") }' O="$OUT" "$W/canon"
fi
exit 0
