/** The agent runtime every hypervisor agent shares. */
export { startAgent, type Agent, type AgentOptions } from './agent.ts';
export { loadConfig, ConfigError, PROVIDER_TYPES, type AgentConfig, type ProviderType, type HostIdentity } from './config.ts';
export type { Driver, OperationContext, ReconfigureResult } from './driver.ts';
export {
  AgentError, TransientError, PermanentError, NotSupportedError, InvalidCommandError, LeaseBusyError, LeaseLostError,
  ShutdownError, StillPresentError, AGENT_ERROR_CODES, isAbort,
} from './errors.ts';
export { decide, applyDecision, backoffMs, describeFailure, type Decision, type Outcome, type DeliveryState, type HandlerResult } from './ack-policy.ts';
export { decodeCommand, type DecodedCommand, type OpName } from './decode.ts';
export { LeaseManager, type Lease, type LeaseRecord } from './lease.ts';
export { createLogger, silentLogger, LOG_LEVELS, type Logger, type LogLevel, type LogFields } from './log.ts';
export { createAgentMetrics, type AgentMetrics } from './metrics.ts';
export { extractTraceContext, injectTraceContext, w3cTraceContext, TRACEPARENT, TRACESTATE } from './trace.ts';
export { DLQ_HEADER_AGENT, DLQ_HEADER_KIND, DLQ_HEADER_REASON, DLQ_HEADER_SUBJECT } from './dead-letter.ts';
export { ackDeadlineMs, workingIntervalMs } from './working.ts';
export { AGENT_VERSION } from './version.ts';
export { Credentials, loadConnection, DEFAULT_CREDENTIALS_DIR, type ProviderConnection } from './connection.ts';
