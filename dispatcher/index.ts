/** The dispatcher's public surface (named exports only). */
export { startDispatcher, type Dispatcher, type StartDispatcherOptions } from './dispatcher.ts';
export { loadConfig, ConfigError, type Config, type LeaseConfig, type QueueConfig } from './config.ts';
export { createLogger, silentLogger, type Logger, type LogLevel } from './log.ts';
export { decide, type Decision, type DecideInput, type PlannedCommand } from './reconcile/decide.ts';
export { resolveDesired } from './resolve/resolve.ts';
export type { Lookup, Resolution, SecretReader, ProviderTarget } from './resolve/types.ts';
export { hashDesired } from './reconcile/desired-hash.ts';
export { commandId } from './reconcile/command-id.ts';
export { applyEvent, applyIntent, applyDeliveryExhausted } from './status/mutations.ts';
export { CONDITION_ORDER, REASON } from './status/conditions.ts';
export { RequeueError, TerminalError, DispatcherError } from './errors.ts';
