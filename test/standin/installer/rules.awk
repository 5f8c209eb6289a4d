# rules.awk - the runtime checks of proxmox-auto-installer (parse_answer and helpers), in upstream order:
# filesystem details, network (fqdn/DHCP, NIC filter, pinning), locale, disks, mail + root password,
# first-boot, disk selection. Facts: pve-installer proxmox-auto-installer/src/utils.rs,
# proxmox-installer-common (options.rs, disk_checks.rs), tests/resources/parse_answer_fail/*.json.
# Usage: awk -v REL=902 -v ISOTAB=.. -v ZONETAB=.. [-v DHCP_HOST=h -v DHCP_DOMAIN=d] \
#            -f rules.awk CANONICAL HWFILE
# CANONICAL = schema.awk output. HWFILE lines: "nic NAME mac=MAC KEY=VAL..." / "disk NAME size=BYTES KEY=VAL..."
# (upper-case KEYs are the udev properties filters match against).
# Prints "INFO: ..." progress like the installer; on failure "ERROR: Installation failed: MSG", exit 1;
# on success also "@KEY<TAB>VALUE" lines (resolved install config) for the caller.

function info(m) { print "INFO: " m }
function die(m) { print "ERROR: Installation failed: " m; bad = 1; exit 1 }
function has(k) { return (k in V) }
function glob2re(g,   r, i, c) {
  r = "^"
  for (i = 1; i <= length(g); i++) {
    c = substr(g, i, 1)
    if (c == "*") r = r ".*"; else if (c == "?") r = r "."
    else if (c == "[" ) r = r "["; else if (c == "]") r = r "]"
    else if (c ~ /[.^$+(){}|\\\/]/) r = r "\\" c; else r = r c
  }
  return r "$"
}
# does device D (kind K) have udev KEY matching GLOB?  -1 = device lacks the key
function devmatch(K, D, key, g) { if (!((K SUBSEP D SUBSEP key) in P)) return -1; return P[K, D, key] ~ glob2re(g) }
function raidname(fs,   k) { k = "disk-setup." fs ".raid"; return (k in V) ? toupper(V[k]) : "" }
function mindisks(fs, r) {
  if (fs == "zfs") return (r == "RAID1" ? 2 : r == "RAID10" ? 4 : r == "RAIDZ-1" ? 3 : r == "RAIDZ-2" ? 4 : r == "RAIDZ-3" ? 5 : 1)
  if (fs == "btrfs") return (r == "RAID1" ? 2 : r == "RAID10" ? 4 : 1)
  return 1
}
function fsdisplay(fs, r) { return fs == "ext4" ? "ext4" : fs == "xfs" ? "XFS" : fs == "zfs" ? "ZFS (" r ")" : "BTRFS (" r ")" }

BEGIN { FS = "\t" }
FNR == NR {
  k = $1; if (k !~ /\.(filter|mapping)\./) gsub(/_/, "-", k)   # snake (<= 8.3, or alias) -> kebab
  V[k] = $3; T[k] = $2; next
}
{ # hardware inventory
  n = split($0, w, " "); kind = w[1]; dev = w[2]
  if (kind == "nic") nics[++nnic] = dev; else if (kind == "disk") disks[++ndisk] = dev
  for (i = 3; i <= n; i++) { kv = w[i]; p = index(kv, "="); P[kind, dev, substr(kv, 1, p - 1)] = substr(kv, p + 1) }
}
END {
  if (bad) exit 1
  while ((getline l < ISOTAB) > 0) if (l !~ /^#/) { split(l, a, "\t"); country[tolower(a[1])] = 1 }
  while ((getline l < ZONETAB) > 0) if (l !~ /^#/) { split(l, a, "\t"); zone[a[3]] = 1 }
  zone["UTC"] = 1
  info("Parsing answer file")
  fs = V["disk-setup.filesystem"]; r = (fs == "zfs" || fs == "btrfs") ? raidname(fs) : ""
  nlist = has("disk-setup.disk-list") ? split(V["disk-setup.disk-list"], dl, "\037") : 0
  nfilt = 0; for (k in V) if (k ~ /^disk-setup\.filter\./) { sub(/^disk-setup\.filter\./, "", k); dfilt[++nfilt] = k }
  # --- DiskSetup::filesystem_details()
  if (fs == "ext4" || fs == "xfs") {
    if (has("disk-setup.zfs") || has("disk-setup.btrfs")) die("make sure only 'lvm' options are set")
    if (nlist > 1) die("make sure to define only one disk for ext4 and xfs")
  } else if (fs == "zfs") {
    if (has("disk-setup.lvm") || has("disk-setup.btrfs")) die("make sure only 'zfs' options are set")
    if (!has("disk-setup.zfs.raid")) die("ZFS raid level 'zfs.raid' must be set")
  } else {
    if (has("disk-setup.zfs") || has("disk-setup.lvm")) die("make sure only 'btrfs' options are set")
    if (!has("disk-setup.btrfs.raid")) die("Btrfs raid level 'btrfs.raid' must be set")
  }
  if (REL >= 902 && nlist > 0 && nlist < mindisks(fs, r))   # proxmox-installer-types 0.1.1 wording
    die((fs == "zfs" ? "ZFS " : "Btrfs ") r " needs at least " mindisks(fs, r) " disks, got " nlist)
  info("Setting File system"); info("File system selected: " fsdisplay(fs, r))
  # --- get_network_settings()
  info("Setting up network configuration")
  if (T["global.fqdn"] == "table") {
    if (DHCP_HOST == "") die("`global.fqdn.source` set to \"from-dhcp\", but DHCP server did not provide a hostname!")
    dom = (DHCP_DOMAIN != "") ? DHCP_DOMAIN : V["global.fqdn.domain"]
    if (dom == "") die("no domain received from DHCP server and `global.fqdn.domain` is unset!")
    fqdn = DHCP_HOST "." dom
  } else fqdn = V["global.fqdn"]
  src = has("network.source") ? V["network.source"] : "from-dhcp"
  nic = nics[1]
  if (src == "from-answer") {
    nf = 0; nic = ""
    for (k in V) if (k ~ /^network\.filter\./) { fk = k; sub(/^network\.filter\./, "", fk); nf++; nfk[nf] = fk; nfv[nf] = V[k] }
    if (nf == 0) die("no filter defined")
    for (i = 1; i <= nnic && nic == ""; i++) for (j = 1; j <= nf; j++) if (devmatch("nic", nics[i], nfk[j], nfv[j]) == 1) { nic = nics[i]; break }
    if (nic == "") die("filter did not match any device")
  }
  if (has("network.interface-name-pinning.enabled") && V["network.interface-name-pinning.enabled"] == "true") {
    info("Network interface name pinning is enabled")
    for (k in V) if (k ~ /^network\.interface-name-pinning\.mapping\./) {
      mac = k; sub(/^network\.interface-name-pinning\.mapping\./, "", mac); nm = V[k]
      if (length(nm) < 2) die("interface name for '" mac "' must be at least 2 characters long")
      if (length(nm) > 15) die("interface name '" nm "' for '" mac "' cannot be longer than 15 characters")
      if (nm !~ /^[A-Za-z][A-Za-z0-9_]+([:.][0-9]+)?$/) die("interface name '" nm "' for '" mac "' is invalid: name must start with a letter and contain only ascii characters, digits and underscores")
      if ((nm in pinned) && pinned[nm] != mac) die("duplicate interface name mapping '" nm "' for: " mac ", " pinned[nm])
      pinned[nm] = mac
    }
  }
  if (nic == "") die("no network interface found")
  info("Network interface used is '" nic "'")
  # --- verify_locale_settings()
  info("Verifying locale settings")
  if (!(V["global.country"] in country)) die("country code '" V["global.country"] "' is not valid")
  if (!(V["global.timezone"] in zone)) die("timezone '" V["global.timezone"] "' is not valid")
  # --- verify_disks_settings()
  if (nlist == 0 && nfilt == 0) die("Need either 'disk-list' or 'filter' set")
  if (nlist > 0 && nfilt > 0) die("Cannot use both, 'disk-list' and 'filter'")
  if (REL < 902 && nlist > 0 && nlist < mindisks(fs, r)) {
    if (REL >= 900) die(fsdisplay(fs, r) ": need at least " mindisks(fs, r) " disks")
    die(fs " (" r "): need at least " mindisks(fs, r) " devices")   # 8.x: low-level installer's wording
  }
  for (i = 1; i <= nlist; i++) { if (dl[i] in dup) die("List of disks contains duplicate device " dl[i]); dup[dl[i]] = 1 }
  if (has("disk-setup.lvm.swapsize") && has("disk-setup.lvm.hdsize") && V["disk-setup.lvm.swapsize"] + 0 > V["disk-setup.lvm.hdsize"] / 2)
    die("Swap size " V["disk-setup.lvm.swapsize"] + 0 " GiB cannot be greater than " V["disk-setup.lvm.hdsize"] / 2 " GiB (hard disk size / 2)")
  # --- verify_email_and_root_password_settings()
  info("Verifying email and root password settings")
  m = V["global.mailto"]
  if (m !~ /^[a-zA-Z0-9.!#$%&'*+\/=?^_`{|}~-]+@[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?)*$/)
    die(m ": Email does not look like a valid address (user@domain.tld)")
  if (m == "mail@example.invalid") die(m ": Invalid (default) email address")
  pw = has("global.root-password"); ph = has("global.root-password-hashed")
  if (pw && ph) die("`global.root-password` and `global.root-password-hashed` cannot be set at the same time")
  if (!pw && !ph) die("One of `global.root-password` or `global.root-password-hashed` must be set")
  if (pw && length(V["global.root-password"]) < 8) die("`global.root-password` must be at least 8 characters long")
  info("Verifying first boot settings")
  if (V["first-boot.source"] == "from-url" && !has("first-boot.url")) die("first-boot executable source set to URL, but none specified!")
  info("Verifying network settings")
  # --- set_disks()
  nsel = 0
  if (nlist > 0) {
    if (fs == "ext4" || fs == "xfs") info("Disk selection found")
    for (i = 1; i <= nlist; i++) for (j = 1; j <= ndisk; j++) if (disks[j] == dl[i]) sel[++nsel] = disks[j]
    if ((fs == "ext4" || fs == "xfs") && nsel == 0) die("disk in 'disk-selection' not found")
  } else {
    info("No disk list found, looking for disk filters")
    all = (V["disk-setup.filter-match"] == "all")
    for (j = 1; j <= ndisk; j++) {
      once = 0; every = 1
      for (i = 1; i <= nfilt; i++) { mt = devmatch("disk", disks[j], dfilt[i], V["disk-setup.filter." dfilt[i]]); if (mt == 1) once = 1; else if (mt == 0) every = 0 }
      if ((all && every) || (!all && once)) { sel[++nsel] = disks[j]; if (fs == "ext4" || fs == "xfs") break }
    }
    if (nsel == 0) die((fs == "ext4" || fs == "xfs") ? "filter did not match any device" : "filter did not match any devices")
  }
  if (nsel == 0) die("No disks found matching selection.")
  s = ""; sd = ""; for (i = 1; i <= nsel; i++) { s = s (i > 1 ? " " : "") sel[i]; sd = sd "/dev/" sel[i] " " }
  if (fs == "ext4" || fs == "xfs") info("Selected disk: /dev/" sel[1]); else info("Selected disks: " sd)
  h = fqdn; sub(/\..*/, "", h); d = substr(fqdn, length(h) + 2)
  printf "@FQDN\t%s\n@HOSTNAME\t%s\n@DOMAIN\t%s\n@NET_SOURCE\t%s\n@NIC\t%s\n@NIC_MAC\t%s\n", fqdn, h, d, src, nic, P["nic", nic, "mac"]
  printf "@CIDR\t%s\n@GATEWAY\t%s\n@DNS\t%s\n@DISKS\t%s\n@FILESYSTEM\t%s\n@RAID\t%s\n", V["network.cidr"], V["network.gateway"], V["network.dns"], s, fs, r
  printf "@REBOOT_MODE\t%s\n@REBOOT_ON_ERROR\t%s\n", has("global.reboot-mode") ? V["global.reboot-mode"] : "reboot", V["global.reboot-on-error"] == "true" ? 1 : 0
  printf "@KEYBOARD\t%s\n@COUNTRY\t%s\n@TIMEZONE\t%s\n@MAILTO\t%s\n", V["global.keyboard"], V["global.country"], V["global.timezone"], m
}
