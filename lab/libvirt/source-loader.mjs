// Module hooks that let Node 20 run pvelab's TypeScript sources directly (no build): .ts files are
// transpiled with the project's own `typescript` (a devDependency), and "./x.js" specifiers written in
// .ts files resolve to "./x.ts" when no .js file exists. Used only when running from source: the
// libvirt worker threads under vitest, and scripts such as `npm run bench:libvirt`. The built CLI
// (dist/) never loads it. Type errors are not checked here; `npm run typecheck` does that.
// Transpiled output is cached in node_modules/.cache/pvelab-source/ (keyed by a hash of path and text),
// so typescript itself is only loaded when a file changed: worker threads then start in ~0.1 s.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const CACHE = fileURLToPath(new URL('../../node_modules/.cache/pvelab-source/', import.meta.url));
let ts;

async function transpile(file, text) {
  const key = createHash('sha256').update(file).update('\0').update(text).digest('hex').slice(0, 32);
  const cached = `${CACHE}${key}.mjs`;
  try {
    return await readFile(cached, 'utf8');
  } catch {
    /* not cached yet */
  }
  ts ??= require('typescript');
  const out = ts.transpileModule(text, {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true, inlineSourceMap: true },
  }).outputText;
  try {
    await mkdir(CACHE, { recursive: true });
    const tmp = `${cached}.${process.pid}.${Math.random().toString(36).slice(2)}`;
    await writeFile(tmp, out);
    await rename(tmp, cached);
  } catch {
    /* a read-only tree still works, just slower */
  }
  return out;
}

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (err) {
    if (specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) return next(`${specifier.slice(0, -3)}.ts`, context);
    throw err;
  }
}

export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  const file = fileURLToPath(url);
  return { format: 'module', source: await transpile(file, await readFile(file, 'utf8')), shortCircuit: true };
}
