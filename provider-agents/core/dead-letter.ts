/**
 * Rejected messages (malformed, unknown operation, invalid) are terminated and recorded on
 * vr.dlq.<ns>.<provider> with their original bytes and the reason in headers, so nothing is lost in
 * silence and nothing crashes. One record per stream message (Nats-Msg-Id from its sequence), however
 * often it is delivered.
 */
import type { JetStreamClient, JsMsg } from '@nats-io/jetstream';
import { headers as natsHeaders } from '@nats-io/nats-core';
import { subjects, type ProviderKey } from '../../proto/bus/subjects.ts';
import type { InvalidCommandError } from './errors.ts';

export const DLQ_HEADER_REASON = 'Vr-Reject-Reason';
export const DLQ_HEADER_KIND = 'Vr-Reject-Kind';
export const DLQ_HEADER_SUBJECT = 'Vr-Original-Subject';
export const DLQ_HEADER_AGENT = 'Vr-Agent-Id';

/** Header values are one line of printable text. */
function headerValue(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 1024);
}

export async function recordDeadLetter(
  js: JetStreamClient, provider: ProviderKey, msg: JsMsg, err: InvalidCommandError, agentId: string,
): Promise<void> {
  const h = natsHeaders();
  h.set(DLQ_HEADER_REASON, headerValue(err.message));
  h.set(DLQ_HEADER_KIND, err.kind);
  h.set(DLQ_HEADER_SUBJECT, headerValue(msg.subject));
  h.set(DLQ_HEADER_AGENT, headerValue(agentId));
  await js.publish(subjects.deadLetter(provider), msg.data, {
    headers: h,
    msgID: `dlq-${provider.namespace}-${provider.name}-${msg.info.streamSequence}`,
  });
}
