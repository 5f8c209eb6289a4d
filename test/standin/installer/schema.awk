# schema.awk - the "TOML -> answer struct" (serde) stage of Proxmox's auto-installer, per ISO release.
# Facts: proxmox.md A.3 (schema, deny_unknown_fields, key-style history), proxmox-rs
# proxmox-installer-types answer.rs (field order, enums, aliases). Never copied code.
# Usage: awk -v REL=903 -f schema.awk PARSED   (PARSED = toml.awk output; REL = major*100+minor)
# Output: the records with every path rewritten to canonical (kebab, or snake for REL<=803) keys:
#   PATH <TAB> TYPE <TAB> VALUE <TAB> LINE
# On the first schema violation it prints "!parse <TAB> LINE <TAB> KEYLEN <TAB> MESSAGE" and exits 1
# (the caller renders it like the toml crate's "TOML parse error at line L, column C" report).

function perr(line, key, msg) { printf "!parse\t%d\t%d\t%s\n", line, length(key), msg; bad = 1; exit 1 }
function q(s) { return "`" s "`" }
function expected(list,   n, a, i, s) {   # serde's "expected ..." wording
  n = split(list, a, " ")
  if (n == 0) return "there are no fields"
  if (n == 1) return "expected " q(a[1])
  if (n == 2) return "expected " q(a[1]) " or " q(a[2])
  s = "expected one of "; for (i = 1; i <= n; i++) s = s (i > 1 ? ", " : "") q(a[i]); return s
}
# field SPEC words: canonical[|alias][:type]; type = str|bool|int|num|arr|table|fqdn|map (default str)
function defstruct(path, spec,   n, a, i, b, canon, t) {
  n = split(spec, a, " "); fields[path] = ""
  for (i = 1; i <= n; i++) {
    t = "str"; if (a[i] ~ /:/) { t = a[i]; sub(/^[^:]*:/, "", t); sub(/:.*/, "", a[i]) }
    split(a[i], b, "|"); canon = b[1]
    fields[path] = fields[path] (i > 1 ? " " : "") canon
    known[path SUBSEP canon] = canon; ftype[path == "" ? canon : path "." canon] = t
    if (b[2] != "") known[path SUBSEP b[2]] = canon
  }
  isstruct[path] = 1
}
function defenum(path, list, aliases) { enumv[path] = list; enumalias[path] = aliases }

BEGIN {
  FS = "\t"; OFS = "\t"; old = (REL <= 803); new4 = (REL >= 804)
  top = "global:table network:table disk-setup:table post-installation-webhook:table"
  if (REL >= 803) top = top " first-boot:table"
  defstruct("", top)
  if (old) {
    defstruct("global", "keyboard country fqdn mailto timezone root_password root_password_hashed reboot_on_error:bool root_ssh_keys:arr")
    defstruct("disk-setup", "filesystem disk_list:arr filter:map filter_match zfs:table lvm:table btrfs:table")
    defstruct("disk-setup.zfs", "raid ashift:int arc_max:int checksum compress copies:int hdsize:num")
    defstruct("first-boot", "source ordering url cert_fingerprint")
    defstruct("post-installation-webhook", "url cert_fingerprint")
  } else {
    g = "country fqdn:fqdn keyboard mailto timezone root-password|root_password root-password-hashed|root_password_hashed reboot-on-error|reboot_on_error:bool reboot-mode|reboot_mode root-ssh-keys|root_ssh_keys:arr"
    if (REL >= 902) g = g " subscription-key"
    defstruct("global", g)
    defstruct("global.fqdn", "source domain")
    defstruct("disk-setup", "filesystem disk-list|disk_list:arr filter:map filter-match|filter_match zfs:table lvm:table btrfs:table")
    defstruct("disk-setup.zfs", "raid ashift:int arc-max|arc_max:int checksum compress copies:int hdsize:num")
    defstruct("first-boot", "source ordering url cert-fingerprint|cert_fingerprint")
    defstruct("post-installation-webhook", "url cert-fingerprint|cert_fingerprint" (REL >= 902 ? " auth-token|auth_token" : ""))
  }
  # network is an internally tagged enum on `source`; the field set depends on the variant (rules below)
  defstruct("network", "source cidr dns gateway filter:map" (REL >= 901 ? " interface-name-pinning:table" : ""))
  defstruct("network.interface-name-pinning", "enabled:bool mapping:map")
  defstruct("disk-setup.lvm", "hdsize:num swapsize:num maxroot:num maxvz:num minfree:num")
  defstruct("disk-setup.btrfs", "hdsize:num raid compress")
  defenum("global.keyboard", "de de-ch dk en-gb en-us es fi fr fr-be fr-ca fr-ch hu is it jp lt mk nl no pl pt pt-br se si tr")
  defenum("global.reboot-mode", "reboot power-off")
  defenum("global.fqdn.source", "from-dhcp")
  defenum("network.source", "from-dhcp from-answer")
  defenum("disk-setup.filesystem", "ext4 xfs zfs btrfs")
  defenum("disk-setup.filter-match", "any all"); defenum("disk-setup.filter_match", "any all")
  defenum("disk-setup.zfs.raid", "RAID0 RAID1 RAID10 RAIDZ-1 RAIDZ-2 RAIDZ-3", "raid0 raid1 raid10 raidz-1 raidz-2 raidz-3")
  defenum("disk-setup.zfs.checksum", "on fletcher4 sha256")
  defenum("disk-setup.zfs.compress", "on off lzjb lz4 zle gzip zstd")
  defenum("disk-setup.btrfs.raid", "RAID0 RAID1 RAID10", "raid0 raid1 raid10")
  defenum("disk-setup.btrfs.compress", "on off zlib lzo zstd")
  defenum("first-boot.source", "from-url from-iso")
  defenum("first-boot.ordering", "before-network network-online fully-up")
  nrec = 0
}

$1 == "!error" { printf "!parse\t%d\t1\t%s\n", $3, $2; bad = 1; exit 1 }
{
  n = split($1, parts, "."); parent = ""; cpath = ""
  for (i = 1; i <= n; i++) {
    k = parts[i]
    if (parent in ismap) { cpath = cpath "." k; if (i < n || $2 != "str") perr($4, k, "invalid type: " ($2 == "table" ? "map" : $2) ", expected a string"); break }
    if (!(parent in isstruct)) perr($4, k, "invalid type: map, expected a string")
    if (!((parent SUBSEP k) in known)) perr($4, k, "unknown field " q(k) ", " expected(fields[parent]))
    c = known[parent SUBSEP k]; cpath = (parent == "" ? c : parent "." c)
    t = ftype[cpath]
    if (t == "map") ismap[cpath] = 1
    if (i == n) {
      if (t == "fqdn") { if ($2 == "table") t = "table"; else t = "str" }
      want = (t == "map" ? "table" : t)
      okt = ($2 == want) || (want == "num" && ($2 == "int" || $2 == "float"))
      if (!okt) perr($4, k, "invalid type: " ($2 == "table" ? "map" : $2 == "arr" ? "sequence" : $2 == "str" ? "string \"" $3 "\"" : $2 " `" $3 "`") ", expected " (want == "table" ? "a map" : want == "arr" ? "a sequence" : want == "bool" ? "a boolean" : want == "str" ? "a string" : "a number"))
    }
    parent = cpath
  }
  if (seen[cpath]++ && $2 != "table") perr($4, parts[n], "duplicate field " q(parts[n]))
  val[cpath] = $3; typ[cpath] = $2; line[cpath] = $4
  rec[++nrec] = cpath OFS $2 OFS $3 OFS $4
}
function chkenum(path,   v, n, a, i, ok) {
  if (!(path in val)) return
  v = val[path]; ok = 0; n = split(enumv[path] " " enumalias[path], a, " ")
  for (i = 1; i <= n; i++) if (a[i] == v) ok = 1
  if (!ok) perr(line[path], v, "unknown variant " q(v) ", " expected(enumv[path]))
}
END {
  if (bad) exit 1
  for (s in enumv) chkenum(s)
  split("global network disk-setup", req, " ")
  for (i = 1; i <= 3; i++) if (!(req[i] in val)) perr(1, "", "missing field " q(req[i]))
  split("keyboard country fqdn mailto timezone", req, " ")
  for (i = 1; i <= 5; i++) if (!(("global." req[i]) in val)) perr(line["global"], "global", "missing field " q(req[i]))
  if (!("disk-setup.filesystem" in val)) perr(line["disk-setup"], "disk-setup", "missing field `filesystem`")
  if (typ["global.fqdn"] == "str") {   # proxmox-network-types Fqdn: >= 2 DNS labels
    f = val["global.fqdn"]; nl = split(f, lab, "."); okf = (nl >= 2 && length(f) <= 253)
    for (i = 1; i <= nl; i++) if (lab[i] !~ /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/ || length(lab[i]) > 63) okf = 0
    if (!okf) perr(line["global.fqdn"], f, "either a fully-qualified domain name or extendend configuration for usage with DHCP must be specified")
  }
  src = ("network.source" in val) ? val["network.source"] : "from-dhcp"
  if (src == "from-answer") {
    split("cidr dns gateway", req, " ")
    for (i = 1; i <= 3; i++) if (!(("network." req[i]) in val)) perr(line["network"], "network", "missing field " q(req[i]))
    if (val["network.cidr"] !~ /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+\/[0-9]+$/ || !ip4(val["network.cidr"])) perr(line["network.cidr"], val["network.cidr"], "invalid IP address")
    if (!ip4(val["network.dns"] "/32")) perr(line["network.dns"], val["network.dns"], "invalid IP address syntax")
    if (!ip4(val["network.gateway"] "/32")) perr(line["network.gateway"], val["network.gateway"], "invalid IP address syntax")
  } else {
    for (t in val) if (t ~ /^network\.(cidr|dns|gateway|filter)($|\.)/) { k = t; sub(/^network\./, "", k); sub(/\..*/, "", k)
      perr(line[t], k, "unknown field " q(k) ", " expected(REL >= 901 ? "interface-name-pinning" : "")) }
  }
  for (i = 1; i <= nrec; i++) print rec[i]
}
function ip4(s,   a, o, n, i) {
  n = split(s, a, "/"); if (n != 2 || a[2] !~ /^[0-9]+$/ || a[2] + 0 > 32) return 0
  if (split(a[1], o, ".") != 4) return 0
  for (i = 1; i <= 4; i++) if (o[i] !~ /^[0-9]+$/ || o[i] + 0 > 255) return 0
  return 1
}
