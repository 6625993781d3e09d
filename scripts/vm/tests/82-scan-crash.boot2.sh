# shellcheck shell=sh
# Boot 2 of 2, after a crash mid-scan: the index is rebuilt, and the new
# device goes on by itself with the scan from the save the scan made last,
# as it was then (running); its counts come out exact, as blocks scanned
# twice find themselves, which is no duplicate.
# shellcheck source=scripts/vm/lib.sh
. /ddi/lib.sh

ddi_load
size=$(ddi_sectors "$DDI_DATA")
table="0 $size dedup-index $DDI_DATA $DDI_INDEX 6 record_pages 2 chapters 64 zones 1"
end=$((DDI_SCAN_AT + DDI_SCAN_BLOCKS))

stopped=$(ddi_note_get stopped)
[ -n "$stopped" ] || ddi_fail "boot 1 left no notes"
ddi_mark
dmsetup create ddi-scan --table "$table" || ddi_fail "create after the crash"
ddi_assert_log "rebuilding index from chapters"
[ "$(ddi_stat ddi-scan last_open)" = rebuild ] || ddi_fail "the index was not rebuilt"
ddi_assert_log "scan resumed at block [0-9]+ of $DDI_SCAN_AT..$end"
at=$(ddi_log_since_mark | sed -n 's/.*scan resumed at block \([0-9]*\) of.*/\1/p')
echo "stopped at $stopped blocks scanned; after the crash and a rebuild the scan went on from $((at - DDI_SCAN_AT))"
# The scan saved at every tenth; the last save came at three tenths or
# just after, below where it was stopped.
[ $((at - DDI_SCAN_AT)) -ge 1228 ] && [ $((at - DDI_SCAN_AT)) -le "$stopped" ] ||
	ddi_fail "the scan went on from block $at, not from its save at three tenths"
ddi_wait_scan ddi-scan "done"
ddi_scan_counts ddi-scan "a scan after a crash"
dmsetup remove ddi-scan || ddi_fail "remove"
echo "a scan cut by a crash went on from its last save, with exact counts"
