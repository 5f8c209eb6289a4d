// Host iSCSI initiator (open-iscsi's iscsiadm), used by layout "lvm" only: log the host in to the lab
// target on the lab portal, and nothing else. Formats and exit codes from open-iscsi (usr/session_info.c,
// usr/idbm.c, usr/session_mgmt.c, include/iscsi_err.h); fixtures in test/fixtures/storage/iscsiadm-*.txt.
//   discovery: -o nonpersistent, so the node DB gets no records of other targets on the portal;
//   record:    created for our IQN + portal only (-o new), CHAP user via -o update;
//   CHAP secret: written into the node record file from stdin (iscsiadm only takes it on argv).
import { LabError } from '../core/errors.js';
import type { Runner } from '../exec/runner.js';
import { writePrivateFile } from './tgt.js';

/** iscsiadm exit codes we act on (include/iscsi_err.h). */
export const ISCSI_ERR = { SESS_NOT_FOUND: 2, LOGIN: 5, TRANS_TIMEOUT: 8, SESS_EXISTS: 15, FATAL_LOGIN: 19, ISCSID_NOTCONN: 20, NO_OBJS_FOUND: 21, LOGIN_AUTH_FAILED: 24 } as const;

export interface IscsiSession { transport: string; sid: number; portal: string; port: number; tpgt: number; iqn: string; flash: boolean }
export interface IscsiNode { portal: string; port: number; tpgt: number; iqn: string }

/** `iscsiadm -m session` (flat): "tcp: [17] 127.0.0.1:3260,1 iqn.x (non-flash)"; IPv6 portals in brackets. */
export function parseIscsiSessions(text: string): IscsiSession[] {
  const out: IscsiSession[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\S+): \[(\d+)\] (?:\[([^\]]+)\]|([^\s:]+)):(-?\d+),(-?\d+) (\S+)(?: \((non-flash|flash)\))?\s*$/.exec(line);
    if (m) out.push({ transport: m[1]!, sid: Number(m[2]), portal: (m[3] ?? m[4])!, port: Number(m[5]), tpgt: Number(m[6]), iqn: m[7]!, flash: m[8] === 'flash' });
  }
  return out;
}

/** Discovery / node listing (flat): "10.77.5.1:3260,1 iqn.2024-01.dev.pvelab:lab". */
export function parseIscsiNodes(text: string): IscsiNode[] {
  const out: IscsiNode[] = [];
  for (const line of text.split('\n')) {
    const m = /^(?:\[([^\]]+)\]|([^\s:]+)):(\d+),(-?\d+) (\S+)\s*$/.exec(line);
    if (m) out.push({ portal: (m[1] ?? m[2])!, port: Number(m[3]), tpgt: Number(m[4]), iqn: m[5]! });
  }
  return out;
}

/** Sets (or adds before "# END RECORD") `key = value` lines in a node record file. */
export function setRecordValues(record: string, values: Record<string, string>): string {
  const lines = record.split('\n');
  for (const [k, v] of Object.entries(values)) {
    const i = lines.findIndex((l) => l.startsWith(`${k} = `));
    if (i >= 0) lines[i] = `${k} = ${v}`;
    else {
      const end = lines.findIndex((l) => l.startsWith('# END RECORD'));
      lines.splice(end >= 0 ? end : lines.length, 0, `${k} = ${v}`);
    }
  }
  return lines.join('\n');
}

const portalArg = (portal: string, port: number) => `${portal.includes(':') ? `[${portal}]` : portal}:${port}`;

export const iscsiadmArgv = {
  sessions: () => ['iscsiadm', '-m', 'session'],
  discover: (portal: string, port: number) => ['iscsiadm', '-m', 'discovery', '-t', 'sendtargets', '-p', portalArg(portal, port), '-o', 'nonpersistent'],
  showNode: (iqn: string, portal: string, port: number) => ['iscsiadm', '-m', 'node', '-T', iqn, '-p', portalArg(portal, port)],
  newNode: (iqn: string, portal: string, port: number, tpgt: number) => ['iscsiadm', '-m', 'node', '-T', iqn, '-p', `${portalArg(portal, port)},${tpgt}`, '-o', 'new'],
  update: (iqn: string, portal: string, port: number, key: string, value: string) => ['iscsiadm', '-m', 'node', '-T', iqn, '-p', portalArg(portal, port), '-o', 'update', '-n', key, '-v', value],
  login: (iqn: string, portal: string, port: number) => ['iscsiadm', '-m', 'node', '-T', iqn, '-p', portalArg(portal, port), '--login'],
  logout: (iqn: string, portal: string, port: number) => ['iscsiadm', '-m', 'node', '-T', iqn, '-p', portalArg(portal, port), '--logout'],
  deleteNode: (iqn: string, portal: string, port: number) => ['iscsiadm', '-m', 'node', '-T', iqn, '-p', portalArg(portal, port), '-o', 'delete'],
};

/** Hint for an iscsiadm login failure, by exit code. */
export function loginHint(exitCode: number | undefined): string {
  switch (exitCode) {
    case ISCSI_ERR.LOGIN_AUTH_FAILED:
      return 'CHAP was refused: the secret in the node record differs from the target\'s (pvelab down, then up, rewrites both)';
    case ISCSI_ERR.FATAL_LOGIN:
      return 'the target refused this initiator (ACL): the host must reach the portal from its lab address';
    case ISCSI_ERR.ISCSID_NOTCONN:
      return 'iscsid is not running: systemctl start iscsid (or: iscsid)';
    case ISCSI_ERR.TRANS_TIMEOUT:
      return 'the portal does not answer: is the lab network up and tgtd running?';
    default:
      return 'run the command by hand to see iscsiadm\'s full message';
  }
}

export interface IscsiAdmOptions {
  /** Where udev puts persistent links (default /dev/disk/by-path; tests point it at a temp dir). */
  byPathDir?: string;
  /** open-iscsi's node DB (default /etc/iscsi/nodes). */
  nodesDir?: string;
}

export class IscsiAdm {
  readonly byPathDir: string;
  readonly nodesDir: string;
  constructor(readonly runner: Runner, opts: IscsiAdmOptions = {}) {
    this.byPathDir = opts.byPathDir ?? '/dev/disk/by-path';
    this.nodesDir = opts.nodesDir ?? '/etc/iscsi/nodes';
  }

  /** Active sessions (exit 21 "No active sessions." → none). */
  async sessions(): Promise<IscsiSession[]> {
    const r = await this.runner.run(iscsiadmArgv.sessions(), { allowExit: [ISCSI_ERR.NO_OBJS_FOUND] });
    return r.exitCode === 0 ? parseIscsiSessions(r.stdout) : [];
  }

  /** SendTargets discovery on one portal, without touching the node DB. */
  async discover(portal: string, port: number): Promise<IscsiNode[]> {
    const r = await this.runner.run(iscsiadmArgv.discover(portal, port), { allowExit: [ISCSI_ERR.NO_OBJS_FOUND] });
    return r.exitCode === 0 ? parseIscsiNodes(r.stdout) : [];
  }

  async hasNode(iqn: string, portal: string, port: number): Promise<boolean> {
    const r = await this.runner.run(iscsiadmArgv.showNode(iqn, portal, port), { allowExit: [ISCSI_ERR.NO_OBJS_FOUND] });
    return r.exitCode === 0;
  }

  async newNode(iqn: string, portal: string, port: number, tpgt: number): Promise<void> {
    await this.runner.run(iscsiadmArgv.newNode(iqn, portal, port, tpgt));
  }

  /** CHAP for one node record: method and user via iscsiadm, the secret via the record file (stdin). */
  async setChap(n: IscsiNode, user: string, password: string): Promise<void> {
    await this.runner.run(iscsiadmArgv.update(n.iqn, n.portal, n.port, 'node.session.auth.authmethod', 'CHAP'));
    await this.runner.run(iscsiadmArgv.update(n.iqn, n.portal, n.port, 'node.session.auth.username', user));
    const file = this.recordPath(n);
    const cur = await this.runner.run(['cat', '--', file], { allowExit: [1] });
    if (cur.exitCode !== 0) throw new LabError(`open-iscsi node record ${file} not found`, { hint: 'is this open-iscsi ≥ 2.0-873 (records under /etc/iscsi/nodes/<iqn>/<ip>,<port>,<tpgt>/)?' });
    await writePrivateFile(this.runner, file, setRecordValues(cur.stdout, { 'node.session.auth.password': password }));
  }

  recordPath(n: IscsiNode, iface = 'default'): string {
    return `${this.nodesDir}/${n.iqn}/${n.portal},${n.port},${n.tpgt}/${iface}`;
  }

  async login(iqn: string, portal: string, port: number): Promise<void> {
    const r = await this.runner.run(iscsiadmArgv.login(iqn, portal, port), { allowExit: [ISCSI_ERR.SESS_EXISTS, ISCSI_ERR.LOGIN, ISCSI_ERR.FATAL_LOGIN, ISCSI_ERR.LOGIN_AUTH_FAILED, ISCSI_ERR.ISCSID_NOTCONN, ISCSI_ERR.TRANS_TIMEOUT] });
    if (r.exitCode === 0 || r.exitCode === ISCSI_ERR.SESS_EXISTS) return;
    const why = r.stderr.trim().split('\n').find((l) => l.includes('initiator reported error')) ?? r.stderr.trim().split('\n').pop() ?? '';
    throw new LabError(`the host could not log in to ${iqn} at ${portal}:${port} (iscsiadm exit ${r.exitCode}): ${why}`, { hint: loginHint(r.exitCode) });
  }

  /** Logs out; no session is fine (exit 21). */
  async logout(iqn: string, portal: string, port: number): Promise<void> {
    await this.runner.run(iscsiadmArgv.logout(iqn, portal, port), { allowExit: [ISCSI_ERR.NO_OBJS_FOUND] });
  }

  /** Deletes the node record; no record is fine (exit 21). */
  async deleteNode(iqn: string, portal: string, port: number): Promise<void> {
    await this.runner.run(iscsiadmArgv.deleteNode(iqn, portal, port), { allowExit: [ISCSI_ERR.NO_OBJS_FOUND] });
  }

  /** The block device behind a by-path link, or undefined while udev has not made it. */
  async device(byPathName: string): Promise<string | undefined> {
    const r = await this.runner.run(['readlink', '-e', '--', `${this.byPathDir}/${byPathName}`], { allowExit: [1] });
    return r.exitCode === 0 ? r.stdout.trim() : undefined;
  }
}
