/** A client-node Watch whose failures always reach ListWatch's restart path. */
import { Watch } from '@kubernetes/client-node';

/**
 * A Watch whose failures always arrive through `done`. ListWatch re-watches from inside a `done`
 * callback without awaiting it: a rejection there (credentials that fail to load, say) would be
 * unhandled and stop the informer silently; through `done` it reaches the restart loop.
 */
export class SettlingWatch extends Watch {
  override async watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    try {
      return await super.watch(path, queryParams, callback, done);
    } catch (err) {
      done(err);
      return new AbortController();
    }
  }
}
