# shellcheck shell=sh
# Helpers for the vm-test scripts; runs in busybox sh inside the VM.

# The test scripts that source this file use these.
# shellcheck disable=SC2034
DDI_MODULE=/lib/ddi/dm-dedup-index.ko
# Three sparse virtio disks: two large ones for data and index, and a small
# one for lines that need a device too short for them.
# shellcheck disable=SC2034
DDI_DATA=/dev/vda
# shellcheck disable=SC2034
DDI_INDEX=/dev/vdb
# shellcheck disable=SC2034
DDI_SMALL=/dev/vdc
# No udev here: libdevmapper makes the /dev/mapper nodes itself.
DM_DISABLE_UDEV=1
export DM_DISABLE_UDEV

ddi_fail() {
	echo "FAIL: $*"
	exit 1
}

ddi_loaded() {
	grep -q '^dm_dedup_index ' /proc/modules
}

ddi_load() {
	ddi_loaded || insmod "$DDI_MODULE" || ddi_fail "insmod $DDI_MODULE"
}

# major:minor of a disk, as dm writes device names in tables.
ddi_devnum() {
	cat "/sys/block/${1#/dev/}/dev"
}

ddi_sectors() {
	blockdev --getsz "$1"
}

# Mark the kernel log, so that ddi_log_since_mark shows only later messages.
ddi_mark_count=0
ddi_mark() {
	ddi_mark_count=$((ddi_mark_count + 1))
	echo "ddi-mark $$ $ddi_mark_count" >/dev/kmsg
}

ddi_log_since_mark() {
	dmesg | sed -n "/ddi-mark $$ $ddi_mark_count\$/,\$p"
}

# Number of dm devices the kernel has.
ddi_dm_count() {
	count=0
	for disk in /sys/block/dm-*; do
		[ -e "$disk" ] && count=$((count + 1))
	done
	echo $count
}
