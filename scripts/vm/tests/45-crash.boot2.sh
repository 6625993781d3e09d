# shellcheck shell=sh
# Boot 2 of 2, after a crash with writes in flight: the save of boot 1 is
# stale, so the index is rebuilt from every chapter that was written; each
# of their records is found again, and no advice is wrong.
# shellcheck source=scripts/vm/lib.sh
. /ddi/lib.sh

ddi_load
size=$(ddi_sectors "$DDI_DATA")
dev=/dev/mapper/ddi-crash
table="0 $size dedup-index $DDI_DATA $DDI_INDEX 7 record_pages 4 chapters 1024 zones 1 verify"
per_chapter=$((4 * 127))

written=$(ddi_note_get written)
set_blocks=$(ddi_note_get set_blocks)
[ -n "$written" ] && [ "$set_blocks" = 1200 ] || ddi_fail "boot 1 left no notes"

ddi_mark
dmsetup create ddi-crash --table "$table" || ddi_fail "create after the crash"
ddi_assert_log 'save slot [01] is stale: open chapter 2, volume at'
ddi_refute_log 'loaded index state|formatted'
line=$(ddi_log_since_mark | grep "dm_dedup_index: $DDI_INDEX_NAME: rebuilding index from chapters") ||
	ddi_fail "no rebuild after the crash"
highest=${line##* }
line=${line#*chapters }
[ "${line%% *}" = 0 ] || ddi_fail "the rebuild does not start at chapter 0: $line"
line=$(ddi_log_since_mark | grep "dm_dedup_index: $DDI_INDEX_NAME: rebuilt ") || ddi_fail "no rebuilt line"
# "rebuilt N records from M chapters (S skipped, P damaged pages) in T ms"
# shellcheck disable=SC2086
set -- ${line#*rebuilt }
records=$1 chapters=$4 skipped=${6#(} damaged=$8
[ "$(ddi_stat ddi-crash last_open)" = rebuild ] || ddi_fail "stats do not say the open rebuilt"
open_ms=$(ddi_stat ddi-crash last_open_ms)
echo "before the crash $written chapters were written; rebuilt $records records from $chapters chapters (0 to $highest, $skipped skipped) in $open_ms ms"
[ "$chapters" = $((highest + 1)) ] && [ "$skipped" = 0 ] ||
	ddi_fail "chapters skipped in the rebuild: $line"
[ "$chapters" -ge "$written" ] ||
	ddi_fail "rebuilt $chapters chapters, but $written were written before the crash"
# Every closed chapter was full, of distinct names; but the crash may have
# cut the newest one's write short, leaving only some of its pages.
if [ "$damaged" = 0 ]; then
	[ "$records" = $((chapters * per_chapter)) ] ||
		ddi_fail "rebuilt $records records from $chapters chapters, not $((chapters * per_chapter))"
else
	[ "$records" -ge $(((chapters - 1) * per_chapter)) ] &&
		[ "$records" -lt $((chapters * per_chapter)) ] ||
		ddi_fail "rebuilt $records records from $chapters chapters, $damaged pages damaged"
	ddi_assert_log "rebuild: chapter $highest: "
	echo "the crash tore the write of chapter $highest: $damaged pages missing"
fi
ddi_status ddi-crash
[ "$entries" = "$records" ] || ddi_fail "$entries entries after rebuilding $records records"

# The data set was in chapters 0 to 2, all written before the crash: every
# block of it is found, and still holds what the index says.
ddi_read "$DDI_DATA" 100000 "$set_blocks" /tmp/set
ddi_write /tmp/set $dev 400000
ddi_expect ddi-crash 1200 1200 1200 0 "the data set after the crash"

# What the first writer had written when the chapters counted in boot 1
# were: whatever advice its blocks get must be right.
ddi_read "$DDI_DATA" 65536 256 /tmp/first-writer
ddi_write /tmp/first-writer $dev 500000
ddi_expect ddi-crash 1456 - - 0 "the first writer's blocks after the crash"
[ "$verified" = "$advice" ] || ddi_fail "advice $advice, verified $verified"
dmsetup remove ddi-crash || ddi_fail "remove"
echo "rebuilt after the crash: $((advice - 1200)) of 256 blocks of the first writer found"
