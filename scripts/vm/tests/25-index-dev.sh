# shellcheck shell=sh
# What the index device holds decides whether a table line is accepted:
# something other than an index, an index of another shape, a damaged
# superblock and a device too small are each refused with their own error
# (format overwrites the first three), and a refusal changes nothing on
# the device.
# shellcheck source=scripts/vm/lib.sh
. /ddi/lib.sh

ddi_load
size=$(ddi_sectors "$DDI_DATA")
D=$DDI_DATA
I=$DDI_INDEX
devices_before=$(ddi_dm_count)
small4="record_pages 4 chapters 64"

# refused EXPECTED-TEXT PARAMS: "dmsetup create" of "0 <size> dedup-index
# PARAMS" fails, dm logs EXPECTED-TEXT as the reason, no device is left.
refused() {
	ddi_mark
	if dmsetup create ddi-bad --table "0 $size dedup-index $2" >/tmp/dmsetup.out 2>&1; then
		dmsetup remove ddi-bad
		ddi_fail "accepted: $2"
	fi
	ddi_log_since_mark | grep -qF -- "dedup-index: $1" ||
		ddi_fail "no 'dedup-index: $1' in the kernel log for: $2"
	dmsetup info ddi-bad >/dev/null 2>&1 && ddi_fail "ddi-bad left behind after: $2"
	true
}

# accepted PARAMS: the line makes a device, which is removed again.
accepted() {
	ddi_mark
	dmsetup create ddi-good --table "0 $size dedup-index $1" || ddi_fail "refused: $1"
	dmsetup remove ddi-good || ddi_fail "remove ddi-good"
}

# Something that is not an index: refused, and the bytes are still there.
printf 'NOT AN INDEX, JUST SOME DATA' |
	dd of="$I" bs=4096 oflag=direct conv=sync,notrunc 2>/dev/null || ddi_fail "write $I"
dd if="$I" bs=4096 count=1 iflag=direct 2>/dev/null >/tmp/foreign
refused "index_dev holds something other than an index (add format to overwrite it)" \
	"$D $I 4 $small4"
ddi_assert_log "dm_dedup_index: $DDI_INDEX_NAME: the index device holds something that is not an index"
dd if="$I" bs=4096 count=1 iflag=direct 2>/dev/null | cmp -s - /tmp/foreign ||
	ddi_fail "a refused line changed the device"
# format overwrites it.
accepted "$D $I 5 $small4 format"
ddi_assert_log 'formatted a new index: 64 chapters of 4 record pages'
# And it is an index now, kept as it is by the next line, format or not.
accepted "$D $I 5 $small4 format"
ddi_assert_log 'loaded index state from slot'
ddi_refute_log 'formatted'

# An index of another shape, by explicit shape or by memory size.
refused "index_dev holds an index of another size (add format to overwrite it)" \
	"$D $I 4 record_pages 16 chapters 128"
ddi_assert_log 'holds an index of another shape \(4 record pages x 64 chapters\)'
refused "index_dev holds an index of another size (add format to overwrite it)" "$D $I"
accepted "$D $I 4 $small4"
ddi_assert_log 'loaded index state from slot'

# A damaged superblock: one flipped byte in the middle of its fields.
dd if="$I" bs=4096 count=1 iflag=direct 2>/dev/null >/tmp/super
printf '\377' | dd of="$I" bs=1 seek=17 conv=notrunc,fsync 2>/dev/null ||
	ddi_fail "damage the superblock"
refused "index_dev has a damaged or unknown superblock (add format to overwrite it)" \
	"$D $I 4 $small4"
ddi_assert_log 'the index superblock is damaged or of an unknown version'
# Put back as it was, the index opens again from its save.
dd if=/tmp/super of="$I" bs=4096 oflag=direct conv=notrunc 2>/dev/null || ddi_fail "restore"
accepted "$D $I 4 $small4"
ddi_assert_log 'loaded index state from slot'

# An index that "memory 256" made before memory was a RAM budget has 64
# record pages x 1024 chapters: memory 256 opens it as it is, from its save.
accepted "$D $I 5 record_pages 64 chapters 1024 format"
accepted "$D $I 2 memory 256"
ddi_assert_log 'an index of the earlier shape for memory 256 \(64 record pages x 1024 chapters, 8323072 records\): opened as it is'
ddi_assert_log 'loaded index state from slot'
ddi_refute_log 'formatted'

# Too small: the 64 MiB disk for the default 256 MiB index, blank or
# holding an index whose superblock claims more than the device has.
S=$DDI_SMALL
ddi_blank_index "$S"
refused "index_dev is too small for the index" "$D $S"
ddi_assert_log 'the index device is too small: 67108864 bytes'
# A new index records the budget it was formatted for (a u32 at byte 64
# of its superblock), so that a later version, whose memory 64 may give
# another shape, opens it with its own; another budget's table is refused,
# and told why.
ddi_blank_index "$I"
accepted "$D $I 2 memory 64"
ddi_assert_log 'formatted a new index: 1024 chapters'
super_memory=$(dd if="$I" bs=4096 count=1 iflag=direct 2>/dev/null |
	od -An -tu4 -j 64 -N 4 | tr -d ' ')
[ "$super_memory" = 64 ] || ddi_fail "memory 64 recorded as '$super_memory'"
refused "index_dev holds an index of another size (add format to overwrite it)" \
	"$D $I 2 memory 100"
ddi_assert_log 'formatted for memory 64$'
# That index (685 MB) would fit the big disk; copied over, its superblock
# claims a size the small one does not have.
dd if="$I" bs=4096 count=1 iflag=direct 2>/dev/null |
	dd of="$S" bs=4096 oflag=direct conv=notrunc 2>/dev/null ||
	ddi_fail "copy the big superblock"
refused "index_dev is too small for the index" "$D $S 2 memory 64"
ddi_assert_log 'the index device is smaller than its index'
# A small shape fits, once formatted.
accepted "$D $S 5 $small4 format"
ddi_assert_log 'formatted a new index'

[ "$(ddi_dm_count)" = "$devices_before" ] || ddi_fail "dm devices left behind"
echo "index device checks passed"
