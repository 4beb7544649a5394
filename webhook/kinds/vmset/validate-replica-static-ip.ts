/** A VMSet of more than one replica may not give its template a static IP: every replica would claim it. */
import type { VMSet } from '../../../api/objects.ts';
import type { FieldError, Validator } from '../../framework/types.ts';
import { ruleErrors } from '../rule-names.ts';
import { allowed, result } from '../shared/result.ts';
import { VMSET_TEMPLATE_SPEC_PATH } from '../virtualmachine/vm-spec-context.ts';

const errors = ruleErrors('vmset-static-ip-replicas');

export const MESSAGE_SHARED_STATIC_IP = (ip: string, replicas: number): string =>
  `each of the ${replicas} replicas would claim ${ip}: remove ipAddress (use DHCP or an IP pool on the VMNetworkAttachment), or set replicas to 1`;

export const validateReplicaStaticIP: Validator<VMSet> = ({ operation, object }) => {
  const replicas = object.spec.replicas ?? 1;
  if ((operation !== 'CREATE' && operation !== 'UPDATE') || replicas <= 1) return allowed();
  const found: FieldError[] = [];
  (object.spec.template.spec.networks ?? []).forEach((network, i) => {
    if (network.ipAddress === undefined) return;
    found.push(errors.forbidden(VMSET_TEMPLATE_SPEC_PATH.child('networks').index(i).child('ipAddress'), MESSAGE_SHARED_STATIC_IP(network.ipAddress, replicas)));
  });
  return result({ errors: found });
};
