#!/usr/bin/env bash
# Prepares a Debian/Ubuntu desktop for pvelab (what `pvelab doctor` recommends):
# installs the packages, enables nested virtualisation for kvm_intel/kvm_amd, starts libvirtd and tgtd.
# Safe to run again. Run as root: sudo scripts/host-setup.sh
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "run as root: sudo $0" >&2; exit 2; }

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y --no-install-recommends \
  qemu-system-x86 qemu-utils qemu-block-extra libvirt-daemon-system libvirt-clients dnsmasq-base \
  tgt open-iscsi lvm2 xorriso openssh-client openssl ovmf curl

if grep -qw vmx /proc/cpuinfo; then mod=kvm_intel; elif grep -qw svm /proc/cpuinfo; then mod=kvm_amd; else
  echo "warning: this CPU shows no vmx/svm flag; enable VT-x/AMD-V in the firmware setup (KVM cannot run here)" >&2
  mod=""
fi
if [ -n "$mod" ]; then
  conf=/etc/modprobe.d/pvelab-nested.conf
  echo "options $mod nested=1" > "$conf"
  cur=$(cat "/sys/module/$mod/parameters/nested" 2>/dev/null || echo "")
  if [ "$cur" != "Y" ] && [ "$cur" != "1" ]; then
    if modprobe -r "$mod" 2>/dev/null && modprobe "$mod"; then
      echo "nested virtualisation enabled for $mod"
    else
      echo "nested virtualisation will be enabled after a reboot ($mod is in use by running VMs)" >&2
    fi
  fi
fi
modprobe dm_mod 2>/dev/null || true
modprobe iscsi_tcp 2>/dev/null || true
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl enable --now libvirtd tgt iscsid >/dev/null 2>&1 || systemctl enable --now libvirtd tgt >/dev/null
fi
echo "done; check with: sudo ./pvelab doctor"
