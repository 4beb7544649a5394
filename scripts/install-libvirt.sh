#!/usr/bin/env bash
# Installs what the libvirt agent's tests need, idempotently:
#   - libvirtd with its QEMU driver, virtlogd and virsh (the bench compares against one virsh per call);
#   - qemu-system-x86 and qemu-img (TCG guests for the smoke test; qcow2 volumes with backing files);
#   - busybox-static (the smoke test's initramfs) and OVMF (UEFI firmware detection);
#   - Debian's cloud kernel, unpacked from its .deb into the cache (no kernel package is installed):
#     $VR_CACHE/libvirt/vmlinuz-cloud-amd64, plus the few modules the smoke test's initramfs loads
#     (virtio disks, ISO 9660, the ACPI power button) in $VR_CACHE/libvirt/modules/;
#   - the libvirt-qemu user and kvm group that the QEMU driver runs guests as, and /dev/kvm owned by
#     that group as udev would set it (without it libvirt finds KVM when probing QEMU as root but not
#     for the guest user, discards its capability cache on every call and re-probes: 30 s per define).
. "$(dirname "$0")/lib/common.sh"

LIBVIRT_PACKAGES=(libvirt-daemon libvirt-daemon-driver-qemu libvirt-clients qemu-system-x86 qemu-utils busybox-static ovmf)
KERNEL_DIR="$VR_CACHE/libvirt"
KERNEL_FILE="$KERNEL_DIR/vmlinuz-cloud-amd64"
MODULES_DIR="$KERNEL_DIR/modules"
# In load order (each after what it depends on).
MODULES=(drivers/virtio/virtio_ring.ko drivers/virtio/virtio.ko drivers/virtio/virtio_pci_legacy_dev.ko
  drivers/virtio/virtio_pci_modern_dev.ko drivers/virtio/virtio_pci.ko drivers/block/virtio_blk.ko
  drivers/cdrom/cdrom.ko fs/isofs/isofs.ko drivers/acpi/button.ko drivers/input/evdev.ko)

sudo_=; [[ $(id -u) -eq 0 ]] || sudo_=sudo
apt_updated=

apt_update_once() {
  [[ -n $apt_updated ]] && return 0
  $sudo_ apt-get update -qq >/dev/null
  apt_updated=1
}

install_packages() {
  local missing=() p
  for p in "${LIBVIRT_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  vr_log "installing Debian packages for libvirt: ${missing[*]}"
  apt_update_once
  # No recommends: they pull in dnsmasq, polkit, firewall tools and GUI bits the tests never use.
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_qemu_user() {
  getent group kvm >/dev/null || $sudo_ groupadd --system kvm
  getent group libvirt-qemu >/dev/null || $sudo_ groupadd --system libvirt-qemu
  getent passwd libvirt-qemu >/dev/null ||
    $sudo_ useradd --system --gid libvirt-qemu --groups kvm --home-dir /var/lib/libvirt --no-create-home --shell /usr/sbin/nologin libvirt-qemu
  $sudo_ mkdir -p /var/log/libvirt/qemu /var/lib/libvirt/images
  if [[ -c /dev/kvm && $(stat -c %G:%a /dev/kvm) != kvm:660 ]]; then
    $sudo_ chgrp kvm /dev/kvm && $sudo_ chmod 0660 /dev/kvm
  fi
}

# The cloud kernel's file only: the metapackage names the versioned image package, whose .deb is
# unpacked into a temporary directory; the vmlinuz is kept, the rest thrown away.
fetch_kernel() {
  [[ -s $KERNEL_FILE && -s $MODULES_DIR/load-order ]] && return 0
  apt_update_once
  local image tmp
  image=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  [[ -n $image ]] || vr_die "cannot tell which kernel package linux-image-cloud-amd64 depends on (apt-cache depends)"
  vr_log "fetching the kernel of $image into $KERNEL_DIR"
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$image" >/dev/null) || { rm -rf "$tmp"; vr_die "apt-get download $image failed"; }
  dpkg -x "$tmp"/*.deb "$tmp/root"
  mkdir -p "$KERNEL_DIR"
  rm -rf "$MODULES_DIR" && mkdir -p "$MODULES_DIR"
  local m
  for m in "${MODULES[@]}"; do
    cp "$tmp"/root/lib/modules/*/kernel/"$m" "$MODULES_DIR/" || { rm -rf "$tmp"; vr_die "module $m is missing from $image"; }
    basename "$m" >>"$MODULES_DIR/load-order"
  done
  cp "$tmp"/root/boot/vmlinuz-* "$KERNEL_FILE.part"
  mv "$KERNEL_FILE.part" "$KERNEL_FILE"
  rm -rf "$tmp"
}

install_packages
ensure_qemu_user
fetch_kernel
