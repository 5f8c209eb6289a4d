#!/bin/sh
# debian.sh - the Debian/Proxmox files an ISO install leaves on a node (README "Debian files on the
# node"), written by boot.sh from the identity (/etc/standin/identity). Facts:
#  /etc/hosts, $R/etc/hostname: pve-installer Proxmox/Install.pm ("configure hosts"), exact text.
#  apt sources: PVE 9 (trixie) deb822 - pve-enterprise.sources = pve-manager configs/pve-sources.sources,
#    ceph.sources (enterprise ceph-squid) and debian.sources as in pve-docs pve-package-repos.adoc;
#    PVE 8 (bookworm) - pve-enterprise.list = pve-manager configs/pve-sources.list (bookworm),
#    ceph.list (enterprise ceph-quincy), /etc/apt/sources.list of the ISO with ftp.debian.org replaced
#    by the answer country's mirror (Install.pm + country.pl debmirrors, removed Nov 2025 = after 8.x).
#  open-iscsi: installed (ISO package set; the "Install on Debian" set is proxmox-ve postfix
#    open-iscsi chrony); $R/etc/iscsi/iscsid.conf = the package's file, $R/var/lib/dpkg/status stanza from
#    the package's control fields (trixie version 2.1.11-1: MODELLED), initiatorname as the postinst
#    writes it (iqn.1993-08.org.debian:01:<12 hex>, stable per install here).
# STANDIN_ROOT (tests only) prefixes every path.
set -e
R=${STANDIN_ROOT:-}
get() { sed -n "s/^$1=//p" $R/etc/standin/identity | head -1; }
FQDN=$(get fqdn); HOST=$(get hostname); DOMAIN=$(get domain); CIDR=$(get cidr); IP=${CIDR%/*}
REL=$(get release); MAJOR=${REL%%.*}; CC=$(get country)
D=$R/usr/lib/standin/debian

echo "$HOST" > $R/etc/hostname
cat > $R/etc/hosts <<EOF
127.0.0.1 localhost.localdomain localhost
$IP $FQDN $HOST

# The following lines are desirable for IPv6 capable hosts

::1     ip6-localhost ip6-loopback
fe00::0 ip6-localnet
ff00::0 ip6-mcastprefix
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters
ff02::3 ip6-allhosts
EOF

L=$R/etc/apt/sources.list.d; mkdir -p $L $R/etc/apt/apt.conf.d $R/var/lib/apt/lists $R/var/cache/apt
KR=/usr/share/keyrings/proxmox-archive-keyring.gpg
if [ "$MAJOR" -ge 9 ]; then
  printf 'Types: deb\nURIs: https://enterprise.proxmox.com/debian/pve\nSuites: trixie\nComponents: pve-enterprise\nSigned-By: %s\n' $KR > $L/pve-enterprise.sources
  printf 'Types: deb\nURIs: https://enterprise.proxmox.com/debian/ceph-squid\nSuites: trixie\nComponents: enterprise\nSigned-By: %s\n' $KR > $L/ceph.sources
  cat > $L/debian.sources <<'EOF'
Types: deb deb-src
URIs: http://deb.debian.org/debian/
Suites: trixie trixie-updates
Components: main non-free-firmware
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: http://security.debian.org/debian-security/
Suites: trixie-security
Components: main non-free-firmware
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  OIVER=2.1.11-1
else
  echo 'deb https://enterprise.proxmox.com/debian/pve bookworm pve-enterprise' > $L/pve-enterprise.list
  echo 'deb https://enterprise.proxmox.com/debian/ceph-quincy bookworm enterprise' > $L/ceph.list
  case $CC in  # country.pl debmirrors()
    at|au|be|bg|br|ca|ch|cl|cz|de|dk|ee|es|fi|fr|gr|hk|hr|hu|ie|is|it|jp|kr|mx|nl|no|nz|pl|pt|ro|ru|se|si|sk|tr|tw|us) M=ftp.$CC.debian.org ;;
    gb) M=ftp.uk.debian.org ;;
    *) M=ftp.debian.org ;;
  esac
  printf 'deb http://%s/debian bookworm main contrib\n\ndeb http://%s/debian bookworm-updates main contrib\n\n# security updates\ndeb http://security.debian.org bookworm-security main contrib\n' $M $M > $R/etc/apt/sources.list
  OIVER=
fi

mkdir -p $R/var/lib/dpkg/info $R/var/lib/dpkg/updates $R/etc/iscsi
: > $R/var/lib/dpkg/available
{ sed -n '/^Package:/p' $D/open-iscsi.control
  echo 'Status: install ok installed'
  sed -n '/^Package:/d; /^Version:/q; p' $D/open-iscsi.control
  if [ -n "$OIVER" ]; then echo "Version: $OIVER"; else sed -n '/^Version:/p' $D/open-iscsi.control; fi
  sed -n '/^Version:/,$p' $D/open-iscsi.control | sed 1d
  echo
} > $R/var/lib/dpkg/status
cp $D/iscsid.conf $R/etc/iscsi/iscsid.conf && chmod 644 $R/etc/iscsi/iscsid.conf   # busybox has no install applet
HEX=$(get host_key_ed25519 | md5sum | cut -c1-12)
printf '## DO NOT EDIT OR REMOVE THIS FILE!\n## If you remove this file, the iSCSI daemon will not start.\n## If you change the InitiatorName, existing access control lists\n## may reject this initiator.  The InitiatorName must be unique\n## for each iSCSI initiator.  Do NOT duplicate iSCSI InitiatorNames.\nInitiatorName=iqn.1993-08.org.debian:01:%s\n' "$HEX" > $R/etc/iscsi/initiatorname.iscsi
chmod 600 $R/etc/iscsi/initiatorname.iscsi
