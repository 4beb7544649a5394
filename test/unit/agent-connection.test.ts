/** The agent's hypervisor connection settings: endpoint, credentials from the mounted Secret, TLS. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Credentials, loadConnection } from '../../provider-agents/core/connection.ts';
import { ConfigError } from '../../provider-agents/core/config.ts';

describe('agent connection settings', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'creds-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a Secret volume: one file per key, trailing newline dropped, ..data internals skipped', () => {
    mkdirSync(join(dir, '..2026_11_25'));
    writeFileSync(join(dir, '..2026_11_25', 'password'), 's3cret\n');
    symlinkSync('..2026_11_25', join(dir, '..data'));
    symlinkSync('..data/password', join(dir, 'password'));
    writeFileSync(join(dir, 'username'), 'admin');
    const c = loadConnection({ AGENT_PROVIDER_ENDPOINT: 'https://vc.example', AGENT_CREDENTIALS_DIR: dir }, { endpointRequired: true });
    assert.equal(c.endpoint, 'https://vc.example');
    assert.deepEqual(c.credentials.keys(), ['password', 'username']);
    assert.equal(c.credentials.get('password'), 's3cret');
    assert.equal(c.insecureSkipVerify, false);
  });

  it('never prints a secret value: JSON, string, inspect and errors show key names only', () => {
    const creds = new Credentials({ password: 'hunter2-value', username: 'root' });
    for (const shown of [JSON.stringify({ creds }), String(creds), inspect({ creds }, { depth: 5 })]) {
      assert.ok(!shown.includes('hunter2-value'), shown);
      assert.match(shown, /password, username/);
    }
    assert.throws(() => creds.require('token_secret', 'Proxmox API token'), (err: unknown) =>
      err instanceof ConfigError && /"token_secret" is missing/.test(err.message) && !err.message.includes('hunter2'));
  });

  it('lists every problem at once: missing endpoint and a bad insecure flag', () => {
    assert.throws(() => loadConnection({ AGENT_INSECURE_SKIP_VERIFY: 'yes' }, { endpointRequired: true }), (err: unknown) =>
      err instanceof ConfigError && err.problems.length === 2);
  });

  it('a missing credentials directory means no credentials, not a crash', () => {
    const c = loadConnection({ AGENT_CREDENTIALS_DIR: join(dir, 'nope'), AGENT_INSECURE_SKIP_VERIFY: 'true' }, { endpointRequired: false });
    assert.deepEqual(c.credentials.keys(), []);
    assert.equal(c.insecureSkipVerify, true);
  });
});
