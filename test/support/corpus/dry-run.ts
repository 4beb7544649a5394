/**
 * Submits corpus objects to an apiserver with a server-side dry-run apply and says, per object,
 * whether it was accepted (with the object the server would have stored) or refused (with the
 * apiserver's own words).
 */
import { kubectl, type KubectlResult } from '../../../scripts/stack/kubectl.ts';
import { asList, type CorpusObject } from './corpus.ts';

/** What one apiserver said about one object. */
export interface Verdict {
  object: CorpusObject;
  accepted: boolean;
  /** The apiserver's refusal (kubectl's stderr) when not accepted. */
  error?: string;
  /** The object as the server would store it (defaulted, pruned) when accepted. */
  stored?: { spec?: unknown };
}

/** Refused objects are re-sent one by one, this many at a time, to read each refusal on its own. */
const RESUBMIT_CONCURRENCY = 8;

/**
 * Dry-run applies `objects` in `namespace`. One kubectl call takes the whole List (a corpus of
 * hundreds in well under a second); kubectl prints nothing with `-o json` once any object fails,
 * so acceptance is read from `-o name`, refusals from a resubmission of each refused object
 * alone, and stored objects from a second `-o json` call with the accepted ones.
 */
export async function dryRunApply(
  kubectlBin: string,
  kubeconfig: string,
  namespace: string,
  objects: readonly CorpusObject[],
): Promise<Verdict[]> {
  const send = (items: readonly CorpusObject[], output: 'name' | 'json') =>
    apply(kubectlBin, kubeconfig, JSON.stringify(asList(items, namespace)), output);

  const batch = await send(objects, 'name');
  const applied = new Set(batch.stdout.split('\n').map(keyOfNameLine).filter((k) => k !== ''));
  const verdicts: Verdict[] = objects.map((object) => ({ object, accepted: applied.has(keyOf(object)) }));

  const refused = verdicts.filter((v) => !v.accepted);
  for (let i = 0; i < refused.length; i += RESUBMIT_CONCURRENCY) {
    await Promise.all(
      refused.slice(i, i + RESUBMIT_CONCURRENCY).map(async (v) => {
        const alone = await send([v.object], 'name');
        v.error =
          alone.code === 0
            ? `accepted alone but not in the batch (batch stderr: ${batch.stderr.trim()})`
            : alone.stderr.trim() || alone.stdout.trim();
      }),
    );
  }

  const accepted = verdicts.filter((v) => v.accepted);
  if (accepted.length > 0) {
    const stored = await send(accepted.map((v) => v.object), 'json');
    if (stored.code !== 0) throw new Error(`re-applying the accepted objects failed: ${stored.stderr.trim()}`);
    const byKey = new Map(storedObjects(stored.stdout).map((o) => [keyOf(o), o]));
    for (const v of accepted) v.stored = byKey.get(keyOf(v.object));
  }
  return verdicts;
}

function apply(kubectlBin: string, kubeconfig: string, input: string, output: 'name' | 'json'): Promise<KubectlResult> {
  return kubectl(
    kubectlBin,
    kubeconfig,
    [
      'apply',
      '--server-side',
      '--dry-run=server',
      '--field-manager=compat-corpus',
      // The apiserver's verdict is what we compare. kubectl's own client-side check (its fallback
      // for "strict" here) would abort the whole List on the first problem. Server-side apply
      // still refuses any field the schema does not declare.
      '--validate=false',
      '-o',
      output,
      '-f',
      '-',
    ],
    { input },
  );
}

interface StoredObject {
  kind: string;
  metadata: { name: string };
  spec?: unknown;
}

/** `-o json` prints the object for one input and a List for several. */
function storedObjects(stdout: string): StoredObject[] {
  const out = JSON.parse(stdout) as StoredObject & { items?: StoredObject[] };
  return out.kind === 'List' ? (out.items ?? []) : [out];
}

/** `virtualmachine.infra.virtrigaud.io/virtualmachine-003` → `virtualmachine/virtualmachine-003`. */
function keyOfNameLine(line: string): string {
  const m = /^([^./\s]+)(?:\.[^/\s]*)?\/(\S+)$/.exec(line.trim());
  return m ? `${m[1]!.toLowerCase()}/${m[2]}` : '';
}

function keyOf(object: { kind: string; metadata: { name: string } }): string {
  return `${object.kind.toLowerCase()}/${object.metadata.name}`;
}
