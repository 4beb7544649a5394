/**
 * How an agent authenticates to NATS in a cluster, from its environment:
 *
 *   NATS_CREDS_FILE     a `.creds` file (user JWT + seed) the Provider controller mints for this
 *                       provider only and mounts from Secret `<provider>-nats-creds`; read again on
 *                       every (re)connect, so a rotated Secret is picked up without a restart
 *   NATS_INBOX_PREFIX   reply subjects under this prefix (`_INBOX_<ns>_<provider>`): the minted
 *                       user may subscribe there only, never to `_INBOX.>`
 *
 * Both unset: an unauthenticated connection (the local stack, tests).
 */
import { readFileSync } from 'node:fs';
import { credsAuthenticator, type ConnectionOptions } from '@nats-io/nats-core';
import { ConfigError } from './config.ts';

export interface NatsAuth {
  credsFile?: string;
  inboxPrefix?: string;
}

type Env = Record<string, string | undefined>;

const INBOX_PREFIX = /^[A-Za-z0-9_-]+$/;

export function loadNatsAuth(env: Env): NatsAuth {
  const credsFile = env.NATS_CREDS_FILE?.trim() || undefined;
  const inboxPrefix = env.NATS_INBOX_PREFIX?.trim() || undefined;
  if (inboxPrefix !== undefined && !INBOX_PREFIX.test(inboxPrefix)) {
    throw new ConfigError([`NATS_INBOX_PREFIX must be one subject token (letters, digits, - and _), got ${JSON.stringify(inboxPrefix)}`]);
  }
  return { ...(credsFile ? { credsFile } : {}), ...(inboxPrefix ? { inboxPrefix } : {}) };
}

/** Connect options for `auth` (none when it is empty). */
export function natsConnectOptions(auth: NatsAuth | undefined): Partial<ConnectionOptions> {
  const options: Partial<ConnectionOptions> = {};
  const file = auth?.credsFile;
  if (file) {
    options.authenticator = credsAuthenticator(() => {
      try {
        return readFileSync(file);
      } catch (err) {
        throw new ConfigError([`cannot read the NATS credentials file ${file} (NATS_CREDS_FILE): ${(err as Error).message}`]);
      }
    });
  }
  if (auth?.inboxPrefix) options.inboxPrefix = auth.inboxPrefix;
  return options;
}
