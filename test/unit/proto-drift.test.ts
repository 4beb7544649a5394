/** The generated protobuf code in proto/gen is exactly what `npm run gen:proto` makes from proto/**.proto. */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;
const PROTO = join(ROOT, 'proto');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

describe('generated protobuf code', function () {
  this.timeout(60_000);

  it('passes buf lint (naming, package versions, field conventions)', () => {
    execFileSync(join(ROOT, 'node_modules/.bin/buf'), ['lint'], { cwd: PROTO, stdio: 'pipe' });
  });

  it('proto/gen matches a fresh `buf generate` (run `npm run gen:proto` after changing a .proto)', () => {
    const out = mkdtempSync(join(tmpdir(), 'proto-gen-'));
    try {
      execFileSync(join(ROOT, 'node_modules/.bin/buf'), ['generate', '--output', out], {
        cwd: PROTO,
        env: { ...process.env, PATH: `${join(ROOT, 'node_modules/.bin')}:${process.env.PATH}` },
        stdio: 'pipe',
      });
      const fresh = files(join(out, 'gen')).map((f) => relative(join(out, 'gen'), f)).sort();
      const committed = files(join(PROTO, 'gen')).map((f) => relative(join(PROTO, 'gen'), f)).sort();
      assert.deepEqual(committed, fresh);
      assert.ok(fresh.length >= 2, 'both the bus and the provider.v1 code are generated');
      for (const f of fresh) {
        assert.equal(readFileSync(join(PROTO, 'gen', f), 'utf8'), readFileSync(join(out, 'gen', f), 'utf8'), `proto/gen/${f} drifted`);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
