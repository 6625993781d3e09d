# shellcheck shell=sh
# The module loads and registers dedup-index; a device over two disks moves
# data to and from the data disk at the right place, reports its table line,
# finds the duplicate blocks written through it; the module unloads only
# once no device uses it, and loads again.
# shellcheck source=scripts/vm/lib.sh
. /ddi/lib.sh

ddi_loaded && ddi_fail "module loaded before the test"
insmod "$DDI_MODULE" || ddi_fail "insmod"
ddi_loaded || ddi_fail "not in /proc/modules after insmod"
dmsetup targets | grep -q '^dedup-index  *v1\.0\.0$' ||
	ddi_fail "dmsetup targets lacks dedup-index v1.0.0: $(dmsetup targets | tr '\n' ' ')"

size=$(ddi_sectors "$DDI_DATA")
data=$(ddi_devnum "$DDI_DATA")
index=$(ddi_devnum "$DDI_INDEX")
dev=/dev/mapper/ddi-t

shape="record_pages 4 chapters 64"
dmsetup create ddi-t --table "0 $size dedup-index $DDI_DATA $DDI_INDEX 9 zones 2 verify readers 3 $shape" ||
	ddi_fail "dmsetup create with a valid line"
[ -b $dev ] || ddi_fail "no $dev"
[ "$(ddi_sectors $dev)" = "$size" ] || ddi_fail "$dev has $(ddi_sectors $dev) sectors, not $size"

# The line comes back canonical: devices by number, options in fixed order.
want="0 $size dedup-index $data $index 9 $shape zones 2 readers 3 verify"
got=$(dmsetup table ddi-t)
[ "$got" = "$want" ] || ddi_fail "table is '$got', not '$want'"

# Status: "<start> <len> dedup-index <indexed> <advice> <verified> <stale>
# <entries> <chapters> <hits> <misses> <pages read> <ratio> <state> <scan state>
# <scanned>/<to scan>". Posts are
# answered after the writes complete: a suspend waits for all of them.
counters() {
	dmsetup suspend ddi-t && dmsetup resume ddi-t || ddi_fail "suspend/resume"
	status=$(dmsetup status ddi-t) || ddi_fail "dmsetup status"
	# shellcheck disable=SC2086
	set -- $status
	if [ $# != 16 ] || [ "$3" != dedup-index ] || [ "${14}" != ok ] ||
		[ "${15} ${16}" != "none 0/0" ]; then
		ddi_fail "status is '$status'"
	fi
	indexed=$4 advice=$5 verified=$6 stale=$7 entries=$8
}

ddi_random /tmp/one 256
ddi_random /tmp/two 256

# Written through the target, found on the data disk at the same offset.
dd if=/tmp/one of=$dev bs=4096 seek=1000 oflag=direct conv=notrunc 2>/dev/null ||
	ddi_fail "write through $dev"
dd if="$DDI_DATA" bs=4096 skip=1000 count=256 iflag=direct 2>/dev/null | cmp -s - /tmp/one ||
	ddi_fail "data written through the target is not on $DDI_DATA"
counters
[ "$indexed" = 256 ] && [ "$advice" = 0 ] && [ "$entries" = 256 ] ||
	ddi_fail "after 256 new blocks: status '$status'"

# The same blocks again elsewhere: every one is a duplicate, and verified.
dd if=/tmp/one of=$dev bs=4096 seek=5000 oflag=direct conv=notrunc 2>/dev/null ||
	ddi_fail "second write through $dev"
counters
[ "$indexed" = 512 ] && [ "$advice" = 256 ] && [ "$verified" = 256 ] && [ "$stale" = 0 ] ||
	ddi_fail "after 256 duplicate blocks: status '$status'"

# Overwrite the first copy: advice for it is now stale, and verify says so.
dd if=/tmp/two of=$dev bs=4096 seek=1000 oflag=direct conv=notrunc 2>/dev/null ||
	ddi_fail "overwrite through $dev"
dd if=/tmp/one of=$dev bs=4096 seek=9000 count=16 oflag=direct conv=notrunc 2>/dev/null ||
	ddi_fail "third write through $dev"
counters
[ "$advice" = 272 ] && [ "$verified" = 256 ] && [ "$stale" = 16 ] ||
	ddi_fail "after stale advice: status '$status'"

# Written to the data disk, read back through the target.
dd if=/tmp/two of="$DDI_DATA" bs=4096 seek=3000 oflag=direct conv=notrunc 2>/dev/null ||
	ddi_fail "write to $DDI_DATA"
dd if=$dev bs=4096 skip=3000 count=256 iflag=direct 2>/dev/null | cmp -s - /tmp/two ||
	ddi_fail "data on $DDI_DATA does not read back through the target"

# An fsync sends an empty flush, which the target passes on.
dd if=/tmp/one of=$dev bs=4096 count=1 seek=10 conv=notrunc,fsync 2>/dev/null ||
	ddi_fail "fsync write through $dev"
echo "status: $(dmsetup status ddi-t)"

# In use, the module must stay; once the device is gone it may leave.
rmmod dm_dedup_index 2>/dev/null && ddi_fail "rmmod succeeded while ddi-t exists"
dmsetup remove ddi-t || ddi_fail "dmsetup remove"
[ -e $dev ] && ddi_fail "$dev still exists after remove"
rmmod dm_dedup_index || ddi_fail "rmmod"
ddi_loaded && ddi_fail "still in /proc/modules after rmmod"
dmsetup targets | grep -q '^dedup-index ' && ddi_fail "dedup-index still registered"

# And it comes back: load again and make a device with the defaults.
insmod "$DDI_MODULE" || ddi_fail "second insmod"
dmsetup targets | grep -q '^dedup-index ' || ddi_fail "not registered after second insmod"
dmsetup create ddi-t --table "0 $size dedup-index $DDI_DATA $DDI_INDEX 6 $shape zones 2" ||
	ddi_fail "create after reload"
want="0 $size dedup-index $data $index 6 $shape zones 2"
got=$(dmsetup table ddi-t)
[ "$got" = "$want" ] || ddi_fail "table after reload is '$got', not '$want'"
dd if=$dev bs=4096 skip=1000 count=256 iflag=direct 2>/dev/null | cmp -s - /tmp/two ||
	ddi_fail "earlier data does not read back after reload"
# The index was saved at remove: the first copies are still known.
dd if=/tmp/one of=$dev bs=4096 seek=20000 count=32 oflag=direct conv=notrunc 2>/dev/null ||
	ddi_fail "write after reload"
counters
[ "$advice" = 32 ] && [ "$entries" -ge 512 ] || ddi_fail "after reload: status '$status'"
dmesg | grep -q "loaded index state" || ddi_fail "the saved state was not loaded"
dmsetup remove ddi-t || ddi_fail "remove after reload"
echo "module load, I/O, table, status and unload checks passed"
