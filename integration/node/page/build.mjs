// Bundles page/app.js with esbuild into OUTDIR (argv[2]) next to a copy of index.html.
// Usage: node page/build.mjs OUTDIR
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = process.argv[2];
if (!out) {
  console.error('usage: node page/build.mjs OUTDIR');
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const started = Date.now();
await build({
  entryPoints: [join(here, 'app.js')],
  outfile: join(out, 'app.bundle.js'),
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2020',
  minify: true,
  sourcemap: false,
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"', global: 'globalThis' },
});
copyFileSync(join(here, 'index.html'), join(out, 'index.html'));
console.log(JSON.stringify({ outdir: out, ms: Date.now() - started }));
