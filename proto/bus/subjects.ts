/**
 * Subject names of the bus, in one place. Tokens are Kubernetes names and UIDs (DNS labels and
 * hex/dashes: no dots, no wildcards), so they are safe as NATS subject tokens.
 *
 *   vr.cmd.<provider-ns>.<provider>.<object-uid>   commands, one subject per object (latest wins)
 *   vr.evt.<provider-ns>.<provider>.<object-uid>   status events from agents
 *   vr.hb.<provider-ns>.<provider>                 agent heartbeats (core NATS, not stored)
 *   vr.dlq.<provider-ns>.<provider>                rejected (malformed or unknown) messages, recorded
 */

export const SUBJECT_ROOT = 'vr';

export interface ProviderKey {
  namespace: string;
  name: string;
}

const TOKEN = /^[A-Za-z0-9_-]+$/;

/** Refuses a token that would change the subject's shape (dots, wildcards, spaces, empty). */
export function subjectToken(value: string, what: string): string {
  if (!TOKEN.test(value)) throw new Error(`${what} "${value}" cannot be a NATS subject token (letters, digits, - and _ only)`);
  return value;
}

const p = (provider: ProviderKey) =>
  `${subjectToken(provider.namespace, 'provider namespace')}.${subjectToken(provider.name, 'provider name')}`;

export const subjects = {
  command: (provider: ProviderKey, objectUid: string) => `${SUBJECT_ROOT}.cmd.${p(provider)}.${subjectToken(objectUid, 'object uid')}`,
  commandsOf: (provider: ProviderKey) => `${SUBJECT_ROOT}.cmd.${p(provider)}.>`,
  allCommands: `${SUBJECT_ROOT}.cmd.>`,
  event: (provider: ProviderKey, objectUid: string) => `${SUBJECT_ROOT}.evt.${p(provider)}.${subjectToken(objectUid, 'object uid')}`,
  allEvents: `${SUBJECT_ROOT}.evt.>`,
  heartbeat: (provider: ProviderKey) => `${SUBJECT_ROOT}.hb.${p(provider)}`,
  allHeartbeats: `${SUBJECT_ROOT}.hb.>`,
  deadLetter: (provider: ProviderKey) => `${SUBJECT_ROOT}.dlq.${p(provider)}`,
  allDeadLetters: `${SUBJECT_ROOT}.dlq.>`,
} as const;

/** Parses a command or event subject back into its parts; undefined when it is not one of ours. */
export function parseObjectSubject(subject: string): { kind: 'cmd' | 'evt'; provider: ProviderKey; objectUid: string } | undefined {
  const parts = subject.split('.');
  if (parts.length !== 5 || parts[0] !== SUBJECT_ROOT || (parts[1] !== 'cmd' && parts[1] !== 'evt')) return undefined;
  return { kind: parts[1], provider: { namespace: parts[2]!, name: parts[3]! }, objectUid: parts[4]! };
}
