/** Agent and mock-hypervisor configuration from the environment: defaults, and every problem at once. */
import { strict as assert } from 'node:assert';
import { VM_LEASE_TTL_S } from '../../proto/bus/topology.ts';
import { ConfigError, loadConfig } from '../../provider-agents/core/config.ts';
import { loadMockConfig } from '../../provider-agents/mock/config.ts';

const host = { hostname: 'agent-7d9f', pid: 1 };
const minimal = { AGENT_PROVIDER_NAMESPACE: 'infra', AGENT_PROVIDER_NAME: 'vcenter-1', AGENT_PROVIDER_TYPE: 'mock' };

function problems(env: Record<string, string>, load: (env: Record<string, string>) => unknown = (e) => loadConfig(e, host)): string[] {
  try {
    load(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return [...err.problems];
  }
  throw new Error('expected a ConfigError');
}

describe('agent configuration', () => {
  it('fills the defaults around the provider it serves', () => {
    assert.deepEqual(loadConfig(minimal, host), {
      natsServers: ['nats://127.0.0.1:4222'],
      provider: { namespace: 'infra', name: 'vcenter-1', type: 'mock' },
      agentId: 'agent-7d9f-1',
      concurrency: 8,
      metricsPort: 9090,
      metricsHost: '0.0.0.0',
      grpcPort: undefined,
      leaseTtlS: VM_LEASE_TTL_S,
      heartbeatIntervalS: 5,
      shutdownGraceS: 25,
      logLevel: 'info',
    });
  });

  it('reads every knob', () => {
    const c = loadConfig({
      ...minimal, NATS_URL: 'nats://a:4222, nats://b:4222', AGENT_ID: 'me', AGENT_CONCURRENCY: '32', AGENT_METRICS_PORT: 'off',
      AGENT_GRPC_PORT: '9443', AGENT_LEASE_TTL_S: '10', AGENT_LOG_LEVEL: 'debug',
    }, host);
    assert.deepEqual([c.natsServers, c.agentId, c.concurrency, c.metricsPort, c.grpcPort, c.leaseTtlS, c.logLevel],
      [['nats://a:4222', 'nats://b:4222'], 'me', 32, undefined, 9443, 10, 'debug']);
  });

  it('lists every problem at once', () => {
    assert.deepEqual(problems({ AGENT_PROVIDER_TYPE: 'hyperv', AGENT_CONCURRENCY: '0', NATS_URL: 'localhost', AGENT_PROVIDER_NAME: 'Bad.Name', AGENT_LOG_LEVEL: 'loud' }).sort(), [
      'AGENT_CONCURRENCY must be a whole number from 1 to 1024, got "0"',
      'AGENT_LOG_LEVEL must be one of debug, info, warn, error, got "loud"',
      'AGENT_PROVIDER_NAME must be a Kubernetes name (DNS label), got "Bad.Name"',
      'AGENT_PROVIDER_NAMESPACE is required',
      'AGENT_PROVIDER_TYPE must be one of vsphere, libvirt, proxmox, mock, got "hyperv"',
      'NATS_URL entries must look like nats://host:port, got "localhost"',
    ]);
  });
});

describe('mock hypervisor configuration', () => {
  it('is instant and faultless by default', () => {
    assert.deepEqual(loadMockConfig({}), { defaultDelayMs: 0, delaysMs: {}, faults: [], detectOverlaps: false });
  });

  it('reads delays per operation, fault rules and overlap detection', () => {
    const c = loadMockConfig({
      MOCK_DELAY_MS: '50', MOCK_DELAY_CREATE_MS: '2000', MOCK_DELAY_SETPOWER_MS: '10',
      MOCK_FAULTS: '[{"op":"create","after":1},{"op":"find","uid":"u1","times":-1}]', MOCK_DETECT_OVERLAPS: 'true',
    });
    assert.deepEqual(c, {
      defaultDelayMs: 50, delaysMs: { create: 2000, setPower: 10 },
      faults: [{ op: 'create', after: 1 }, { op: 'find', uid: 'u1', times: -1 }], detectOverlaps: true,
    });
  });

  it('lists every problem at once', () => {
    assert.deepEqual(problems({ MOCK_DELAY_MS: 'slow', MOCK_FAULTS: '[{"op":"explode"},{"op":"find","times":"x"}]', MOCK_DETECT_OVERLAPS: 'yes' }, loadMockConfig).sort(), [
      'MOCK_DELAY_MS must be a whole number of milliseconds up to 3600000, got "slow"',
      'MOCK_DETECT_OVERLAPS must be true or false, got "yes"',
      'MOCK_FAULTS[0].op must be one of find, create, reconfigure, setPower, destroy, adopt, release, snapshotCreate, snapshotRevert, snapshotDelete, clone, validate, recordGeneration, got "explode"',
      'MOCK_FAULTS[1].times must be a whole number, got "x"',
    ]);
  });
});
