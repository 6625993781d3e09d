# shellcheck shell=sh
# Blank devices make a new index; a data set with a known number of
# duplicate blocks gives exactly that much advice, all of it verified; the
# same duplicates are found again after the device is removed and made
# again, from the index saved at removal (once) rather than a rebuild; the
# ratio is right when every block written is a duplicate; large writes,
# hashed while they are written, give exact counts too.
# shellcheck source=scripts/vm/lib.sh
. /ddi/lib.sh

ddi_load
size=$(ddi_sectors "$DDI_DATA")
dev=/dev/mapper/ddi-counts
table="0 $size dedup-index $DDI_DATA $DDI_INDEX 7 record_pages 4 chapters 64 zones 2 verify"

# Earlier tests used these disks: start from a blank index and clean data.
ddi_blank_index "$DDI_INDEX"
ddi_mark
dmsetup create ddi-counts --table "$table" || ddi_fail "create on a blank index"
ddi_assert_log "dm_dedup_index: $DDI_INDEX_NAME: formatted a new index: 64 chapters of 4 record pages"
ddi_refute_log 'loaded index state|rebuilding'
ddi_expect ddi-counts 0 0 0 0 "a new device"
[ "$entries" = 0 ] || ddi_fail "a new index has $entries entries"
# 64 chapters of 4 record pages of 127 records: the window, in stats and log.
ddi_assert_log "dm_dedup_index: $DDI_INDEX_NAME: its window: 32512 records, 0 GiB of distinct 4 KiB blocks"
[ "$(ddi_stat ddi-counts window_records)" = 32512 ] ||
	ddi_fail "window_records is $(ddi_stat ddi-counts window_records), not 32512"

# 1500 distinct random blocks, 3 chapters' worth, then the first 500 of
# them again elsewhere: 500 duplicates.
ddi_random /tmp/unique 1500
ddi_write /tmp/unique $dev 10000
ddi_expect ddi-counts 1500 0 0 0 "1500 new blocks"
[ "$entries" = 1500 ] || ddi_fail "1500 new blocks made $entries entries"
dd if=/tmp/unique of=/tmp/first500 bs=4096 count=500 2>/dev/null
ddi_write /tmp/first500 $dev 20000
ddi_expect ddi-counts 2000 500 500 0 "500 duplicate blocks"
# One read of 4 KiB per advice verified.
[ "$(ddi_stat ddi-counts verify_reads)" = 500 ] ||
	ddi_fail "verify_reads is $(ddi_stat ddi-counts verify_reads), not 500"
[ "$(ddi_stat ddi-counts verify_read_bytes)" = 2048000 ] ||
	ddi_fail "verify_read_bytes is $(ddi_stat ddi-counts verify_read_bytes), not 2048000"

# One new block written 64 times in one go: the first is new, 63 are
# duplicates of it. And 32 zero blocks: 31 duplicates.
ddi_random /tmp/one 1
for _ in 1 2 3 4 5 6 7 8; do cat /tmp/one /tmp/one /tmp/one /tmp/one \
	/tmp/one /tmp/one /tmp/one /tmp/one; done >/tmp/same64
ddi_write /tmp/same64 $dev 30000
dd if=/dev/zero of=/tmp/zero32 bs=4096 count=32 2>/dev/null
ddi_write /tmp/zero32 $dev 31000
ddi_expect ddi-counts 2096 594 594 0 "63 repeats of one block and 31 of the zero block"

# Writes that are not block aligned: only the blocks they cover whole are
# posted, hashed from the right bytes. 16 sectors from sector 4 of block
# 40000 cover block 40001 whole, which gets block 7 of the data set; 9
# sectors from sector 1 of block 40010 cover no block whole. (busybox dd
# drops O_DIRECT for a buffer smaller than a page and writes through the
# page cache, whole pages: bs must be at least 4096 here.)
ddi_random /tmp/halves 2
{
	dd if=/tmp/halves bs=2048 count=1 2>/dev/null
	dd if=/tmp/unique bs=4096 skip=7 count=1 2>/dev/null
	dd if=/tmp/halves bs=2048 skip=2 count=1 2>/dev/null
} >/tmp/unaligned
dd if=/tmp/unaligned of=$dev bs=8192 seek=$(((40000 * 8 + 4) * 512)) \
	oflag=direct,seek_bytes conv=notrunc 2>/dev/null || ddi_fail "unaligned write"
ddi_random /tmp/two-blocks 2
dd if=/tmp/two-blocks of=/tmp/short bs=4608 count=1 2>/dev/null
dd if=/tmp/short of=$dev bs=4608 seek=$(((40010 * 8 + 1) * 512)) \
	oflag=direct,seek_bytes conv=notrunc 2>/dev/null || ddi_fail "short unaligned write"
ddi_expect ddi-counts 2097 595 595 0 "unaligned writes"
dd if=/tmp/unique of=/tmp/block7 bs=4096 skip=7 count=1 2>/dev/null
ddi_read "$DDI_DATA" 40001 1 /tmp/block40001
cmp -s /tmp/block7 /tmp/block40001 || ddi_fail "the unaligned write landed elsewhere"
# 1500 + 1 + 1 distinct blocks stored; the ratio is blocks written per block
# stored: 2097 / 1502.
[ "$entries" = 1502 ] || ddi_fail "$entries entries, not 1502"
[ "$ratio" = 1.39 ] || ddi_fail "ratio $ratio, not 1.39"
[ "$(ddi_stat ddi-counts blocks_skipped)" = 0 ] || ddi_fail "blocks were skipped"
[ "$(ddi_stat ddi-counts posts_found)" = 595 ] || ddi_fail "posts_found is not 595"

# The index answers queries by name too; MurmurHash3 of a zero block is not
# something a shell computes, but a query changes nothing either way.
dmsetup message ddi-counts 0 query 00000000000000000000000000000000 |
	grep -q '^not found$' || ddi_fail "query of an unknown name"
ddi_expect ddi-counts 2097 595 595 0 "after a query"

# ddi_remove_saves_once NAME: remove the device; the suspend that removal
# makes saves the index, and the close after it has nothing more to save.
ddi_remove_saves_once() {
	ddi_mark
	dmsetup remove "$1" || ddi_fail "remove $1"
	saves=$(ddi_log_since_mark | grep -c "dm_dedup_index: $DDI_INDEX_NAME: saved index state")
	[ "$saves" = 1 ] || ddi_fail "removing $1 saved the index $saves times, not once"
}

# Remove and make again: the index is saved at removal and loaded at
# creation, and the data set's blocks are all duplicates now.
ddi_remove_saves_once ddi-counts
ddi_mark
dmsetup create ddi-counts --table "$table" || ddi_fail "create again"
ddi_assert_log "dm_dedup_index: $DDI_INDEX_NAME: loaded index state from slot"
ddi_refute_log 'rebuilding|formatted'
ddi_expect ddi-counts 0 0 0 0 "a new device on the saved index"
[ "$entries" = 1502 ] || ddi_fail "the saved index came back with $entries entries"
ddi_write /tmp/unique $dev 50000
ddi_write /tmp/zero32 $dev 52000
ddi_write /tmp/one $dev 52100
ddi_expect ddi-counts 1533 1533 1533 0 "the data set again after remove and create"
# Nothing written had to be stored: the ratio is infinite, not 1.
[ "$ratio" = inf ] || ddi_fail "every block a duplicate, yet the ratio is $ratio, not inf"
[ "$(ddi_stat ddi-counts dedupe_ratio)" = inf ] || ddi_fail "stats ratio is not inf"

# Large writes are hashed while the device writes them, in pieces on
# several CPUs: the data set again in 1 MiB writes, 1500 duplicates. Then
# again 512 bytes into block 70000, after 3584 bytes of padding, so that
# each block of the data set is a whole block of the device: the 1 MiB
# writes' ends fall inside blocks 70256, 70512 and so on, five blocks that
# no write covers whole, so 1495 duplicates. The device asks for stable
# writes: nothing changes a page while it is hashed.
dm=dm-$(dmsetup info -c --noheadings -o minor ddi-counts)
[ "$(cat /sys/block/"$dm"/queue/stable_writes)" = 1 ] ||
	ddi_fail "$dm does not ask for stable writes"
dd if=/tmp/unique of=$dev bs=1M seek=$((60000 * 4096)) oflag=direct,seek_bytes \
	conv=notrunc 2>/dev/null || ddi_fail "1 MiB writes"
ddi_expect ddi-counts 3033 3033 3033 0 "the data set in 1 MiB writes"
# verify reads each write's advice in runs of up to 64 adjacent blocks:
# 24 reads of the 1500 blocks (5 writes of 4 runs, then 220 blocks in 4),
# after the 1533 reads of one block each above.
ddi_expect_stat ddi-counts verify_reads 1557
ddi_expect_stat ddi-counts verify_read_bytes $((1533 * 4096 + 1500 * 4096))
ddi_random /tmp/pad 1
{
	dd if=/tmp/pad bs=512 count=7 2>/dev/null
	cat /tmp/unique
	dd if=/tmp/pad bs=512 skip=7 count=1 2>/dev/null
} >/tmp/shifted
dd if=/tmp/shifted of=$dev bs=1M seek=$(((70000 * 8 + 1) * 512)) oflag=direct,seek_bytes \
	conv=notrunc 2>/dev/null || ddi_fail "unaligned 1 MiB writes"
ddi_expect ddi-counts 4528 4528 4528 0 "the data set in unaligned 1 MiB writes"
ddi_expect_stat ddi-counts verify_reads 1581
ddi_expect_stat ddi-counts verify_read_bytes $(((1533 + 1500 + 1495) * 4096))
[ "$(ddi_stat ddi-counts blocks_skipped)" = 0 ] || ddi_fail "blocks were skipped"
ddi_remove_saves_once ddi-counts
echo "exact duplicate counts on a new index, after remove and create, and in 1 MiB writes"
