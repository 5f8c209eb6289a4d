// pvelab config show | schema | validate [FILE]
import type { Command } from 'commander';
import { stringify } from 'yaml';
import type { AppContext } from './app.js';
import { labJsonSchema, readLabFile, parseLabObject } from '../config/load.js';
import { mask } from '../core/secrets.js';

export function register(program: Command, app: AppContext): void {
  const config = program.command('config').description('show, validate or describe the lab file');

  config
    .command('show')
    .description('print the effective lab (defaults applied, network resolved, secrets redacted)')
    .action(async () => {
      const l = await app.loadLab();
      const effective = { ...l.lab };
      if (app.options().json) app.print(mask(JSON.stringify(effective, null, 2)));
      else app.print(`# effective lab from ${l.source}\n` + mask(stringify(effective)));
    });

  config
    .command('schema')
    .description('print the JSON Schema of the lab file (for editors)')
    .action(() => {
      app.print(JSON.stringify(labJsonSchema(), null, 2));
    });

  config
    .command('validate [file]')
    .description('check a lab file without touching anything (exit 2 and the field at fault when it is wrong)')
    .action(async (file: string | undefined) => {
      const path = file ?? app.options().config;
      const spec = path ? await readLabFile(path) : parseLabObject({});
      if (app.options().json) app.print(JSON.stringify({ valid: true, file: path ?? null, name: spec.name }));
      else app.print(`${path ?? 'built-in default lab'}: valid (lab "${spec.name}", ${spec.nodes.length} nodes, Proxmox VE ${spec.pve.release})`);
    });
}
