// Node preparation commands: host name and /etc/hosts, apt repositories for use without a
// subscription, open-iscsi, optional CHAP credentials. Scripts are constants run as
// `sh -c SCRIPT sh ARG…` (arguments are never spliced into the script); secrets arrive on stdin and
// only shell builtins touch them, so they never appear in any process's argv.
// Repository facts (pve-docs pve-package-repos.adoc): PVE 9 uses deb822 files
// (pve-enterprise.sources; disable with an "Enabled: no" line; no-subscription in proxmox.sources),
// PVE 8 one-line .list files (pve-enterprise.list; no-subscription "deb http://download.proxmox.com/debian/pve bookworm pve-no-subscription").

export const DPKG_OPEN_ISCSI = ['dpkg-query', '-W', '-f=${Status}', 'open-iscsi'] as const;
export const isInstalled = (dpkgStatus: string) => /\binstall ok installed\b/.test(dpkgStatus);

export const APT_UPDATE = ['apt-get', 'update'] as const;
/** In the Debian container: apt ≥ 2.1.16 exits 0 when the mirror cannot be reached unless told otherwise, so a retry would never retry. */
export const APT_UPDATE_STRICT = ['apt-get', 'update', '--error-on=any'] as const;
export const aptInstall = (...pkgs: string[]) => ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '--no-install-recommends', ...pkgs];

/** `getent hosts <name>` → the first address, if any. */
export function parseGetentHosts(text: string): string | undefined {
  return text.trim().split(/\s+/)[0] || undefined;
}

/** args: name fqdn ip. Replaces every /etc/hosts line naming the host with "<ip> <fqdn> <name>". */
export const FIX_HOSTS_SCRIPT = [
  'set -e',
  'name=$1; fqdn=$2; ip=$3',
  'sed -i "/[[:space:]]$name\\([[:space:]]\\|\\$\\)/d; /[[:space:]]$fqdn\\([[:space:]]\\|\\$\\)/d" /etc/hosts',
  'printf "%s %s %s\\n" "$ip" "$fqdn" "$name" >> /etc/hosts',
].join('\n');

export const fixHostsArgv = (name: string, fqdn: string, ip: string) => ['sh', '-c', FIX_HOSTS_SCRIPT, 'sh', name, fqdn, ip];

/**
 * args: major suite. Prints one line per finding and exits 0 when the node uses only no-subscription
 * Proxmox repositories (1 otherwise): "enterprise <file>" for an enabled enterprise source,
 * "no-subscription missing".
 */
export const REPOS_CHECK_SCRIPT = [
  'major=$1; suite=$2; bad=0; d=/etc/apt/sources.list.d',
  'for f in $d/*.list; do [ -f "$f" ] || continue; if grep -qE "^[[:space:]]*deb[[:space:]].*enterprise\\.proxmox\\.com" "$f"; then echo "enterprise $f"; bad=1; fi; done',
  'for f in $d/*.sources; do [ -f "$f" ] || continue; if grep -q "enterprise\\.proxmox\\.com" "$f" && ! grep -qiE "^Enabled:[[:space:]]*no" "$f"; then echo "enterprise $f"; bad=1; fi; done',
  'if [ "$major" -ge 9 ]; then grep -qs "^Components:.*pve-no-subscription" $d/*.sources || { echo "no-subscription missing"; bad=1; }',
  'else grep -qsE "^[[:space:]]*deb[[:space:]]+http://download\\.proxmox\\.com/debian/pve[[:space:]]+$suite[[:space:]]+pve-no-subscription" $d/*.list /etc/apt/sources.list || { echo "no-subscription missing"; bad=1; }; fi',
  'exit $bad',
].join('\n');

/** args: major suite. Disables enterprise sources (Proxmox's own documented way) and adds no-subscription. */
export const REPOS_FIX_SCRIPT = [
  'set -e; major=$1; suite=$2; d=/etc/apt/sources.list.d',
  'for f in $d/*.list; do [ -f "$f" ] || continue; sed -i -E "s|^([[:space:]]*deb[[:space:]].*enterprise\\.proxmox\\.com)|# \\1|" "$f"; done',
  'for f in $d/*.sources; do [ -f "$f" ] || continue; if grep -q "enterprise\\.proxmox\\.com" "$f" && ! grep -qiE "^Enabled:[[:space:]]*no" "$f"; then printf "Enabled: no\\n" >> "$f"; fi; done',
  'if [ "$major" -ge 9 ]; then',
  '  grep -qs "^Components:.*pve-no-subscription" $d/*.sources || printf "Types: deb\\nURIs: http://download.proxmox.com/debian/pve\\nSuites: %s\\nComponents: pve-no-subscription\\nSigned-By: /usr/share/keyrings/proxmox-archive-keyring.gpg\\n" "$suite" > $d/proxmox.sources',
  'else',
  '  printf "deb http://download.proxmox.com/debian/pve %s pve-no-subscription\\n" "$suite" > $d/pve-no-subscription.list',
  'fi',
].join('\n');

export const reposCheckArgv = (major: number, suite: string) => ['sh', '-c', REPOS_CHECK_SCRIPT, 'sh', String(major), suite];
export const reposFixArgv = (major: number, suite: string) => ['sh', '-c', REPOS_FIX_SCRIPT, 'sh', String(major), suite];

const ISCSID_CONF = '/etc/iscsi/iscsid.conf';

/**
 * stdin: "<user>\n<password>\n". Exit 0 when iscsid.conf already holds exactly these CHAP settings.
 * Builtins only (read, test, while): the password is never an argument of any process.
 */
export const CHAP_CHECK_SCRIPT = [
  'IFS= read -r user; IFS= read -r pass; m=0; u=0; p=0',
  `[ -f ${ISCSID_CONF} ] || exit 1`,
  'while IFS= read -r line; do',
  '  [ "$line" = "node.session.auth.authmethod = CHAP" ] && m=1',
  '  [ "$line" = "node.session.auth.username = $user" ] && u=1',
  '  [ "$line" = "node.session.auth.password = $pass" ] && p=1',
  `done < ${ISCSID_CONF}`,
  '[ $m$u$p = 111 ]',
].join('\n');

/** stdin as for the check. Replaces the session CHAP lines in iscsid.conf (file mode kept at 0600). */
export const CHAP_FIX_SCRIPT = [
  'set -e; IFS= read -r user; IFS= read -r pass',
  `touch ${ISCSID_CONF}; chmod 600 ${ISCSID_CONF}`,
  `sed -i "/^[[:space:]]*#*[[:space:]]*node\\.session\\.auth\\.\\(authmethod\\|username\\|password\\)[[:space:]]*=/d" ${ISCSID_CONF}`,
  `printf "node.session.auth.authmethod = CHAP\\nnode.session.auth.username = %s\\nnode.session.auth.password = %s\\n" "$user" "$pass" >> ${ISCSID_CONF}`,
].join('\n');

export const CHAP_CHECK_ARGV = ['sh', '-c', CHAP_CHECK_SCRIPT] as const;
export const CHAP_FIX_ARGV = ['sh', '-c', CHAP_FIX_SCRIPT] as const;
export const chapInput = (user: string, password: string) => `${user}\n${password}\n`;
