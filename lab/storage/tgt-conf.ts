// The lab's tgt configuration file (targets.conf(5) syntax, read by tgt-admin). It makes our targets
// survive a tgtd restart or a reboot: Debian's tgt.service runs `tgt-admin -e -c /etc/tgt/targets.conf`,
// which includes /etc/tgt/conf.d/*.conf. The file holds the CHAP secret when CHAP is on: mode 0600.
// No "default-driver" line: tgt-admin refuses a second one across included files.
// Loading, as verified against tgtd 1.0.85 in a namespace without systemd:
//   - pvelab itself never loads this file: storage.target replays the targets with tgtadm (and the CHAP
//     account over tgtd's socket), which works with or without systemd;
//   - `tgt-admin -e -c <file>` (what tgt.service runs at boot) recreates the targets from it; note that
//     tgt-admin passes the CHAP secret to tgtadm on its command line — the distribution's boot path,
//     not pvelab's (`tgt-admin --update ALL` would also touch targets that are not ours).
import { LabError } from '../core/errors.js';
import type { TargetSpec } from './spec.js';

/** Characters that would break a targets.conf line or block header (Config::General). */
const UNSAFE = /[\s<>"'#\\]/;

function safe(what: string, value: string): string {
  if (value === '' || UNSAFE.test(value))
    throw new LabError(`cannot write ${what} "${value}" into the tgt configuration: it contains a space or one of < > " ' # \\`, {
      hint: 'choose storage.dir (and names) without such characters',
    });
  return value;
}

/**
 * Renders the whole file. Targets in spec order; LUN numbers, SCSI ids and ACLs are explicit so the
 * target that tgt-admin rebuilds at boot is identical to the one pvelab builds (only its tid may differ).
 */
export function renderTgtConf(lab: string, targets: readonly TargetSpec[], chap?: { user: string; password: string }): string {
  const out: string[] = [
    `# Managed by pvelab for lab "${lab}". Do not edit: \`pvelab up\` rewrites it, \`pvelab down\` removes it.`,
    '# Loaded at boot by tgt.service (tgt-admin -e -c /etc/tgt/targets.conf includes conf.d/*.conf).',
    '',
  ];
  for (const t of targets) {
    out.push(`<target ${safe('IQN', t.iqn)}>`, '    driver iscsi');
    for (const l of t.luns) {
      out.push(
        `    <backing-store ${safe('backing file', l.path)}>`,
        `        lun ${l.lun}`,
        `        scsi_id ${safe('SCSI id', l.scsiId)}`,
        `        scsi_sn ${safe('SCSI serial', l.scsiSn)}`,
        '    </backing-store>',
      );
    }
    for (const a of t.acl) out.push(`    initiator-address ${safe('ACL address', a)}`);
    if (t.chapUser) {
      if (!chap || chap.user !== t.chapUser) throw new LabError(`internal: target ${t.iqn} wants CHAP user ${t.chapUser} but no matching secret was given`);
      out.push(`    incominguser ${safe('CHAP user', chap.user)} ${safe('CHAP secret', chap.password)}`);
    }
    out.push('</target>', '');
  }
  return out.join('\n');
}
