# shellcheck shell=sh
# Crash after crash on the same disks, as UDS's RebuildStress does: every
# boot of this test (75-crash-loop.boots sets how many: 6 in make check,
# 21 in make crash-test) but the last writes a set of 600 new blocks,
# waits until the index has answered their posts, starts four writers of
# more new data and crashes at a moment drawn from the seed. Every boot
# after the first opens the index (a rebuild, or a load if no chapter
# closed since its last save) and writes the previous boot's set again
# elsewhere: found blocks are verified duplicates, never stale, and the
# set may lose only the names the Crashes section allows, those among the
# last two chapters' worth of posts before the crash (the posts answered
# after the set are counted just before it). It prints each crash's loss
# and the open's time, and the last boot the totals:
#   crash-loop: C crashes, lost L of N names (allowed A), opens T ms
#   (longest M ms)
# shellcheck source=scripts/vm/lib.sh
. /ddi/lib.sh

ddi_load
size=$(ddi_sectors "$DDI_DATA")
dev=/dev/mapper/ddi-loop
per_chapter=508		# 4 record pages of 127 records
set_blocks=600
table="0 $size dedup-index $DDI_DATA $DDI_INDEX 7 record_pages 4 chapters 64 zones 1 verify"
k=$DDI_BOOT
# A different moment in every boot: draw past the earlier boots' numbers.
i=0
while [ $i -lt "$k" ]; do
	ddi_rand 1900
	i=$((i + 1))
done
crash_ms=$((100 + rand))

ddi_mark
dmsetup create ddi-loop --table "$table" || ddi_fail "boot $k: the index did not open"
open=$(ddi_stat ddi-loop last_open)
open_ms=$(ddi_stat ddi-loop last_open_ms)
if [ "$k" = 1 ]; then
	[ "$open" = format ] || ddi_fail "boot 1 opened by $open, not format"
	lost_total=0 allowed_total=0 names_total=0 open_total=0 open_max=0
else
	# A rebuild, or a load if no chapter closed since the check's save.
	[ "$open" = rebuild ] || [ "$open" = load ] || ddi_fail "boot $k opened by $open"
	lost_total=$(ddi_note_get lost) allowed_total=$(ddi_note_get allowed)
	names_total=$(ddi_note_get names) open_total=$(ddi_note_get open_total)
	open_max=$(ddi_note_get open_max)
	wild=$(ddi_note_get wild)
	# The previous boot's set, written again elsewhere.
	ddi_random /tmp/set $set_blocks "set $((k - 1))"
	ddi_write /tmp/set $dev $((200000 + k * 1000))
	ddi_counters ddi-loop
	[ "$stale" = 0 ] || ddi_fail "boot $k: $stale stale advice after the crash"
	[ "$advice" = "$verified" ] || ddi_fail "boot $k: advice $advice, verified $verified"
	lost=$((set_blocks - advice))
	# Of the last 2 x 508 posts before the crash, $wild came after the set.
	allowed=$((2 * per_chapter - wild))
	[ $allowed -lt 0 ] && allowed=0
	[ $allowed -gt $set_blocks ] && allowed=$set_blocks
	echo "crash $((k - 1)): $lost of $set_blocks names lost (allowed $allowed;" \
	     "$wild posts after them), open by $open in $open_ms ms"
	[ $lost -le $allowed ] ||
		ddi_fail "crash $((k - 1)) lost $lost names of the set, more than $allowed"
	lost_total=$((lost_total + lost))
	allowed_total=$((allowed_total + allowed))
	names_total=$((names_total + set_blocks))
	open_total=$((open_total + open_ms))
	[ "$open_ms" -gt "$open_max" ] && open_max=$open_ms
fi

if [ "$k" = "$DDI_BOOTS" ]; then
	dmsetup remove ddi-loop || ddi_fail "remove"
	echo "crash-loop: $((k - 1)) crashes, lost $lost_total of $names_total names" \
	     "(allowed $allowed_total), opens $open_total ms (longest $open_max ms)"
	exit 0
fi

# This boot's set; its posts answered before anything else is written.
ddi_status ddi-loop
before=$indexed
ddi_random /tmp/set $set_blocks "set $k"
ddi_write /tmp/set $dev $((100000 + k * 1000))
ddi_wait_indexed ddi-loop $((before + set_blocks))
answered=$indexed
# Four writers of new data, 2000 blocks each from block 262144 (1 GiB) on:
# the 8000 blocks and a boot's sets stay well inside the 32512 names of the
# volume, so a set leaves the window only by its own loss. They may end
# before the crash or not.
for w in 1 2 3 4; do
	ddi_random_stream "wild $k $w" 2000 |
		dd of=$dev bs=16k seek=$((65536 + (w - 1) * 500)) count=500 iflag=fullblock \
		oflag=direct conv=notrunc 2>/dev/null &
done
sleep "$((crash_ms / 1000)).$(printf '%03d' $((crash_ms % 1000)))"
# Posts answered after the set: more come before the reset, which only
# makes the bound below looser than it could be.
ddi_status ddi-loop
ddi_note_set wild $((indexed - answered))
ddi_note_set lost "$lost_total"
ddi_note_set allowed "$allowed_total"
ddi_note_set names "$names_total"
ddi_note_set open_total "$open_total"
ddi_note_set open_max "$open_max"
echo "boot $k: crashing $crash_ms ms into the writes, $((indexed - answered)) posts after the set"
ddi_crash
