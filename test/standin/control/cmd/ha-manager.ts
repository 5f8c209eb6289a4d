// ha-manager (pve-ha-manager CLI/ha_manager.pm): status [--verbose], add/set/remove, config,
// groupadd/groupconfig (PVE 8; PVE 9 refuses), rules add/list/config (PVE 9 only: older releases
// do not have the command), migrate/relocate, crm-command migrate|relocate|stop.
import { addGroup, addResource, addRule, parseSid } from '../model/ha/config.js';
import { haManagerStatus, haStatusCurrent } from '../model/ha/status.js';
import { die, toJsonPretty } from '../model/perl.js';
import { type Prop, parseArgs } from './args.js';
import { abort } from './handle.js';
import { type Ctx, FORMAT_PROPS, printResult } from './io.js';

const RES_PROPS: Record<string, Prop> = {
  state: { optional: true, enum: ['started', 'stopped', 'enabled', 'disabled', 'ignored'] },
  max_restart: { type: 'integer', optional: true, min: 0 },
  max_relocate: { type: 'integer', optional: true, min: 0 },
  failback: { type: 'boolean', optional: true },
  group: { optional: true },
  comment: { optional: true, maxLength: 4096 },
  type: { optional: true, enum: ['ct', 'vm'] },
};

const BASE_COMMANDS = ['add <sid> [OPTIONS]', 'config  [OPTIONS]', 'crm-command migrate <sid> <node>', 'crm-command relocate <sid> <node>', 'crm-command stop <sid> <timeout>', 'groupadd <group> --nodes <string> [OPTIONS]', 'groupconfig', 'migrate', 'relocate', 'remove <sid> [OPTIONS]', 'set <sid> [OPTIONS]', 'status  [OPTIONS]'];

function quorum(ctx: Ctx): void {
  if (!ctx.m.view(ctx.node).writable) throw die('cluster not ready - no quorum?');
}

export async function haManager(ctx: Ctx, args: string[]): Promise<number> {
  const m = ctx.m;
  const rel = m.release(ctx.node);
  const commands = rel.haRules ? [...BASE_COMMANDS, 'rules add <type> <rule> --resources <string> [OPTIONS]', 'rules config  [OPTIONS] [FORMAT_OPTIONS]', 'rules list  [OPTIONS] [FORMAT_OPTIONS]'].sort() : BASE_COMMANDS;
  let [cmd, ...rest] = args;
  if (cmd === 'migrate' || cmd === 'relocate') [cmd, rest] = ['crm-command', [cmd, ...rest]];
  const db = () => m.view(ctx.node).db;
  switch (cmd) {
    case 'status': {
      const { params } = parseArgs({ cmd: 'ha-manager status', props: { verbose: { type: 'boolean', optional: true } } }, rest);
      for (const e of haStatusCurrent(m, ctx.node)) ctx.out(`${e.type} ${e.status}\n`);
      if (params.verbose === '1') ctx.out(`full cluster state:\n${toJsonPretty(haManagerStatus(m, ctx.node))}`);
      return 0;
    }
    case 'add': {
      const { params } = parseArgs({ cmd: 'ha-manager add', args: ['sid'], props: { sid: {}, ...RES_PROPS } }, rest);
      quorum(ctx);
      addResource(m, ctx.node, params.sid!, params);
      return 0;
    }
    case 'set': {
      const { params } = parseArgs({ cmd: 'ha-manager set', args: ['sid'], props: { sid: {}, ...RES_PROPS, delete: { optional: true } } }, rest);
      quorum(ctx);
      const { sid } = parseSid(db(), params.sid!);
      const e = db().haResources.get(sid);
      if (!e) throw die(`update resource failed: no such resource '${sid}'`);
      for (const k of ['state', 'max_restart', 'max_relocate', 'failback', 'group', 'comment']) if (params[k] !== undefined) e.opts[k] = params[k]!;
      for (const k of (params.delete ?? '').split(',').filter(Boolean)) delete e.opts[k];
      return 0;
    }
    case 'remove': {
      const { params } = parseArgs({ cmd: 'ha-manager remove', args: ['sid'], props: { sid: {}, purge: { type: 'boolean', optional: true } } }, rest);
      quorum(ctx);
      const { sid } = parseSid(db(), params.sid!);
      if (!db().haResources.delete(sid)) throw die(`cannot delete service '${sid}', not HA managed!`);
      return 0;
    }
    case 'config': {
      parseArgs({ cmd: 'ha-manager config', props: { type: { optional: true, enum: ['ct', 'vm'] } } }, rest);
      for (const [sid, { opts }] of [...db().haResources].sort(([a], [b]) => (a < b ? -1 : 1))) {
        ctx.out(`${sid}\n${Object.keys(opts).sort().map((k) => `\t${k} ${opts[k]}\n`).join('')}\n`);
      }
      return 0;
    }
    case 'groupadd': {
      const { params } = parseArgs({ cmd: 'ha-manager groupadd', args: ['group'], props: { group: {}, nodes: {}, restricted: { type: 'boolean', optional: true }, nofailback: { type: 'boolean', optional: true }, comment: { optional: true }, type: { optional: true } } }, rest);
      addGroup(m, ctx.node, params.group!, params);
      return 0;
    }
    case 'groupconfig': {
      parseArgs({ cmd: 'ha-manager groupconfig', props: {} }, rest);
      if (rel.haRules && !db().haGroups.size) throw die('cannot index groups: ha groups have been migrated to rules');
      for (const [g, { opts }] of [...db().haGroups].sort(([a], [b]) => (a < b ? -1 : 1))) ctx.out(`group: ${g}\n${Object.keys(opts).sort().map((k) => `\t${k} ${opts[k]}\n`).join('')}\n`);
      return 0;
    }
    case 'rules': {
      if (!rel.haRules) return abort(ctx, 'ha-manager', `unknown command 'ha-manager rules'`, commands);
      const [sub, ...r2] = rest;
      if (sub === 'add') {
        const { params } = parseArgs({ cmd: 'ha-manager rules add', args: ['type', 'rule'], props: { type: { enum: ['node-affinity', 'resource-affinity'] }, rule: {}, resources: {}, nodes: { optional: true }, strict: { type: 'boolean', optional: true }, affinity: { optional: true, enum: ['positive', 'negative'] }, comment: { optional: true }, disable: { type: 'boolean', optional: true } } }, r2);
        addRule(m, ctx.node, params.type!, params.rule!, params);
        return 0;
      }
      if (sub === 'list' || sub === 'config') {
        const { params } = parseArgs({ cmd: `ha-manager rules ${sub}`, props: { ...FORMAT_PROPS, type: { optional: true } } }, r2);
        const data = [...db().haRules].map(([rule, { type, opts }]) => ({ rule, type, ...opts, ...(sub === 'config' ? { enabled: opts.disable === '1' ? 0 : 1, state: 'in use' } : {}) }));
        printResult(ctx, data, params, sub === 'config' ? ['enabled', 'state', 'rule', 'type', 'resources', 'comment'] : undefined);
        return 0;
      }
      return abort(ctx, 'ha-manager', sub ? `unknown command 'ha-manager rules ${sub}'` : "incomplete command 'ha-manager rules'", commands);
    }
    case 'crm-command': {
      const [sub, ...r2] = rest;
      if (sub === 'migrate' || sub === 'relocate') {
        const { params } = parseArgs({ cmd: `ha-manager crm-command ${sub}`, args: ['sid', 'node'], props: { sid: {}, node: {} } }, r2);
        quorum(ctx);
        const { sid } = parseSid(db(), params.sid!);
        if (!db().haResources.has(sid)) throw die(`service '${sid}' is not HA managed`);
        db().crmCommands.push(`${sub} ${sid} ${params.node}`);
        return 0;
      }
      if (sub === 'stop') {
        const { params } = parseArgs({ cmd: 'ha-manager crm-command stop', args: ['sid', 'timeout'], props: { sid: {}, timeout: { type: 'integer', min: 0 } } }, r2);
        quorum(ctx);
        const { sid } = parseSid(db(), params.sid!);
        if (!db().haResources.has(sid)) throw die(`resource '${sid}' is not HA managed`);
        db().crmCommands.push(`stop ${sid} ${params.timeout}`);
        return 0;
      }
      return abort(ctx, 'ha-manager', sub ? `unknown command 'ha-manager crm-command ${sub}'` : "incomplete command 'ha-manager crm-command'", commands);
    }
    case undefined:
      return abort(ctx, 'ha-manager', 'no command specified', commands);
    default:
      return abort(ctx, 'ha-manager', `unknown command 'ha-manager ${cmd}'`, commands);
  }
}
