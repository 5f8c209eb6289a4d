// `node --import ./lab/libvirt/source-register.mjs file.ts` runs a TypeScript entry from source
// (see source-loader.mjs). The libvirt worker threads use it the same way when no built worker.js exists.
import { register } from 'node:module';

register('./source-loader.mjs', import.meta.url);
