/**
 * A Provider the dispatcher can run: its name names the agent's Service (`<name>-agent`, a DNS
 * label of at most 63 characters) and the bus subjects (no dots), and its credential Secret is in
 * its own namespace (a Secret can only be mounted into pods of its namespace, and the agents run
 * in the Provider's).
 */
import type { Provider } from '../../../api/objects.ts';
import { newPath } from '../../framework/field-path.ts';
import type { FieldError, Validator } from '../../framework/types.ts';
import { ruleErrors } from '../rule-names.ts';
import { namespaceOf } from '../shared/refs.ts';
import { allowed, ratcheted, result } from '../shared/result.ts';

const nameErrors = ruleErrors('provider-name');
const secretErrors = ruleErrors('provider-credentials-namespace');

/** `<name>-agent` must fit a Service name. */
export const MAX_PROVIDER_NAME = 63 - '-agent'.length;
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export const MESSAGE_PROVIDER_NAME = (name: string): string =>
  name.length > MAX_PROVIDER_NAME
    ? `a Provider name has at most ${MAX_PROVIDER_NAME} characters (it names the agent's Service, <name>-agent); ${name} has ${name.length}`
    : `a Provider name is a DNS label starting with a letter (lowercase letters, digits and -, no dots): it names the agent's Service and its bus subjects; ${name} is not`;

export const MESSAGE_SECRET_NAMESPACE = (secretNamespace: string, namespace: string): string =>
  `the credential Secret must be in the Provider's namespace ${namespace} (the agents that mount it run there), not ${secretNamespace}: copy the Secret to ${namespace} and drop the namespace`;

const validateName: Validator<Provider> = ({ operation, object }) => {
  if (operation !== 'CREATE') return allowed();
  const name = object.metadata.name ?? '';
  // generateName'd objects have no name yet; the apiserver's own name rules apply to those.
  if (name === '' || (name.length <= MAX_PROVIDER_NAME && DNS_LABEL.test(name))) return allowed();
  return result({ errors: [nameErrors.invalid(newPath('metadata', 'name'), MESSAGE_PROVIDER_NAME(name))] });
};

const validateSecretNamespace: Validator<Provider> = ({ operation, object }) => {
  if (operation !== 'CREATE' && operation !== 'UPDATE') return allowed();
  const namespace = namespaceOf(object.metadata);
  const secretNamespace = object.spec.credentialSecretRef?.namespace;
  const errors: FieldError[] = [];
  if (secretNamespace && secretNamespace !== namespace) {
    errors.push(secretErrors.forbidden(newPath('spec', 'credentialSecretRef', 'namespace'), MESSAGE_SECRET_NAMESPACE(secretNamespace, namespace)));
  }
  return result({ errors });
};

export const validateProviderName: Validator<Provider> = validateName;
export const validateProviderSecretNamespace: Validator<Provider> = ratcheted(validateSecretNamespace);
