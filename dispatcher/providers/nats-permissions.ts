/**
 * What one provider's agents may do on the bus: exactly the subjects the agent runtime
 * (provider-agents/core) uses for that provider, derived from proto/bus/subjects.ts and
 * topology.ts. Pure; the minted user JWT carries this list (nats-accounts.ts).
 *
 * Every JetStream API subject names the stream and, where the API allows it, the consumer and
 * the filter, so an agent can neither read another provider's commands nor create a consumer
 * that would. Replies come to the provider's own inbox prefix (`_INBOX_<ns>_<provider>`), never
 * to `_INBOX.>`, where the dispatcher's pulls of every provider's status events arrive.
 *
 * Not scoped (documented): the VM lease bucket VR_VM_LEASES is shared and keyed by VM uid, so an
 * agent can read and write any key of it (it cannot reach commands, events or credentials
 * through it); the three streams' INFO (counts, config) is readable by every agent.
 */
import { SUBJECT_ROOT, subjects, subjectToken, type ProviderKey } from '../../proto/bus/subjects.ts';
import {
  COMMAND_STREAM, DEAD_LETTER_STREAM, EVENT_STREAM, VM_LEASE_BUCKET, agentConsumerName,
} from '../../proto/bus/topology.ts';

export interface SubjectPermissions {
  pub: { allow: string[] };
  sub: { allow: string[] };
}

/** The reply-subject prefix of one provider's agents (NATS_INBOX_PREFIX in their environment). */
export function agentInboxPrefix(provider: ProviderKey): string {
  return `_INBOX_${provider.namespace}_${provider.name}`;
}

/**
 * The mock hypervisor keeps its state in this bucket (provider-agents/mock/store.ts
 * mockBucketName; the dispatcher may not import agents, so the name is repeated here and a test
 * compares both).
 */
export function mockHypervisorBucket(provider: ProviderKey): string {
  return `VR_MOCK_HV_${provider.namespace}_${provider.name}`;
}

/** A KV bucket read and written through the KV API (create-or-open, get, put, delete, keys). */
function kvBucket(bucket: string, opts: { keyPrefix?: string; listKeys?: boolean }): string[] {
  const stream = `KV_${bucket}`;
  const keys = opts.keyPrefix ? `${opts.keyPrefix}.>` : '>';
  const allow = [
    `$JS.API.STREAM.CREATE.${stream}`,
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.MSG.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.$KV.${bucket}.${keys}`,
    `$KV.${bucket}.${keys}`,
  ];
  if (opts.listKeys) {
    // keys()/watch() run an ordered consumer with flow control.
    allow.push(`$JS.API.CONSUMER.CREATE.${stream}.>`, `$JS.API.CONSUMER.DELETE.${stream}.>`, `$JS.API.CONSUMER.INFO.${stream}.>`, `$JS.FC.${stream}.>`);
  }
  return allow;
}

/** The permissions of the agents of `provider` (of type `type`). */
export function agentPermissions(provider: ProviderKey, type: string): SubjectPermissions {
  const consumer = agentConsumerName(provider);
  const pub = [
    // vr.evt.<ns>.<provider>.<uid>: any object of its own provider.
    `${SUBJECT_ROOT}.evt.${subjectToken(provider.namespace, 'provider namespace')}.${subjectToken(provider.name, 'provider name')}.*`,
    subjects.heartbeat(provider),
    subjects.deadLetter(provider),
    '$JS.API.INFO',
    // The agent checks the streams exist; the dispatcher creates and updates them.
    ...[COMMAND_STREAM, EVENT_STREAM, DEAD_LETTER_STREAM].map((s) => `$JS.API.STREAM.INFO.${s}`),
    // Its own durable consumer only, created with its own filter in the subject (the server
    // checks the body against it); the filter-less and DURABLE.CREATE forms are not allowed.
    `$JS.API.CONSUMER.CREATE.${COMMAND_STREAM}.${consumer}.${subjects.commandsOf(provider)}`,
    `$JS.API.CONSUMER.INFO.${COMMAND_STREAM}.${consumer}`,
    `$JS.API.CONSUMER.MSG.NEXT.${COMMAND_STREAM}.${consumer}`,
    `$JS.ACK.${COMMAND_STREAM}.${consumer}.>`,
    ...kvBucket(VM_LEASE_BUCKET, {}),
  ];
  if (type === 'mock') pub.push(...kvBucket(mockHypervisorBucket(provider), { listKeys: true }));
  return { pub: { allow: pub }, sub: { allow: [`${agentInboxPrefix(provider)}.>`] } };
}
