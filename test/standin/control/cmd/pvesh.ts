// pvesh (pve-manager CLI/pvesh.pm): get|create|set|delete <api_path> [options] with the standard
// output options. Paths are resolved in pvesh-routes.ts; an unknown path dies "no '<cmd>' handler
// for '<path>'"; node paths of another node are proxied to it (it must be reachable).
import { die } from '../model/perl.js';
import { parseArgs, type Prop } from './args.js';
import { abort } from './handle.js';
import { type Ctx, FORMAT_PROPS, printResult } from './io.js';
import { ROUTES } from './pvesh-routes.js';

const COMMANDS = ['create <api_path> [OPTIONS] [FORMAT_OPTIONS]', 'delete <api_path> [OPTIONS] [FORMAT_OPTIONS]', 'get <api_path> [OPTIONS] [FORMAT_OPTIONS]', 'ls <api_path> [OPTIONS] [FORMAT_OPTIONS]', 'set <api_path> [OPTIONS] [FORMAT_OPTIONS]', 'usage <api_path> [OPTIONS]'];
const METHOD: Record<string, string> = { get: 'GET', create: 'POST', set: 'PUT', delete: 'DELETE' };

export async function pvesh(ctx: Ctx, args: string[]): Promise<number> {
  const all = [...args];
  while (all[0] === '--noproxy' || all[0] === '--nooutput') all.shift();
  const [cmd, ...rest] = all;
  if (!cmd) return abort(ctx, 'pvesh', 'no command specified', COMMANDS);
  const method = METHOD[cmd];
  if (!method) return abort(ctx, 'pvesh', `unknown command 'pvesh ${cmd}'`, COMMANDS);
  const path = rest.find((a) => !a.startsWith('-'));
  if (path === undefined) throw die('missing API path');
  const norm = `/${path.replace(/^\/+|\/+$/g, '').replace(/\/+/g, '/')}`;
  const route = ROUTES.find((r) => r.method === method && r.re.test(norm));
  if (!route) throw die(`no '${cmd}' handler for '${norm}'`);
  const mm = route.re.exec(norm)!;
  const props: Record<string, Prop> = { api_path: {}, ...FORMAT_PROPS, ...(route.props ?? {}) };
  const { params } = parseArgs({ cmd: `pvesh ${cmd}`, args: ['api_path'], props }, rest);
  const node = mm.groups?.node;
  if (node && node !== ctx.node && node !== 'localhost') {
    const target = ctx.m.world.nodes.get(node);
    if (!target || !ctx.m.members().has(node)) throw die(`hostname lookup '${node}' failed - failed to get address info for: ${node}: Name or service not known`);
    const me = ctx.m.node(ctx.node);
    if (!target.up || !target.linked || !me.linked) throw die(`500 Can't connect to ${target.ip}:8006 (No route to host)`);
    const data = await route.run({ ...ctx, node }, params, mm.groups ?? {});
    printResult(ctx, data, params);
    return 0;
  }
  const data = await route.run(ctx, params, { ...(mm.groups ?? {}), ...(node === 'localhost' ? { node: ctx.node } : {}) });
  printResult(ctx, data, params);
  return 0;
}
