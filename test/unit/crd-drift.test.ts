import { strict as assert } from 'node:assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CRD_DIR, crdManifestFiles } from '../../api/crd-files.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

describe('generated CRD manifests', () => {
  const generated = crdManifestFiles();

  it('manifests/crds holds exactly what api/kinds generates (run `npm run gen:crds` after a change)', () => {
    assert.deepEqual(readdirSync(join(ROOT, CRD_DIR)).sort(), [...generated.keys()].sort());
    for (const [name, text] of generated) {
      assert.equal(readFileSync(join(ROOT, CRD_DIR, name), 'utf8'), text, `${CRD_DIR}/${name} drifted from api/kinds`);
    }
  });
});
