# shellcheck shell=sh
# index_dev starts failing every write (dm-flakey error_writes) under a
# live target: the next chapter write fails, the status says "failed",
# the kernel log names the device once, no chapter or save is written
# after it, and I/O to data_dev goes on, data intact; suspend and remove
# do not hang. Once the device is mended, the target created again loads
# the last good save: every block posted before the failure is found.
# shellcheck source=scripts/vm/lib.sh
. /ddi/lib.sh

ddi_load
size=$(ddi_sectors "$DDI_DATA")
dev=/dev/mapper/ddi-we
isz=$((64 * 2048))
linear="0 $isz linear $DDI_INDEX 0"
dmsetup create ddi-wi --table "$linear" || ddi_fail "create the index device"
ddi_blank_index /dev/mapper/ddi-wi
# Two record pages a chapter: a few hundred blocks close a chapter.
table="0 $size dedup-index $DDI_DATA /dev/mapper/ddi-wi 4 record_pages 2 chapters 16"
dmsetup create ddi-we --table "$table" || ddi_fail "create"

ddi_random /tmp/before 600
ddi_write /tmp/before $dev 0
ddi_counters ddi-we
[ "$state" = ok ] || ddi_fail "state $state before any fault"
[ "$chapters" -ge 1 ] || ddi_fail "no chapter written before the fault"

# From now on every write to index_dev fails; reads still work.
ddi_swap_table ddi-wi "0 $isz flakey $DDI_INDEX 0 0 3600 1 error_writes"
ddi_mark
ddi_random /tmp/after 1500
ddi_write /tmp/after $dev 1000
ddi_counters ddi-we
[ "$state" = failed ] || ddi_fail "state $state after failed chapter writes, not failed"
failed=$(ddi_stat ddi-we chapters_failed)
[ "$failed" -ge 2 ] || ddi_fail "$failed chapters failed, expected several"
[ "$(ddi_stat ddi-we write_error)" = -5 ] || ddi_fail "write_error is not -EIO"
ddi_assert_log 'dm-[0-9]+: chapter [0-9]+ was not written'
[ "$(ddi_log_since_mark | grep -c 'was not written')" = 1 ] ||
	ddi_fail "the failure was not reported exactly once"
# The data device is untouched by the index's trouble.
ddi_read $dev 1000 1500 /tmp/after.back
cmp -s /tmp/after /tmp/after.back || ddi_fail "data read back differs"
ddi_read $dev 0 600 /tmp/before.back
cmp -s /tmp/before /tmp/before.back || ddi_fail "data written before the fault differs"
dmsetup message ddi-we 0 save 2>/dev/null && ddi_fail "a save succeeded on a failing device"
dmsetup remove ddi-we || ddi_fail "remove"

# Mended: the index opens from the save made before the fault.
ddi_swap_table ddi-wi "$linear"
ddi_mark
dmsetup create ddi-we --table "$table" || ddi_fail "create after the fault"
ddi_assert_log 'loaded index state|rebuilding'
ddi_write /tmp/before $dev 5000
ddi_expect ddi-we 600 600 0 0 "blocks posted before the fault, written again"
[ "$state" = ok ] || ddi_fail "state $state after the index was opened again"
dmsetup remove ddi-we || ddi_fail "remove after the fault"
dmsetup remove ddi-wi || ddi_fail "remove the index device"
echo "$failed chapters failed and reported; data intact; the reopened index found all 600 earlier blocks"
