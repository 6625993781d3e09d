# shellcheck shell=sh
# The module as DKMS builds it on an admin's machine (scripts/dkms-build on
# the host: dkms add and dkms build from dkms.conf, against the pinned
# kernel's headers) loads in the distro kernel, says its version, and works:
# a device over it finds every duplicate of a copy written through it.
# shellcheck source=scripts/vm/lib.sh
. /ddi/lib.sh

ko=/lib/ddi/dkms/dm-dedup-index.ko
[ -f $ko ] || ddi_fail "no DKMS-built module in the VM: scripts/dkms-build failed on the host"
if ddi_loaded; then
	rmmod dm_dedup_index || ddi_fail "cannot unload the module built by make"
fi
insmod $ko || ddi_fail "insmod of the DKMS-built module"
version=$(cat /sys/module/dm_dedup_index/version)
[ "$version" = "$(cat /lib/ddi/dkms/version)" ] ||
	ddi_fail "the loaded module says version '$version', dkms.conf '$(cat /lib/ddi/dkms/version)'"

size=$(ddi_sectors "$DDI_DATA")
dev=/dev/mapper/ddi-dkms
ddi_blank_index "$DDI_INDEX"
dmsetup create ddi-dkms --table "0 $size dedup-index $DDI_DATA $DDI_INDEX 4 record_pages 4 chapters 16" ||
	ddi_fail "create a device with the DKMS-built module"
ddi_random /tmp/dkms 256
ddi_write /tmp/dkms $dev 0
ddi_write /tmp/dkms $dev 1000
ddi_expect ddi-dkms 512 256 0 0 "a copy written through the DKMS-built module"
dmsetup remove ddi-dkms || ddi_fail "remove"
rmmod dm_dedup_index || ddi_fail "unload the DKMS-built module"
echo "DKMS-built module $version: loaded, 256 of 256 duplicates found, unloaded"
