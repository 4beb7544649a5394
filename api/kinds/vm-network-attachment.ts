import { Type, type Static } from '@sinclair/typebox';
import type { CrdDefinition } from '../crd.ts';
import { StringEnum, StringMap } from '../schema/builders.ts';
import { Condition } from '../schema/shared.ts';

export const VMNetworkAttachmentSpec = Type.Object({
  ipAllocation: Type.Optional(Type.Object({
    dhcpConfig: Type.Optional(Type.Object({
      clientID: Type.Optional(Type.String({ description: "ClientID specifies the DHCP client ID", maxLength: 255 })),
      hostname: Type.Optional(Type.String({ description: "Hostname specifies the hostname to request", maxLength: 255 })),
      options: Type.Optional(StringMap(Type.String(), { description: "Options contains DHCP options", maxProperties: 20 })),
    }, { description: "DHCPConfig contains DHCP configuration" })),
    dnsConfig: Type.Optional(Type.Object({
      options: Type.Optional(StringMap(Type.String(), { description: "Options contains DNS resolver options", maxProperties: 10 })),
      searchDomains: Type.Optional(Type.Array(Type.String(), { description: "SearchDomains contains DNS search domains", maxItems: 10 })),
      servers: Type.Optional(Type.Array(Type.String(), { description: "Servers contains DNS server addresses", maxItems: 10 })),
    }, { description: "DNSConfig contains DNS configuration" })),
    poolConfig: Type.Optional(Type.Object({
      poolRef: Type.Object({
        name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
      }, { description: "PoolRef references an IP pool resource" }),
      preferredIP: Type.Optional(Type.String({ description: "PreferredIP requests a preferred IP from the pool", pattern: "^((25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\\.){3}(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)$" })),
    }, { description: "PoolConfig contains IP pool configuration" })),
    staticConfig: Type.Optional(Type.Object({
      address: Type.String({ description: "Address is the static IP address (CIDR notation)", pattern: "^((25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\\.){3}(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)/([0-9]|[1-2][0-9]|3[0-2])$" }),
      gateway: Type.Optional(Type.String({ description: "Gateway is the default gateway", pattern: "^((25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\\.){3}(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)$" })),
      routes: Type.Optional(Type.Array(Type.Object({
        destination: Type.String({ description: "Destination is the destination network (CIDR notation)", pattern: "^((25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\\.){3}(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)/([0-9]|[1-2][0-9]|3[0-2])$" }),
        gateway: Type.String({ description: "Gateway is the route gateway", pattern: "^((25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)\\.){3}(25[0-5]|2[0-4][0-9]|[01]?[0-9][0-9]?)$" }),
        metric: Type.Optional(Type.Integer({ description: "Metric is the route metric", format: "int32", maximum: 65535, minimum: 0 })),
      }, { description: "StaticRoute defines a static route" }), { description: "Routes contains static routes", maxItems: 20 })),
    }, { description: "StaticConfig contains static IP configuration" })),
    type: Type.Optional(Type.String({ description: "Type specifies the IP allocation type", allOf: [{"enum": ["DHCP", "Static", "Pool", "None"]}, {"enum": ["DHCP", "Static", "Pool", "None"]}], default: "DHCP" })),
  }, { description: "IPAllocation defines IP address allocation settings" })),
  metadata: Type.Optional(Type.Object({
    description: Type.Optional(Type.String({ description: "Description provides a description", maxLength: 1024 })),
    displayName: Type.Optional(Type.String({ description: "DisplayName is a human-readable name", maxLength: 255 })),
    environment: Type.Optional(StringEnum(["dev", "staging", "prod", "test", "qa", "uat"], { description: "Environment specifies the environment (dev, staging, prod, qa, uat)" })),
    tags: Type.Optional(StringMap(Type.String(), { description: "Tags are key-value pairs for categorizing", maxProperties: 50 })),
  }, { description: "Metadata contains network metadata and labels" })),
  network: Type.Object({
    libvirt: Type.Optional(Type.Object({
      bridge: Type.Optional(Type.Object({
        delay: Type.Optional(Type.Integer({ description: "Delay is the STP forwarding delay", format: "int32", maximum: 30, minimum: 0 })),
        name: Type.String({ description: "Name is the bridge name", maxLength: 15 }),
        stp: Type.Optional(Type.Boolean({ description: "STP enables Spanning Tree Protocol", default: false })),
      }, { description: "Bridge specifies the bridge configuration" })),
      driver: Type.Optional(Type.Object({
        eventIDX: Type.Optional(Type.Boolean({ description: "EventIDX enables event index" })),
        ioEventFD: Type.Optional(Type.Boolean({ description: "IOEventFD enables IO event file descriptor" })),
        name: Type.Optional(StringEnum(["kvm", "vfio", "uio"], { description: "Name is the driver name" })),
        queues: Type.Optional(Type.Integer({ description: "Queues specifies the number of queues", format: "int32", maximum: 16, minimum: 1 })),
        txMode: Type.Optional(StringEnum(["iothread", "timer"], { description: "TxMode specifies the TX mode" })),
      }, { description: "Driver specifies the network driver configuration" })),
      filterRef: Type.Optional(Type.Object({
        filter: Type.String({ description: "Filter is the filter name", maxLength: 255 }),
        parameters: Type.Optional(StringMap(Type.String(), { description: "Parameters contains filter parameters", maxProperties: 20 })),
      }, { description: "FilterRef specifies network filter configuration" })),
      model: Type.Optional(StringEnum(["virtio", "e1000", "e1000e", "rtl8139", "pcnet", "ne2k_pci"], { description: "Model specifies the network device model", default: "virtio" })),
      networkName: Type.Optional(Type.String({ description: "NetworkName specifies the Libvirt network name", maxLength: 255 })),
    }, { description: "Libvirt contains Libvirt-specific network configuration" })),
    mtu: Type.Optional(Type.Integer({ description: "MTU specifies the Maximum Transmission Unit", default: 1500, format: "int32", maximum: 9000, minimum: 68 })),
    proxmox: Type.Optional(Type.Object({
      bridge: Type.Optional(Type.String({ description: "Bridge specifies the Linux bridge\nExamples: \"vmbr0\", \"vmbr1\", \"vmbr2\"", maxLength: 15, pattern: "^vmbr[0-9]+$" })),
      firewall: Type.Optional(Type.Boolean({ description: "Firewall enables the Proxmox firewall for this interface", default: false })),
      model: Type.Optional(StringEnum(["virtio", "e1000", "rtl8139", "vmxnet3"], { description: "Model specifies the network card model", default: "virtio" })),
      mtu: Type.Optional(Type.Integer({ description: "MTU specifies the Maximum Transmission Unit", format: "int32", maximum: 65520, minimum: 68 })),
      rateLimit: Type.Optional(Type.Integer({ description: "RateLimit specifies the bandwidth limit in MB/s", format: "int32", minimum: 1 })),
      vlanTag: Type.Optional(Type.Integer({ description: "VLANTag specifies the VLAN tag", format: "int32", maximum: 4094, minimum: 1 })),
    }, { description: "Proxmox contains Proxmox VE-specific network configuration" })),
    type: Type.Optional(Type.String({ description: "Type specifies the network type", allOf: [{"enum": ["bridged", "nat", "isolated", "host-only", "external"]}, {"enum": ["bridged", "nat", "isolated", "host-only", "external"]}], default: "bridged" })),
    vsphere: Type.Optional(Type.Object({
      adapterType: Type.Optional(StringEnum(["vmxnet3", "e1000", "e1000e"], { description: "AdapterType specifies the network adapter type", default: "vmxnet3" })),
      distributedSwitch: Type.Optional(Type.Object({
        name: Type.String({ description: "Name is the name of the distributed switch", maxLength: 255 }),
        portgroupType: Type.Optional(StringEnum(["ephemeral", "distributed"], { description: "PortgroupType specifies the type of portgroup" })),
        uuid: Type.Optional(Type.String({ description: "UUID is the UUID of the distributed switch (optional)" })),
      }, { description: "DistributedSwitch specifies the distributed virtual switch" })),
      pciSlotNumber: Type.Optional(Type.Integer({ description: "PCISlotNumber specifies the PCI slot number for the network adapter.\nThis controls the predictable network interface naming in Linux (e.g., ens192).\nCommon values: 192 for ens192, 224 for ens224, 256 for ens256.\nIf not specified, vSphere assigns a slot automatically.", format: "int32", maximum: 1024, minimum: 32 })),
      portgroup: Type.Optional(Type.String({ description: "Portgroup specifies the vSphere portgroup name", maxLength: 255 })),
      security: Type.Optional(Type.Object({
        allowForgedTransmits: Type.Optional(Type.Boolean({ description: "AllowForgedTransmits allows forged transmits", default: true })),
        allowMACChanges: Type.Optional(Type.Boolean({ description: "AllowMACChanges allows MAC address changes", default: true })),
        allowPromiscuous: Type.Optional(Type.Boolean({ description: "AllowPromiscuous allows promiscuous mode", default: false })),
      }, { description: "Security defines portgroup security settings" })),
      trafficShaping: Type.Optional(Type.Object({
        averageBandwidth: Type.Optional(Type.Integer({ description: "AverageBandwidth is the average bandwidth in bits per second", format: "int64", minimum: 1000 })),
        burstSize: Type.Optional(Type.Integer({ description: "BurstSize is the burst size in bytes", format: "int64", minimum: 1024 })),
        enabled: Type.Optional(Type.Boolean({ description: "Enabled indicates if traffic shaping is enabled", default: false })),
        peakBandwidth: Type.Optional(Type.Integer({ description: "PeakBandwidth is the peak bandwidth in bits per second", format: "int64", minimum: 1000 })),
      }, { description: "TrafficShaping defines traffic shaping settings" })),
      vlan: Type.Optional(Type.Object({
        primaryVlanID: Type.Optional(Type.Integer({ description: "PrimaryVlanID specifies the primary VLAN ID for PVLAN", format: "int32", maximum: 4094, minimum: 1 })),
        secondaryVlanID: Type.Optional(Type.Integer({ description: "SecondaryVlanID specifies the secondary VLAN ID for PVLAN", format: "int32", maximum: 4094, minimum: 1 })),
        trunkVlanIDs: Type.Optional(Type.Array(Type.Integer({ format: "int32" }), { description: "TrunkVlanIDs specifies VLAN IDs for trunk type", maxItems: 100 })),
        type: Type.Optional(StringEnum(["none", "vlan", "pvlan", "trunk"], { description: "Type specifies the VLAN type", default: "none" })),
        vlanID: Type.Optional(Type.Integer({ description: "VlanID specifies the VLAN ID for VLAN type", format: "int32", maximum: 4094, minimum: 1 })),
      }, { description: "VLAN specifies the VLAN configuration" })),
    }, { description: "VSphere contains vSphere-specific network configuration" })),
  }, { description: "Network defines the underlying network configuration" }),
  qos: Type.Optional(Type.Object({
    dscp: Type.Optional(Type.Integer({ description: "DSCP specifies DSCP marking", format: "int32", maximum: 63, minimum: 0 })),
    egressLimit: Type.Optional(Type.Integer({ description: "EgressLimit limits outbound traffic in bits per second", format: "int64", minimum: 1000 })),
    ingressLimit: Type.Optional(Type.Integer({ description: "IngressLimit limits inbound traffic in bits per second", format: "int64", minimum: 1000 })),
    priority: Type.Optional(Type.Integer({ description: "Priority specifies traffic priority", format: "int32", maximum: 7, minimum: 0 })),
  }, { description: "QoS defines Quality of Service settings" })),
  security: Type.Optional(Type.Object({
    encryption: Type.Optional(Type.Object({
      enabled: Type.Optional(Type.Boolean({ description: "Enabled indicates if encryption is enabled", default: false })),
      keyRef: Type.Optional(Type.Object({
        name: Type.String({ description: "Name of the referenced object", maxLength: 253, pattern: "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" }),
      }, { description: "KeyRef references encryption keys" })),
      protocol: Type.Optional(StringEnum(["ipsec", "wireguard", "openvpn"], { description: "Protocol specifies the encryption protocol" })),
    }, { description: "Encryption contains network encryption settings" })),
    firewall: Type.Optional(Type.Object({
      defaultPolicy: Type.Optional(StringEnum(["ACCEPT", "DROP", "REJECT"], { description: "DefaultPolicy specifies the default firewall policy", default: "ACCEPT" })),
      enabled: Type.Optional(Type.Boolean({ description: "Enabled indicates if firewall is enabled", default: false })),
      rules: Type.Optional(Type.Array(Type.Object({
        action: StringEnum(["ACCEPT", "DROP", "REJECT"], { description: "Action specifies the rule action" }),
        destinationCIDR: Type.Optional(Type.String({ description: "DestinationCIDR specifies the destination CIDR" })),
        direction: StringEnum(["in", "out", "inout"], { description: "Direction specifies the traffic direction" }),
        name: Type.String({ description: "Name is the rule name", maxLength: 255 }),
        ports: Type.Optional(Type.Object({
          end: Type.Optional(Type.Integer({ description: "End is the ending port (optional, defaults to start)", format: "int32", maximum: 65535, minimum: 1 })),
          start: Type.Integer({ description: "Start is the starting port", format: "int32", maximum: 65535, minimum: 1 }),
        }, { description: "Ports specifies the port range" })),
        priority: Type.Optional(Type.Integer({ description: "Priority specifies the rule priority", format: "int32", maximum: 1000, minimum: 1 })),
        protocol: Type.Optional(StringEnum(["tcp", "udp", "icmp", "all"], { description: "Protocol specifies the protocol" })),
        sourceCIDR: Type.Optional(Type.String({ description: "SourceCIDR specifies the source CIDR" })),
      }, { description: "FirewallRule defines a firewall rule" }), { description: "Rules contains firewall rules", maxItems: 100 })),
    }, { description: "Firewall contains firewall configuration" })),
    isolation: Type.Optional(Type.Object({
      allowedNetworks: Type.Optional(Type.Array(Type.String(), { description: "AllowedNetworks contains allowed network CIDRs", maxItems: 50 })),
      deniedNetworks: Type.Optional(Type.Array(Type.String(), { description: "DeniedNetworks contains denied network CIDRs", maxItems: 50 })),
      mode: Type.Optional(StringEnum(["none", "strict", "custom"], { description: "Mode specifies the isolation mode" })),
    }, { description: "Isolation contains network isolation settings" })),
  }, { description: "Security defines network security settings" })),
}, { description: "VMNetworkAttachmentSpec defines the desired state of VMNetworkAttachment" });
export type VMNetworkAttachmentSpec = Static<typeof VMNetworkAttachmentSpec>;

export const VMNetworkAttachmentStatus = Type.Object({
  availableOn: Type.Optional(Type.Array(Type.String(), { description: "AvailableOn lists the providers where the network is available" })),
  conditions: Type.Optional(Type.Array(Condition, { description: "Conditions represent the latest available observations" })),
  connectedVMs: Type.Optional(Type.Integer({ description: "ConnectedVMs is the number of VMs using this network", format: "int32" })),
  ipAllocations: Type.Optional(Type.Array(Type.Object({
    allocatedAt: Type.Optional(Type.String({ description: "AllocatedAt is when the IP was allocated", format: "date-time" })),
    ip: Type.String({ description: "IP is the allocated IP address" }),
    leaseExpiry: Type.Optional(Type.String({ description: "LeaseExpiry is when the IP lease expires (for DHCP)", format: "date-time" })),
    mac: Type.Optional(Type.String({ description: "MAC is the allocated MAC address" })),
    vm: Type.String({ description: "VM is the VM name that has the IP allocated" }),
  }, { description: "IPAllocation represents an IP allocation" }), { description: "IPAllocations contains current IP allocations" })),
  message: Type.Optional(Type.String({ description: "Message provides additional details about the current state" })),
  observedGeneration: Type.Optional(Type.Integer({ description: "ObservedGeneration reflects the generation observed by the controller", format: "int64" })),
  phase: Type.Optional(StringEnum(["Pending", "Configuring", "Ready", "Failed"], { description: "Phase represents the current phase" })),
  providerStatus: Type.Optional(StringMap(Type.Object({
    available: Type.Boolean({ description: "Available indicates if the network is available on this provider" }),
    id: Type.Optional(Type.String({ description: "ID is the provider-specific network identifier" })),
    lastUpdated: Type.Optional(Type.String({ description: "LastUpdated is when the status was last updated", format: "date-time" })),
    message: Type.Optional(Type.String({ description: "Message provides provider-specific status information" })),
    state: Type.Optional(Type.String({ description: "State is the provider-specific network state" })),
  }, { description: "ProviderNetworkStatus contains provider-specific network status" }), { description: "ProviderStatus contains provider-specific status information" })),
  ready: Type.Optional(Type.Boolean({ description: "Ready indicates if the network is ready for use" })),
}, { description: "VMNetworkAttachmentStatus defines the observed state of VMNetworkAttachment" });
export type VMNetworkAttachmentStatus = Static<typeof VMNetworkAttachmentStatus>;

export const vmNetworkAttachmentCrd: CrdDefinition = {
  kind: 'VMNetworkAttachment',
  plural: 'vmnetworkattachments',
  singular: 'vmnetworkattachment',
  shortNames: ['vmnet'],
  description: 'A network (portgroup, bridge, libvirt network, Proxmox bridge) that VMs attach to.',
  spec: VMNetworkAttachmentSpec,
  status: VMNetworkAttachmentStatus,
  printerColumns: [
    { name: 'Ready', type: 'boolean', jsonPath: '.status.ready' },
    { name: 'Type', type: 'string', jsonPath: '.spec.network.type' },
    { name: 'Connected VMs', type: 'integer', jsonPath: '.status.connectedVMs' },
    { name: 'Providers', type: 'string', jsonPath: '.status.availableOn[*]' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
};
