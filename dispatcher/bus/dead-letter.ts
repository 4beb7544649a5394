/**
 * Records a rejected (malformed or unknown) message on vr.dlq.<provider-ns>.<provider> with the
 * reason and original subject in headers, so it can be inspected; best effort.
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { parseObjectSubject, subjects } from '../../proto/bus/subjects.ts';

export const DLQ_REASON_HEADER = 'Vr-Rejected-Reason';
export const DLQ_SUBJECT_HEADER = 'Vr-Original-Subject';
export const DLQ_REJECTED_BY_HEADER = 'Vr-Rejected-By';

/** Provider key used when the original subject names none. */
const UNKNOWN = { namespace: 'unknown', name: 'unknown' };

export async function deadLetter(js: JetStreamClient, subject: string, data: Uint8Array, reason: string): Promise<void> {
  const provider = parseObjectSubject(subject)?.provider ?? UNKNOWN;
  const h = headers();
  h.set(DLQ_REASON_HEADER, reason.slice(0, 500));
  h.set(DLQ_SUBJECT_HEADER, subject);
  h.set(DLQ_REJECTED_BY_HEADER, 'dispatcher');
  let target = subjects.deadLetter(UNKNOWN);
  try {
    target = subjects.deadLetter(provider);
  } catch {
    // A subject token we cannot reuse: file it under "unknown".
  }
  await js.publish(target, data, { headers: h });
}
