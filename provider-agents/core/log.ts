/**
 * Structured logs for agent processes: one JSON object per line, a constant message, and the context
 * in fields (`{"level":"warn","msg":"command retried","namespace":"…","name":"…","provider":"…","commandId":"…"}`).
 * The runtime takes a Logger; only the process (main.ts) decides where lines go.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  enabled(level: LogLevel): boolean;
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface LoggerOptions {
  level: LogLevel;
  /** Receives each line (without newline); stdout by default. */
  sink?: (line: string) => void;
  base?: LogFields;
}

/** Errors become `{name, message, code?, cause?}`; bigints become strings. */
function plain(value: unknown): unknown {
  if (value instanceof Error) {
    const out: LogFields = { name: value.name, message: value.message };
    const code = (value as { code?: unknown }).code;
    if (code !== undefined) out.code = code;
    if (value.cause !== undefined) out.cause = plain(value.cause);
    return out;
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

export function createLogger(opts: LoggerOptions): Logger {
  const min = RANK[opts.level];
  const sink = opts.sink ?? ((line: string) => process.stdout.write(`${line}\n`));
  const base = opts.base ?? {};
  const write = (level: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[level] < min) return;
    const record: LogFields = { level, time: new Date().toISOString(), msg, ...base };
    if (fields) for (const [k, v] of Object.entries(fields)) record[k] = plain(v);
    let line: string;
    try {
      line = JSON.stringify(record);
    } catch {
      line = JSON.stringify({ level, time: record.time, msg, logError: 'fields not serialisable' });
    }
    sink(line);
  };
  return {
    enabled: (level) => RANK[level] >= min,
    debug: (msg, fields) => write('debug', msg, fields),
    info: (msg, fields) => write('info', msg, fields),
    warn: (msg, fields) => write('warn', msg, fields),
    error: (msg, fields) => write('error', msg, fields),
    child: (fields) => createLogger({ level: opts.level, sink, base: { ...base, ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, plain(v)])) } }),
  };
}

const noop = () => {};
/** Writes nothing (tests, benchmarks). */
export const silentLogger: Logger = {
  enabled: () => false,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};
