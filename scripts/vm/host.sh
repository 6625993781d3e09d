# shellcheck shell=bash
# Host side of the VM harness, shared by scripts/vm-test and scripts/vm-bench:
# the initramfs (busybox, dmsetup, fio, the dm modules, dm-dedup-index.ko,
# the tools built from tools/ and the scripts under scripts/vm) and booting
# the Debian kernel in qemu on a set of sparse disk files. Needs
# scripts/lib.sh and ddi_paths first.

# The kernel trouble that fails a test; scripts/vm/init looks for the same.
# shellcheck disable=SC2034 # read by scripts/vm-test and scripts/vm-bench
DDI_VM_BAD='WARNING:|BUG:|Oops|possible circular locking|INFO: possible|KASAN|UBSAN|hung_task|blocked for more than|general protection|Kernel panic'

ddi_vm_check_tools() {
	local tool
	[ -f "$DDI_VMLINUZ" ] || ddi_die "no kernel image $DDI_VMLINUZ: run scripts/setup"
	for tool in qemu-system-x86_64 busybox dmsetup xz cpio ldd modinfo; do
		command -v "$tool" >/dev/null || ddi_die "$tool not found: run scripts/setup"
	done
}

# Rebuild the module unless it is newer than everything it is built from.
ddi_vm_build_module() {
	DDI_KO=$DDI_TOP/dm-dedup-index.ko
	if [ ! -f "$DDI_KO" ] ||
	   [ -n "$(cd "$DDI_TOP" && find src include Kbuild Kconfig -newer "$DDI_KO" -print -quit)" ]; then
		ddi_log "building the module"
		make -s -C "$DDI_TOP" modules
	fi
}

# Copy a program and every shared library it needs, the loader included.
ddi_vm_copy_program() {
	local root=$1 program=$2 to=$3 lib
	rm -f "$root$to"
	cp "$program" "$root$to"
	for lib in $(ldd "$program" | grep -o '/[^ ]*'); do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

# Fill ROOT with everything but the scripts to run, which go to ROOT/ddi/tests.
ddi_vm_root() {
	local root=$1 busybox applet module loaded dep name tool extra
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,lib/ddi,ddi/tests}

	busybox=$(command -v busybox)
	cp "$busybox" "$root/bin/busybox"
	# Nothing else in the initramfs could satisfy its libraries.
	if ldd "$busybox" >/dev/null 2>&1; then
		ddi_die "$busybox is not static: install busybox-static"
	fi
	while read -r applet; do
		[ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
	done < <("$busybox" --list-full)

	ddi_vm_copy_program "$root" "$(command -v dmsetup)" /sbin/dmsetup

	# The distro modules dm needs, dependencies first; virtio_blk gives the
	# disks, dm-delay a slow index_dev for the backpressure test, dm-flakey
	# an index_dev that fails writes, dm-log-writes a log of every write
	# to index_dev for the power-loss test.
	loaded=" "
	: >"$root/lib/ddi/load-order"
	for module in kernel/drivers/block/virtio_blk kernel/drivers/md/dm-mod \
		      kernel/drivers/md/dm-bufio kernel/drivers/md/dm-delay \
		      kernel/drivers/md/dm-flakey kernel/drivers/md/dm-log-writes; do
		name=$(basename "$module")
		xz -dc "$DDI_MODDIR/$module.ko.xz" >"$root/lib/ddi/$name.ko"
		for dep in $(modinfo -F depends "$root/lib/ddi/$name.ko" | tr ',' ' '); do
			case $loaded in
			*" $dep "*|*" ${dep//_/-} "*) ;;
			*) ddi_die "$name needs $dep, which is not loaded before it" ;;
			esac
		done
		loaded+="$name "
		echo "$name" >>"$root/lib/ddi/load-order"
	done
	# Ours is loaded by the tests, but its dependencies must be there too.
	cp "$DDI_KO" "$root/lib/ddi/"
	for dep in $(modinfo -F depends "$DDI_KO" | tr ',' ' '); do
		case $loaded in
		*" $dep "*|*" ${dep//_/-} "*) ;;
		*) ddi_die "dm-dedup-index needs $dep, which the VM does not load" ;;
		esac
	done

	# The project's own tools (tools/*.c), static: nothing in the
	# initramfs could satisfy their libraries. block-names hashes with the
	# module's own MurmurHash3, built against tools/include.
	for tool in "$DDI_TOP"/tools/*.c; do
		name=$(basename "$tool" .c)
		extra=()
		[ "$name" = block-names ] && extra=("$DDI_TOP/src/target/murmur3.c")
		gcc -static -O2 -Wall -Wextra -Werror -I "$DDI_TOP/tools/include" \
			-I "$DDI_TOP/src/target" -o "$root/usr/bin/$name" "$tool" "${extra[@]}" ||
			ddi_die "cannot build $tool"
	done

	cp "$DDI_TOP/scripts/vm/init" "$root/init"
	chmod 755 "$root/init"
	cp "$DDI_TOP/scripts/vm/lib.sh" "$root/ddi/lib.sh"
}

ddi_vm_pack() {
	(cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$2"
}

# The tools disk: a cpio archive of fio and its libraries (80 MiB of them),
# which ddi_need_fio in the VM unpacks. Kept out of the initramfs, as every
# boot would pay seconds to load it; empty if the host has no fio.
ddi_vm_tools() {
	local out=$1 root
	root=$(mktemp -d)
	if command -v fio >/dev/null; then
		mkdir -p "$root/usr/bin"
		ddi_vm_copy_program "$root" "$(command -v fio)" /usr/bin/fio
	fi
	ddi_vm_pack "$root" "$out"
	rm -rf "$root"
	# A disk is whole sectors.
	truncate -s %4096 "$out"
}

# Fresh sparse disks in DIR: vda data, vdb index (a default index, memory
# 256, takes 2.9 GB of it), vdc small (too small for a default index), vdd
# state (notes a test leaves for its next boot). The tools disk, vde, is
# shared and read-only.
ddi_vm_disks() {
	local dir=$1 disk
	mkdir -p "$dir"
	for disk in data:2G index:4G small:64M state:64M; do
		rm -f "$dir/${disk%%:*}.img"
		truncate -s "${disk#*:}" "$dir/${disk%%:*}.img"
	done
}

# ddi_vm_boot INITRAMFS TOOLS DISK-DIR LOG TIMEOUT [KERNEL-ARG...]: boot once, the
# console going to LOG and its DDI- lines to stdout. Returns qemu's status
# (124 if it ran past TIMEOUT seconds). The VM powers off after its scripts,
# and a script's "echo b > /proc/sysrq-trigger" ends it at once (-no-reboot).
ddi_vm_boot() {
	local initramfs=$1 tools=$2 disks=$3 log=$4 timeout=$5 disk rc
	shift 5
	local drives=()
	for disk in data index small state; do
		drives+=(-drive "file=$disks/$disk.img,if=virtio,format=raw,cache=unsafe")
	done
	drives+=(-drive "file=$tools,if=virtio,format=raw,readonly=on")
	set +e
	timeout -k 10 "$timeout" qemu-system-x86_64 -accel tcg -cpu max -smp 2 -m 2048 \
		-nographic -no-reboot -nic none -kernel "$DDI_VMLINUZ" -initrd "$initramfs" \
		-append "console=ttyS0 panic=-1 quiet loglevel=5 watchdog_thresh=60 $*" "${drives[@]}" </dev/null 2>&1 |
		tr -d '\r' | tee "$log" |
		grep --line-buffered -a -E '^DDI-(START|RESULT|KERNEL|INIT|DONE|CRASH)'
	rc=${PIPESTATUS[0]}
	set -e
	return "$rc"
}
