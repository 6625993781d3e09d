# shellcheck shell=sh
# The module loads and registers dedup-index; a device over two disks moves
# data to and from the data disk at the right place, reports its table line
# and counters; the module unloads only once no device uses it, and loads again.
# shellcheck disable=SC1091
. /ddi/lib.sh

ddi_loaded && ddi_fail "module loaded before the test"
insmod "$DDI_MODULE" || ddi_fail "insmod"
ddi_loaded || ddi_fail "not in /proc/modules after insmod"
dmsetup targets | grep -q '^dedup-index  *v0\.1\.0$' ||
	ddi_fail "dmsetup targets lacks dedup-index v0.1.0: $(dmsetup targets | tr '\n' ' ')"

size=$(ddi_sectors "$DDI_DATA")
data=$(ddi_devnum "$DDI_DATA")
index=$(ddi_devnum "$DDI_INDEX")
dev=/dev/mapper/ddi-t

dmsetup create ddi-t --table "0 $size dedup-index $DDI_DATA $DDI_INDEX 5 zones 2 verify readers 3" ||
	ddi_fail "dmsetup create with a valid line"
[ -b $dev ] || ddi_fail "no $dev"
[ "$(ddi_sectors $dev)" = "$size" ] || ddi_fail "$dev has $(ddi_sectors $dev) sectors, not $size"

# The line comes back canonical: devices by number, options in fixed order.
want="0 $size dedup-index $data $index 5 zones 2 readers 3 verify"
got=$(dmsetup table ddi-t)
[ "$got" = "$want" ] || ddi_fail "table is '$got', not '$want'"

# Status: "<start> <len> dedup-index <reads> <read sectors> <writes>
# <write sectors> <flushes>"; counters only move by what we send.
counters() {
	status=$(dmsetup status ddi-t) || ddi_fail "dmsetup status"
	# shellcheck disable=SC2086
	set -- $status
	if [ $# != 8 ] || [ "$3" != dedup-index ]; then
		ddi_fail "status is '$status'"
	fi
	reads=$4 read_sectors=$5 writes=$6 write_sectors=$7 flushes=$8
}

dd if=/dev/urandom of=/tmp/one bs=4096 count=256 2>/dev/null
dd if=/dev/urandom of=/tmp/two bs=4096 count=256 2>/dev/null

# Written through the target, found on the data disk at the same offset.
counters
w0=$writes ws0=$write_sectors
dd if=/tmp/one of=$dev bs=4096 seek=1000 oflag=direct conv=notrunc 2>/dev/null ||
	ddi_fail "write through $dev"
dd if="$DDI_DATA" bs=4096 skip=1000 count=256 iflag=direct 2>/dev/null | cmp -s - /tmp/one ||
	ddi_fail "data written through the target is not on $DDI_DATA"
counters
[ $((write_sectors - ws0)) = 2048 ] ||
	ddi_fail "write sectors went from $ws0 to $write_sectors for 1 MiB"
[ "$writes" -gt "$w0" ] || ddi_fail "write bios stayed at $writes"

# Written to the data disk, read back through the target.
dd if=/tmp/two of="$DDI_DATA" bs=4096 seek=3000 oflag=direct conv=notrunc 2>/dev/null ||
	ddi_fail "write to $DDI_DATA"
r0=$reads rs0=$read_sectors
dd if=$dev bs=4096 skip=3000 count=256 iflag=direct 2>/dev/null | cmp -s - /tmp/two ||
	ddi_fail "data on $DDI_DATA does not read back through the target"
counters
[ $((read_sectors - rs0)) = 2048 ] ||
	ddi_fail "read sectors went from $rs0 to $read_sectors for 1 MiB"
[ "$reads" -gt "$r0" ] || ddi_fail "read bios stayed at $reads"

# An fsync sends an empty flush, which the target passes on and counts.
if [ "$(cat /sys/dev/block/"$(dmsetup info -c --noheadings -o major,minor --separator : ddi-t)"/queue/write_cache)" = "write back" ]; then
	f0=$flushes
	dd if=/tmp/one of=$dev bs=4096 count=1 seek=10 conv=notrunc,fsync 2>/dev/null ||
		ddi_fail "fsync write through $dev"
	counters
	[ "$flushes" -gt "$f0" ] || ddi_fail "flushes stayed at $flushes after fsync"
else
	echo "note: $dev has no write cache; flush counting not checked"
fi

counters
echo "counters: $reads reads ($read_sectors sectors), $writes writes ($write_sectors sectors), $flushes flushes"

# A target that does not start at sector 0 still maps its own sector 0 to
# the data disk's: 2048 sectors of linear over the small disk come first.
small=$(ddi_devnum "$DDI_SMALL")
printf '0 2048 linear %s 0\n2048 %s dedup-index %s %s\n' "$small" $((size - 2048)) \
	"$data" "$index" | dmsetup create ddi-offset || ddi_fail "create ddi-offset"
dd if=/tmp/two of=/dev/mapper/ddi-offset bs=4096 seek=$((256 + 40)) oflag=direct \
	conv=notrunc 2>/dev/null || ddi_fail "write through ddi-offset"
dd if="$DDI_DATA" bs=4096 skip=40 count=256 iflag=direct 2>/dev/null | cmp -s - /tmp/two ||
	ddi_fail "ddi-offset did not shift by the target's start"
dmsetup remove ddi-offset || ddi_fail "remove ddi-offset"

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
dmsetup create ddi-t --table "0 $size dedup-index $DDI_DATA $DDI_INDEX" ||
	ddi_fail "create after reload"
want="0 $size dedup-index $data $index"
got=$(dmsetup table ddi-t)
[ "$got" = "$want" ] || ddi_fail "table after reload is '$got', not '$want'"
dd if=$dev bs=4096 skip=1000 count=256 iflag=direct 2>/dev/null | cmp -s - /tmp/one ||
	ddi_fail "earlier data does not read back after reload"
dmsetup remove ddi-t || ddi_fail "remove after reload"
echo "module load, I/O, table, status and unload checks passed"
