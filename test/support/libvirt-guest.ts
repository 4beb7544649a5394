/**
 * A tiny real guest for the QEMU smoke test: Debian's cloud kernel (from scripts/install-libvirt.sh)
 * and an initramfs built here (cpio "newc") holding busybox, the few modules it needs and an /init
 * that prints its cloud-init seed to the serial console, then powers off when the ACPI power
 * button is pressed.
 */
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const GUEST_MARK = 'VR-SMOKE';

export function guestAssets(): { kernel: string; modulesDir: string } | undefined {
  const dir = join(process.env.VIRTRIGAUD_CACHE ?? join(homedir(), '.cache', 'virtrigaud'), 'libvirt');
  const kernel = join(dir, 'vmlinuz-cloud-amd64');
  const modulesDir = join(dir, 'modules');
  return existsSync(kernel) && existsSync(join(modulesDir, 'load-order')) && existsSync('/bin/busybox') ? { kernel, modulesDir } : undefined;
}

const INIT = `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /mnt /tmp
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /lib/modules/load-order); do insmod /lib/modules/$m; done
echo "${GUEST_MARK}: booted"
seed=
for i in 1 2 3 4 5 6 7 8 9 10; do
  for d in /dev/vd*; do
    [ -b "$d" ] || continue
    if mount -t iso9660 -o ro "$d" /mnt 2>/dev/null; then
      if [ -f /mnt/user-data ]; then seed=$d; break 2; fi
      umount /mnt
    fi
  done
  sleep 0.5
done
echo "${GUEST_MARK}: seed on $seed"
echo "${GUEST_MARK}: files $(ls /mnt | tr '\\n' ' ')"
echo "${GUEST_MARK}: user-data begin"
cat /mnt/user-data
echo "${GUEST_MARK}: user-data end"
echo "${GUEST_MARK}: meta-data begin"
cat /mnt/meta-data
echo "${GUEST_MARK}: meta-data end"
button=
for e in /sys/class/input/event*; do
  grep -q "Power Button" "$e/device/name" 2>/dev/null && button=/dev/input/$(basename "$e")
done
echo "${GUEST_MARK}: waiting for the power button on $button"
if [ -n "$button" ]; then
  dd if="$button" bs=24 count=1 of=/dev/null 2>/dev/null
  echo "${GUEST_MARK}: power button pressed"
  poweroff -f
fi
while true; do sleep 3600; done
`;

interface Entry {
  name: string;
  mode: number;
  data?: Buffer;
  rdev?: [number, number];
}

/** cpio "newc" archive (what the kernel unpacks as initramfs). */
export function cpioNewc(entries: Entry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  const pad4 = (n: number) => Buffer.alloc((4 - (n % 4)) % 4);
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  for (const e of [...entries, { name: 'TRAILER!!!', mode: 0 }]) {
    const data = e.data ?? Buffer.alloc(0);
    const name = Buffer.from(`${e.name}\0`);
    const header = `070701${[ino++, e.mode, 0, 0, 1, 0, data.length, 0, 0, e.rdev?.[0] ?? 0, e.rdev?.[1] ?? 0, name.length, 0].map(hex).join('')}`;
    parts.push(Buffer.from(header, 'ascii'), name, pad4(110 + name.length), data, pad4(data.length));
  }
  return Buffer.concat(parts);
}

const DIR = 0o040755;
const FILE = 0o100755;
const CHR = 0o020600;

/** Writes kernel and initramfs into `dir` (readable by the QEMU user) and returns their paths. */
export function prepareGuest(dir: string, assets: { kernel: string; modulesDir: string }): { kernel: string; initrd: string } {
  const kernel = join(dir, 'vmlinuz');
  copyFileSync(assets.kernel, kernel);
  const order = readFileSync(join(assets.modulesDir, 'load-order'), 'utf8').trim().split('\n');
  const entries: Entry[] = [
    { name: 'bin', mode: DIR }, { name: 'dev', mode: DIR }, { name: 'proc', mode: DIR }, { name: 'sys', mode: DIR },
    { name: 'mnt', mode: DIR }, { name: 'lib', mode: DIR }, { name: 'lib/modules', mode: DIR },
    { name: 'dev/console', mode: CHR, rdev: [5, 1] },
    { name: 'bin/busybox', mode: FILE, data: readFileSync('/bin/busybox') },
    { name: 'init', mode: FILE, data: Buffer.from(INIT) },
    { name: 'lib/modules/load-order', mode: 0o100644, data: Buffer.from(`${order.join('\n')}\n`) },
    ...order.map((m) => ({ name: `lib/modules/${m}`, mode: 0o100644, data: readFileSync(join(assets.modulesDir, m)) })),
  ];
  const initrd = join(dir, 'initrd.cpio');
  writeFileSync(initrd, cpioNewc(entries));
  return { kernel, initrd };
}
