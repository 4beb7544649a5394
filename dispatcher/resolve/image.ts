/** VMImage source (or the VM's importedDisk) → ImageSpec, for the provider's hypervisor type. */
import { create } from '@bufbuild/protobuf';
import type { VirtualMachine, VMImage } from '../../api/objects.ts';
import {
  DiskImageUrlSchema, ExistingDiskSchema, ImageSpecSchema, ProxmoxTemplateSchema, VSphereTemplateSchema, type ImageSpec,
} from '../../proto/gen/virtrigaud/bus/v1/bus_pb.ts';
import type { Problems } from './types.ts';

/** Which provider types can use each hypervisor-specific image source ("mock" takes any). */
const SOURCE_TYPES: Record<string, readonly string[]> = {
  vsphere: ['vsphere'],
  libvirt: ['libvirt', 'qemu'],
  proxmox: ['proxmox'],
};

function fits(source: string, providerType: string): boolean {
  return providerType === 'mock' || (SOURCE_TYPES[source]?.includes(providerType) ?? true);
}

export function resolveImportedDisk(vm: VirtualMachine): ImageSpec | undefined {
  const d = vm.spec.importedDisk;
  if (!d) return undefined;
  return create(ImageSpecSchema, {
    name: d.diskID,
    source: { case: 'existingDisk', value: create(ExistingDiskSchema, { diskId: d.diskID, path: d.path ?? '', format: d.format ?? 'qcow2' }) },
  });
}

export function resolveImage(image: VMImage, providerType: string, problems: Problems): ImageSpec | undefined {
  const name = image.metadata.name ?? '';
  const src = image.spec.source;
  const which = Object.keys(src).find((k) => src[k as keyof typeof src] !== undefined) ?? 'none';
  const where = `VMImage ${name}`;
  if (!fits(which, providerType)) {
    return problems.bad(`${where}: a ${which} image cannot be used by a ${providerType} provider`);
  }
  const spec = (source: ImageSpec['source']) => create(ImageSpecSchema, { name, source });

  if (src.vsphere) {
    const v = src.vsphere;
    if (v.templateName) {
      return spec({ case: 'vsphereTemplate', value: create(VSphereTemplateSchema, { templateName: v.templateName }) });
    }
    if (v.contentLibrary) {
      return spec({
        case: 'vsphereTemplate',
        value: create(VSphereTemplateSchema, { contentLibrary: v.contentLibrary.library, contentLibraryItem: v.contentLibrary.item }),
      });
    }
    if (v.ovaURL) {
      return spec({
        case: 'url',
        value: create(DiskImageUrlSchema, { url: v.ovaURL, format: 'ova', checksum: v.checksum ?? '', checksumType: v.checksum ? (v.checksumType ?? 'sha256') : '' }),
      });
    }
    return problems.bad(`${where}: source.vsphere needs templateName, contentLibrary or ovaURL`);
  }
  if (src.libvirt) {
    const l = src.libvirt;
    const url = l.url ?? (l.path ? `file://${l.path}` : undefined);
    if (!url) return problems.bad(`${where}: source.libvirt needs url or path`);
    return spec({
      case: 'url',
      value: create(DiskImageUrlSchema, {
        url, format: l.format ?? 'qcow2', checksum: l.checksum ?? '', checksumType: l.checksum ? (l.checksumType ?? 'sha256') : '', storage: l.storagePool ?? '',
      }),
    });
  }
  if (src.proxmox) {
    const p = src.proxmox;
    if (p.templateID === undefined && !p.templateName) return problems.bad(`${where}: source.proxmox needs templateID or templateName`);
    return spec({
      case: 'proxmoxTemplate',
      value: create(ProxmoxTemplateSchema, {
        templateId: p.templateID ?? 0, templateName: p.templateName ?? '', node: p.node ?? '', storage: p.storage ?? '', fullClone: p.fullClone ?? true,
      }),
    });
  }
  if (src.http) {
    const h = src.http;
    if (h.authentication || (h.headers && Object.keys(h.headers).length)) {
      return problems.bad(`${where}: source.http authentication and headers are not supported yet; use a URL that needs neither`);
    }
    return spec({
      case: 'url',
      value: create(DiskImageUrlSchema, {
        url: h.url, checksum: h.checksum ?? '', checksumType: h.checksum ? (h.checksumType ?? 'sha256') : '',
        format: image.spec.prepare?.storage?.preferredFormat ?? '',
      }),
    });
  }
  return problems.bad(`${where}: a ${which} source is not supported yet (use vsphere, libvirt, proxmox or http)`);
}
