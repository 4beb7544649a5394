/**
 * Writes manifests/crds from api/kinds. With --check, writes nothing and fails when the
 * committed files differ from what the source generates.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CRD_DIR, crdManifestFiles } from '../api/crd-files.ts';

const root = new URL('..', import.meta.url).pathname;
const dir = join(root, CRD_DIR);
const check = process.argv.includes('--check');
const files = crdManifestFiles();

if (check) {
  const stale = [...files].filter(([name, text]) => {
    try {
      return readFileSync(join(dir, name), 'utf8') !== text;
    } catch {
      return true;
    }
  });
  const extra = readdirSync(dir).filter((name) => !files.has(name));
  if (stale.length || extra.length) {
    console.error(`${CRD_DIR} is out of date (${[...stale.map(([n]) => n), ...extra].join(', ')}); run: npm run gen:crds`);
    process.exit(1);
  }
} else {
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
  console.log(`wrote ${files.size} files to ${CRD_DIR}`);
}
