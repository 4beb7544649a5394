/** IPv4 addresses and subnets as 32-bit numbers. */

/** An IPv4 subnet: its network address, broadcast address and prefix length. */
export interface Subnet {
  network: number;
  broadcast: number;
  prefix: number;
}

const DOTTED = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** A dotted-quad address as an unsigned 32-bit number, or undefined. */
export function parseIPv4(address: string): number | undefined {
  const m = DOTTED.exec(address.trim());
  if (!m) return undefined;
  let n = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    n = n * 256 + octet;
  }
  return n;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The subnet of `address/prefix`. */
export function subnetOf(address: number, prefix: number): Subnet {
  const size = 2 ** (32 - prefix);
  const network = Math.floor(address / size) * size;
  return { network, broadcast: network + size - 1, prefix };
}

/** A CIDR (`10.0.0.5/24`) as its subnet, or undefined. */
export function parseCidr(cidr: string): Subnet | undefined {
  const [address, prefixText, ...rest] = cidr.trim().split('/');
  if (address === undefined || prefixText === undefined || rest.length > 0 || !/^\d{1,2}$/.test(prefixText)) return undefined;
  const ip = parseIPv4(address);
  const prefix = Number(prefixText);
  if (ip === undefined || prefix > 32) return undefined;
  return subnetOf(ip, prefix);
}

export function contains(subnet: Subnet, address: number): boolean {
  return address >= subnet.network && address <= subnet.broadcast;
}

/** Subnets of /31 and /32 have no network or broadcast address to avoid (RFC 3021). */
export function hasReservedAddresses(subnet: Subnet): boolean {
  return subnet.prefix <= 30;
}

/** True for the network or broadcast address of a subnet that has them. */
export function isReservedAddress(subnet: Subnet, address: number): boolean {
  return hasReservedAddresses(subnet) && (address === subnet.network || address === subnet.broadcast);
}

/** `10.0.0.0/24`. */
export function formatSubnet(subnet: Subnet): string {
  return `${formatIPv4(subnet.network)}/${subnet.prefix}`;
}

/** The usable host range, for messages: `10.0.0.1 to 10.0.0.254`. */
export function formatHostRange(subnet: Subnet): string {
  const first = hasReservedAddresses(subnet) ? subnet.network + 1 : subnet.network;
  const last = hasReservedAddresses(subnet) ? subnet.broadcast - 1 : subnet.broadcast;
  return `${formatIPv4(first)} to ${formatIPv4(last)}`;
}
