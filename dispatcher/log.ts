/**
 * Structured JSON logs: one line per entry, a constant message and the context in fields
 * ({kind, namespace, name, provider, commandId}). Nothing secret is ever passed in.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface LogFields {
  kind?: string;
  namespace?: string;
  name?: string;
  provider?: string;
  commandId?: string;
  err?: unknown;
  [key: string]: unknown;
}

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose entries all carry these fields. */
  child(fields: LogFields): Logger;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface LoggerOptions {
  level?: LogLevel;
  /** Where lines go (default stdout). */
  sink?: (line: string) => void;
  base?: LogFields;
}

/** Errors become {name, message, code, status}: no stack noise, and never a request body. */
function errorFields(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const e = err as Error & { code?: unknown; statusCode?: unknown };
  const out: Record<string, unknown> = { name: e.name, message: e.message.slice(0, 500) };
  if (e.code !== undefined) out.code = e.code;
  if (e.statusCode !== undefined) out.status = e.statusCode;
  return out;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const threshold = RANK[opts.level ?? 'info'];
  const sink = opts.sink ?? ((line: string) => process.stdout.write(`${line}\n`));
  const make = (base: LogFields): Logger => {
    const write = (level: Exclude<LogLevel, 'silent'>, msg: string, fields?: LogFields) => {
      if (RANK[level] < threshold) return;
      const entry: Record<string, unknown> = { time: new Date().toISOString(), level, msg, ...base, ...fields };
      if (entry.err !== undefined) entry.err = errorFields(entry.err);
      sink(JSON.stringify(entry, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    };
    return {
      debug: (m, f) => write('debug', m, f),
      info: (m, f) => write('info', m, f),
      warn: (m, f) => write('warn', m, f),
      error: (m, f) => write('error', m, f),
      child: (fields) => make({ ...base, ...fields }),
    };
  };
  return make(opts.base ?? {});
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = createLogger({ level: 'silent' });
