/**
 * `virtrigaud`: the one command of the one image. The long-running processes are the existing
 * entries (webhook/main.ts, dispatcher/main.ts, provider-agents/main.ts, scripts/up.ts,
 * scripts/down.ts), started by importing them; the user and installation commands live here.
 *
 *   node --import tsx cli/virtrigaud.ts <command> …     (from the repository)
 *   virtrigaud <command> …                              (the image's entrypoint; `bin` of package.json)
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { HELP, MAIN_HELP, PROGRAM } from './help.ts';
import type { Output } from './vm.ts';

const AGENT_TYPES = ['vsphere', 'libvirt', 'proxmox', 'mock'];

/** Wrong usage: the message, a pointer to --help, exit 2. */
class UsageError extends Error {
  constructor(message: string, readonly command?: string) {
    super(message);
  }
}

const KUBECONFIG_OPTION = { kubeconfig: { type: 'string' } } as const;

function parse<T extends NonNullable<ParseArgsConfig['options']>>(command: string, args: string[], options: T) {
  try {
    return parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''), command);
  }
}

/**
 * The user and installation commands, imported when run: they load client-node, which a
 * long-running process (the dispatcher above all) should not pay for in memory.
 */
const kube = () => import('./kube.ts');

/**
 * The process entries, imported (literally, so a bundler includes them) only when run: each
 * reads its environment and owns the process from then on, exiting by itself.
 */
const ENTRIES = {
  webhook: () => import('../webhook/main.ts'),
  dispatcher: () => import('../dispatcher/main.ts'),
  agent: () => import('../provider-agents/main.ts'),
  up: () => import('../scripts/up.ts'),
  down: () => import('../scripts/down.ts'),
} as const;

async function startEntry(name: keyof typeof ENTRIES, argv: string[]): Promise<number> {
  // The entries read their arguments from process.argv (provider-agents/main.ts: `agent <type>`).
  process.argv = [process.argv[0]!, name, ...argv];
  await ENTRIES[name]();
  return new Promise<number>(() => undefined);
}

export async function main(argv: string[], io: Output): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    const topic = command === 'help' ? rest[0] : undefined;
    if (topic && !HELP[topic]) throw new UsageError(`no help for "${topic}": it is not a ${PROGRAM} command`);
    io.out(topic ? HELP[topic]! : MAIN_HELP);
    return 0;
  }
  if (command === '--version') {
    io.out('0.1.0\n');
    return 0;
  }
  if (!HELP[command]) throw new UsageError(`unknown command "${command}"`);
  const helpOnly = (values: { help?: boolean }) => {
    if (!values.help) return false;
    io.out(HELP[command]!);
    return true;
  };

  switch (command) {
    case 'webhook':
    case 'dispatcher':
    case 'up':
    case 'down': {
      const { values, positionals } = parse(command, rest, {});
      if (helpOnly(values)) return 0;
      if (positionals.length) throw new UsageError(`${command} takes no arguments, got ${positionals.join(' ')}`, command);
      return startEntry(command, []);
    }
    case 'agent': {
      const { values, positionals } = parse(command, rest, {});
      if (helpOnly(values)) return 0;
      const [type, ...extra] = positionals;
      if (!type) throw new UsageError(`agent needs a provider type: ${AGENT_TYPES.join(', ')}`, command);
      if (!AGENT_TYPES.includes(type)) throw new UsageError(`unknown agent type "${type}": use one of ${AGENT_TYPES.join(', ')}`, command);
      if (extra.length) throw new UsageError(`agent takes one type, got also ${extra.join(' ')}`, command);
      return startEntry('agent', ['agent', type]);
    }
    case 'status': {
      const { values, positionals } = parse(command, rest, KUBECONFIG_OPTION);
      if (helpOnly(values)) return 0;
      if (positionals.length) throw new UsageError(`status takes no arguments, got ${positionals.join(' ')}`, command);
      const [{ status }, { loadKubeConfig }] = await Promise.all([import('./status.ts'), kube()]);
      return status(loadKubeConfig(values.kubeconfig), io);
    }
    case 'vm': {
      const { values, positionals } = parse(command, rest, {
        ...KUBECONFIG_OPTION,
        namespace: { type: 'string', short: 'n' },
        'all-namespaces': { type: 'boolean', short: 'A' },
      });
      if (helpOnly(values)) return 0;
      const [sub, ...args] = positionals;
      const [{ listVMs, vmConsole }, { contextNamespace, loadKubeConfig }] = await Promise.all([import('./vm.ts'), kube()]);
      const kc = () => loadKubeConfig(values.kubeconfig);
      if (sub === 'list') {
        if (args.length) throw new UsageError(`vm list takes no names, got ${args.join(' ')}`, command);
        if (values['all-namespaces'] && values.namespace) throw new UsageError('use either --namespace or --all-namespaces', command);
        const config = kc();
        return listVMs(config, values['all-namespaces'] ? undefined : (values.namespace ?? contextNamespace(config)), io);
      }
      if (sub === 'console') {
        if (args.length !== 1) throw new UsageError('vm console needs exactly one VM name', command);
        if (values['all-namespaces']) throw new UsageError('vm console works in one namespace (--namespace)', command);
        const config = kc();
        return vmConsole(config, values.namespace ?? contextNamespace(config), args[0]!, io);
      }
      throw new UsageError(sub ? `unknown vm command "${sub}": use list or console` : 'vm needs a command: list or console', command);
    }
    case 'nats-bootstrap': {
      const { values, positionals } = parse(command, rest, { ...KUBECONFIG_OPTION, namespace: { type: 'string' }, print: { type: 'boolean' } });
      if (helpOnly(values)) return 0;
      if (positionals.length) throw new UsageError(`nats-bootstrap takes no arguments, got ${positionals.join(' ')}`, command);
      const [{ natsBootstrap, printNatsBootstrap }, { loadKubeConfig }] = await Promise.all([import('./nats-bootstrap.ts'), kube()]);
      if (values.print) return printNatsBootstrap(io);
      return natsBootstrap(loadKubeConfig(values.kubeconfig), values.namespace ?? 'virtrigaud-system', io);
    }
    case 'webhook-certs': {
      const { values, positionals } = parse(command, rest, {
        ...KUBECONFIG_OPTION,
        namespace: { type: 'string' }, service: { type: 'string' }, secret: { type: 'string' }, 'webhook-name': { type: 'string' }, days: { type: 'string' },
      });
      if (helpOnly(values)) return 0;
      if (positionals.length) throw new UsageError(`webhook-certs takes no arguments, got ${positionals.join(' ')}`, command);
      const days = Number(values.days ?? '365');
      if (!Number.isInteger(days) || days < 31 || days > 3650) throw new UsageError(`--days must be a whole number from 31 to 3650, got ${values.days}`, command);
      const [{ webhookCerts }, { loadKubeConfig }] = await Promise.all([import('./webhook-certs.ts'), kube()]);
      return webhookCerts(loadKubeConfig(values.kubeconfig), {
        namespace: values.namespace ?? 'virtrigaud-system',
        service: values.service ?? 'virtrigaud-webhook',
        secret: values.secret ?? 'virtrigaud-webhook-tls',
        webhookName: values['webhook-name'] ?? 'virtrigaud',
        days,
      }, io);
    }
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

/** Runs `main`, turning usage errors into exit code 2 with a pointer to the help. */
export async function run(argv: string[], io: Output = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t) }): Promise<number> {
  try {
    return await main(argv, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${PROGRAM}: ${err.message}\nRun '${PROGRAM} ${err.command ? `${err.command} ` : ''}--help' for usage.\n`);
      return 2;
    }
    io.err(`${PROGRAM}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

/** True when this module is the program (not imported by a test). */
function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  }, (err: unknown) => {
    process.stderr.write(`${PROGRAM} failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}
