/**
 * A static IP needs its prefix, must be a host address of that subnet, needs a gateway inside the
 * subnet (unless its network is isolated), and must lie inside the subnet its VMNetworkAttachment
 * declares. (The CRD already refuses prefix or gateway without ipAddress.)
 */
import type { VMNetworkRef } from '../../../api/schema/shared.ts';
import type { VMNetworkAttachment } from '../../../api/objects.ts';
import type { FieldPath } from '../../framework/field-path.ts';
import type { FieldError } from '../../framework/types.ts';
import { ruleErrors } from '../rule-names.ts';
import { contains, formatHostRange, formatIPv4, formatSubnet, isReservedAddress, parseCidr, parseIPv4, subnetOf, type Subnet } from '../shared/ipv4.ts';
import { describeObject, refNamespace } from '../shared/refs.ts';
import { result } from '../shared/result.ts';
import type { VMSpecContext, VMSpecRule } from './vm-spec-context.ts';

const prefixErrors = ruleErrors('static-ip-prefix');
const gatewayErrors = ruleErrors('static-ip-gateway');
const subnetErrors = ruleErrors('static-ip-subnet');

/** Network types without a router, where a static IP needs no gateway. */
export const GATEWAYLESS_NETWORK_TYPES: readonly string[] = ['isolated', 'host-only'];

export const MESSAGE_PREFIX_REQUIRED = (ip: string): string =>
  `static ipAddress ${ip} needs prefix, the length of its subnet: e.g. 24 for a /24`;
export const MESSAGE_RESERVED_ADDRESS = (ip: string, subnet: Subnet): string =>
  `${ip} is the ${ip === formatIPv4(subnet.network) ? 'network' : 'broadcast'} address of ${formatSubnet(subnet)}: `
  + `use a host address from ${formatHostRange(subnet)}`;
export const MESSAGE_GATEWAY_REQUIRED = (subnet: Subnet): string =>
  `a static ipAddress needs a gateway inside ${formatSubnet(subnet)} (${formatHostRange(subnet)}), `
  + `unless its network is ${GATEWAYLESS_NETWORK_TYPES.join(' or ')} (a VMNetworkAttachment with that network.type)`;
export const MESSAGE_GATEWAY_OUTSIDE = (gateway: string, ip: string, subnet: Subnet): string =>
  `gateway ${gateway} is outside ${formatSubnet(subnet)}, the subnet of ipAddress ${ip}/${subnet.prefix}: `
  + `use an address from ${formatHostRange(subnet)}`;
export const MESSAGE_GATEWAY_IS_SELF = (gateway: string, subnet: Subnet): string =>
  `gateway ${gateway} is the VM's own ipAddress: use the router's address in ${formatSubnet(subnet)}`;
export const MESSAGE_GATEWAY_RESERVED = (gateway: string, subnet: Subnet): string =>
  `gateway ${gateway} is the network or broadcast address of ${formatSubnet(subnet)}: use an address from ${formatHostRange(subnet)}`;
export const MESSAGE_OUTSIDE_NETWORK = (ip: string, network: string, subnet: Subnet): string =>
  `${ip} is outside ${formatSubnet(subnet)}, the subnet of ${network} (spec.ipAllocation.staticConfig.address): `
  + `use an address from ${formatHostRange(subnet)}`;
export const MESSAGE_PREFIX_MISMATCH = (prefix: number, network: string, subnet: Subnet): string =>
  `prefix ${prefix} differs from the /${subnet.prefix} of ${network}: use ${subnet.prefix}`;

interface Attachment {
  name: string;
  object: VMNetworkAttachment;
}

function attachmentOf(ctx: VMSpecContext, network: VMNetworkRef): Attachment | undefined {
  if (!network.networkRef) return undefined;
  const ns = refNamespace(network.networkRef, ctx.namespace);
  const object = ctx.lookup.network(ns, network.networkRef.name);
  return object ? { name: describeObject('VMNetworkAttachment', ns, network.networkRef.name), object } : undefined;
}

/** A gateway is needed unless the network is known to have no router; a missing attachment is not held against the VM. */
function gatewayRequired(ctx: VMSpecContext, network: VMNetworkRef, attachment: Attachment | undefined): boolean {
  if (!network.networkRef) return true;
  if (!attachment) return false;
  return !GATEWAYLESS_NETWORK_TYPES.includes(attachment.object.spec.network.type ?? 'bridged');
}

function checkGateway(path: FieldPath, network: VMNetworkRef, ip: number, subnet: Subnet, required: boolean): FieldError[] {
  const at = path.child('gateway');
  if (network.gateway === undefined) return required ? [gatewayErrors.required(at, MESSAGE_GATEWAY_REQUIRED(subnet))] : [];
  const gateway = parseIPv4(network.gateway);
  if (gateway === undefined) return []; // the CRD's pattern refuses it
  if (!contains(subnet, gateway)) return [gatewayErrors.invalid(at, MESSAGE_GATEWAY_OUTSIDE(network.gateway, formatIPv4(ip), subnet))];
  if (gateway === ip) return [gatewayErrors.invalid(at, MESSAGE_GATEWAY_IS_SELF(network.gateway, subnet))];
  if (isReservedAddress(subnet, gateway)) return [gatewayErrors.invalid(at, MESSAGE_GATEWAY_RESERVED(network.gateway, subnet))];
  return [];
}

function checkAttachmentSubnet(path: FieldPath, network: VMNetworkRef, ip: number, attachment: Attachment | undefined): FieldError[] {
  const cidr = attachment?.object.spec.ipAllocation?.staticConfig?.address;
  const subnet = cidr === undefined ? undefined : parseCidr(cidr);
  if (!attachment || !subnet) return [];
  if (!contains(subnet, ip)) {
    return [subnetErrors.invalid(path.child('ipAddress'), MESSAGE_OUTSIDE_NETWORK(formatIPv4(ip), attachment.name, subnet))];
  }
  if (network.prefix !== undefined && network.prefix !== subnet.prefix) {
    return [subnetErrors.invalid(path.child('prefix'), MESSAGE_PREFIX_MISMATCH(network.prefix, attachment.name, subnet))];
  }
  return [];
}

export const validateStaticIPs: VMSpecRule = (ctx) => {
  const found: FieldError[] = [];
  (ctx.spec.networks ?? []).forEach((network, i) => {
    if (network.ipAddress === undefined) return;
    const ip = parseIPv4(network.ipAddress);
    if (ip === undefined) return; // the CRD's pattern refuses it
    const path = ctx.path.child('networks').index(i);
    const attachment = attachmentOf(ctx, network);
    found.push(...checkAttachmentSubnet(path, network, ip, attachment));
    if (network.prefix === undefined) {
      found.push(prefixErrors.required(path.child('prefix'), MESSAGE_PREFIX_REQUIRED(network.ipAddress)));
      return;
    }
    const subnet = subnetOf(ip, network.prefix);
    if (isReservedAddress(subnet, ip)) found.push(prefixErrors.invalid(path.child('ipAddress'), MESSAGE_RESERVED_ADDRESS(network.ipAddress, subnet)));
    found.push(...checkGateway(path, network, ip, subnet, gatewayRequired(ctx, network, attachment)));
  });
  return result({ errors: found });
};
