// tgtd's management socket, spoken directly for the one request that carries a secret: creating a CHAP
// account. `tgtadm --password` would put the secret on a process command line (visible in
// /proc/PID/cmdline); this sends the same request tgtadm sends, over the same socket, with the secret
// only in the socket payload. Facts from tgt's usr/tgtadm.h, usr/tgtadm.c, usr/mgmt.c:
//   request  = struct tgtadm_req (120 bytes, host byte order, x86-64 layout) + "k=v,k=v\0" body;
//   response = struct tgtadm_rsp { u32 err; u32 len (incl. these 8 bytes) } + optional text;
//   socket   = $TGT_IPC_SOCKET or /var/run/tgtd/socket, with ".<control port>" appended (".0");
//   tgtd only answers peers with its own uid/gid (root).
import { connect } from 'node:net';
import { LabError } from '../core/errors.js';

export const DEFAULT_TGT_SOCKET = '/run/tgtd/socket.0';

const MODE_ACCOUNT = 7;
const OP_NEW = 0;
const REQ_SIZE = 120;

/** enum tgtadm_errno, in order (usr/tgtadm_error.h). */
const ERRORS = [
  'success', 'unknown error', 'out of memory', "can't find the driver", "can't find the target",
  "can't find the logical unit", "can't find the session", "can't find the connection", "can't find the binding",
  'this target already exists', 'this logical unit number already exists', 'this binding already exists',
  'this access control rule already exists', 'this access control rule does not exist', 'this account already exists',
  "can't find the account", 'too many accounts', 'invalid request', 'this target already has an outgoing account',
  'this target is still active', 'this logical unit is still active', 'this driver is busy', 'this operation is not supported',
  'unknown parameter', 'the medium is locked (prevent removal)',
];

export class TgtIpcError extends LabError {
  constructor(readonly code: number, what: string) {
    super(`tgtd refused to ${what}: ${ERRORS[code] ?? `error ${code}`}`);
  }
}

/** Builds one request: header + NUL-terminated body. Exported for the byte-layout unit test. */
export function encodeRequest(f: { mode: number; op: number; lld?: string; tid?: number; body: string }): Buffer {
  const body = Buffer.from(`${f.body}\0`, 'utf8');
  const h = Buffer.alloc(REQ_SIZE);
  h.writeInt32LE(f.mode, 0);
  h.writeInt32LE(f.op, 4);
  h.write(f.lld ?? 'iscsi', 8, 63, 'ascii');
  h.writeUInt32LE(REQ_SIZE + body.length, 72);
  h.writeInt32LE(f.tid ?? -1, 76);
  h.writeBigUInt64LE(0n, 80); // sid
  h.writeBigUInt64LE(0xffffffffffffffffn, 88); // lun: UINT64_MAX, as tgtadm
  // cid, host_no, device_type (TYPE_DISK = 0), ac_dir (incoming = 0), pack, force: all 0
  return Buffer.concat([h, body]);
}

/** Sends one request and resolves with the response text; rejects with TgtIpcError on a tgtd error. */
export function tgtIpcRequest(socketPath: string, req: Buffer, what: string, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = connect(socketPath);
    const timer = setTimeout(() => sock.destroy(new Error(`no answer from tgtd within ${timeoutMs} ms`)), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(err instanceof LabError ? err : new LabError(`cannot ${what} through tgtd's socket ${socketPath}: ${err.message}`, {
        hint: 'is tgtd running? (tgtadm --op show --mode sys)',
        cause: err,
      }));
    };
    sock.on('error', fail);
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.on('end', () => {
      clearTimeout(timer);
      const all = Buffer.concat(chunks);
      if (all.length < 8) return fail(new Error('short answer from tgtd'));
      const err = all.readUInt32LE(0);
      const len = all.readUInt32LE(4);
      if (err !== 0) return reject(new TgtIpcError(err, what));
      resolve(all.subarray(8, Math.max(8, len)).toString('utf8').replace(/\0+$/, ''));
    });
    sock.on('connect', () => sock.write(req));
  });
}

/** `tgtadm --lld iscsi --op new --mode account --user U --password P`, without the password on argv. */
export async function tgtAddAccount(socketPath: string, user: string, password: string): Promise<void> {
  if (/[,=\0]/.test(user) || /\0/.test(password)) throw new LabError('a CHAP user may not contain "," "=" or NUL');
  await tgtIpcRequest(socketPath, encodeRequest({ mode: MODE_ACCOUNT, op: OP_NEW, body: `user=${user},password=${password}` }), `create the CHAP account ${user}`);
}
