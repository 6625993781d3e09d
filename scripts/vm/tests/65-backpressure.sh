# shellcheck shell=sh
# Backpressure: index_dev behind dm-delay (20 ms on every read and write),
# and stalled outright (the delay device suspended) for the middle 16 s of
# 30 s of fio writes at full speed, so that the index falls far behind the
# data device. The posts in flight must stay within post_memory_kib: the
# kernel's unreclaimable slab plus vmalloc may grow by no more than the
# bound plus a slack, the target's own count of them never passes the
# bound, writes go on (fio sees no error), nothing is killed for memory,
# and every block fio wrote is either indexed or counted as skipped.
# shellcheck source=scripts/vm/lib.sh
. /ddi/lib.sh

ddi_load
ddi_need_fio
bound_kib=256
# What else the kernel allocates under this load: bios, dm and aio
# structures, dm-bufio buffer heads. Measured at under 1 MiB here.
slack_kib=4096
runtime=30
size=$(ddi_sectors "$DDI_DATA")
dev=/dev/mapper/ddi-bp

ddi_blank_index "$DDI_INDEX"
dmsetup create ddi-slow --table "0 $(ddi_sectors "$DDI_INDEX") delay $DDI_INDEX 0 20" ||
	ddi_fail "create the dm-delay device"
dmsetup create ddi-bp --table "0 $size dedup-index $DDI_DATA /dev/mapper/ddi-slow 6 \
record_pages 16 chapters 64 post_memory_kib $bound_kib" || ddi_fail "create"

# Unreclaimable slab plus vmalloc, in KiB.
kernel_kib() {
	awk '/^SUnreclaim:|^VmallocUsed:/ { sum += $2 } END { print sum }' /proc/meminfo
}

sync
before=$(kernel_kib)
ddi_mark
# Writes of 4 to 256 KiB anywhere in the first GiB, a third of the blocks
# repeating earlier ones. fio's random data is seeded: the run repeats.
fio --name=bp --filename=$dev --ioengine=libaio --direct=1 --rw=randwrite \
	--bssplit=4k/40:64k/40:256k/20 --iodepth=8 --numjobs=2 --size=1G \
	--dedupe_percentage=30 --randseed=1065 --time_based --runtime=$runtime \
	--group_reporting --output-format=terse >/tmp/fio.out 2>/tmp/fio.err &
fio=$!
echo "fio seed 1065"

peak=$before
peak_posts=0
t=0
while kill -0 $fio 2>/dev/null; do
	sleep 1
	t=$((t + 1))
	# The index stalls from 7 s to 23 s: chapter writes and reads queue.
	[ $t = 7 ] && { dmsetup suspend ddi-slow || ddi_fail "suspend ddi-slow"; }
	[ $t = 23 ] && { dmsetup resume ddi-slow || ddi_fail "resume ddi-slow"; }
	now=$(kernel_kib)
	[ "$now" -gt "$peak" ] && peak=$now
	posts=$(ddi_stat ddi-bp post_memory_bytes)
	[ "$posts" -gt "$peak_posts" ] && peak_posts=$posts
	[ $t -lt $((runtime + 120)) ] || ddi_fail "fio still running after $t s"
done
wait $fio || ddi_fail "fio failed: $(cat /tmp/fio.err)"
dmsetup info ddi-slow | grep -q SUSPENDED && dmsetup resume ddi-slow
ddi_refute_log 'Out of memory|oom-kill|invoked oom-killer'

IFS=';' read -r _ _ _ _ error _ </tmp/fio.out
written_kb=$(cut -d';' -f47 /tmp/fio.out)
[ "$error" = 0 ] || ddi_fail "fio reports error $error"
if [ -z "$written_kb" ] || [ "$written_kb" -le 0 ]; then
	ddi_fail "fio wrote nothing: $(cat /tmp/fio.out)"
fi

ddi_counters ddi-bp
skipped=$(ddi_stat ddi-bp blocks_skipped)
growth=$((peak - before))
# ddi_counters set indexed.
# shellcheck disable=SC2154
echo "backpressure: $((written_kb / 4)) blocks written in $runtime s, $indexed indexed," \
	"$skipped skipped; slab+vmalloc grew by at most $growth KiB (bound $bound_kib KiB," \
	"slack $slack_kib KiB); posts in flight peaked at $peak_posts bytes"
[ "$growth" -le $((bound_kib + slack_kib)) ] ||
	ddi_fail "slab+vmalloc grew by $growth KiB, past the bound of $bound_kib KiB + $slack_kib KiB"
[ "$peak_posts" -le $((bound_kib * 1024)) ] ||
	ddi_fail "posts in flight reached $peak_posts bytes, past $bound_kib KiB"
[ $((indexed + skipped)) = $((written_kb / 4)) ] ||
	ddi_fail "fio wrote $((written_kb / 4)) blocks; $indexed indexed + $skipped skipped"
# The stall must have filled the bound, or this test showed nothing.
[ "$skipped" -gt 0 ] || ddi_fail "no block was skipped: the index never fell behind"
[ "$(ddi_stat ddi-bp post_memory_bytes)" = 0 ] || ddi_fail "posts left in flight after a suspend"
dmsetup remove ddi-bp || ddi_fail "remove"
dmsetup remove ddi-slow || ddi_fail "remove ddi-slow"
