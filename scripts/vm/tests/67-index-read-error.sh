# shellcheck shell=sh
# index_dev starts failing every read (dm-flakey error_reads) under a live
# target whose page cache is cold: the lookups that need a volume page
# end as misses, never as wrong advice; the status says "degraded", stats
# count read_errors, the kernel log names the device; I/O to data_dev goes
# on, data intact, and suspend and remove do not hang. Once the device is
# mended, the blocks are found again.
# shellcheck source=scripts/vm/lib.sh
. /ddi/lib.sh

ddi_load
size=$(ddi_sectors "$DDI_DATA")
dev=/dev/mapper/ddi-re
isz=$((64 * 2048))
linear="0 $isz linear $DDI_INDEX 0"
dmsetup create ddi-ri --table "$linear" || ddi_fail "create the index device"
ddi_blank_index /dev/mapper/ddi-ri
# Two record pages a chapter: a few hundred blocks close a chapter. The
# open reads (and dm-bufio keeps) only the chapters its boundary search
# probes, so most of these 20 chapters are read again only by lookups.
table="0 $size dedup-index $DDI_DATA /dev/mapper/ddi-ri 5 record_pages 2 chapters 64 verify"
dmsetup create ddi-re --table "$table" || ddi_fail "create"
ddi_random /tmp/set 5000
ddi_write /tmp/set $dev 0
ddi_counters ddi-re
[ "$chapters" -ge 15 ] || ddi_fail "only $chapters chapters written"
# Opened again from its save: the page cache starts empty.
dmsetup remove ddi-re || ddi_fail "remove"
dmsetup create ddi-re --table "$table" || ddi_fail "create again"

# From now on every read of index_dev fails; writes still work.
ddi_swap_table ddi-ri "0 $isz flakey $DDI_INDEX 0 0 3600 1 error_reads"
ddi_mark
# The same blocks again, elsewhere: most of their chapters are on disk only.
ddi_write /tmp/set $dev 10000
ddi_counters ddi-re
[ "$state" = degraded ] || ddi_fail "state $state after failed reads, not degraded: $status; $(dmsetup message ddi-re 0 stats | tr "\n" " ")"
errors=$(ddi_stat ddi-re read_errors)
[ "$errors" -gt 0 ] || ddi_fail "no read error counted"
[ "$stale" = 0 ] || ddi_fail "$stale stale advice while reads failed"
[ "$advice" -lt 5000 ] || ddi_fail "every block found though no page could be read"
ddi_assert_log 'dm-[0-9]+: cannot read volume page [0-9]+ \(-5\)'
echo "with every read failing: $advice of 5000 found (open chapter and cache), $errors read errors"
ddi_read $dev 10000 5000 /tmp/set.back
cmp -s /tmp/set /tmp/set.back || ddi_fail "data read back differs"
ddi_read $dev 0 5000 /tmp/set.back
cmp -s /tmp/set /tmp/set.back || ddi_fail "data written before the fault differs"
dmsetup remove ddi-re || ddi_fail "remove with failing reads"

# Mended: the index opens (its save was written while only reads failed)
# and finds the blocks, at one place or the other, all verified.
ddi_swap_table ddi-ri "$linear"
dmsetup create ddi-re --table "$table" || ddi_fail "create after the fault"
ddi_write /tmp/set $dev 20000
ddi_expect ddi-re 5000 5000 5000 0 "blocks written again once the device is mended"
[ "$state" = ok ] || ddi_fail "state $state after the index was opened again"
dmsetup remove ddi-re || ddi_fail "remove after the fault"
dmsetup remove ddi-ri || ddi_fail "remove the index device"
