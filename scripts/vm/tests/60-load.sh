# shellcheck shell=sh
# Under load: eight fio jobs write and read through the target for a
# minute (15 s with --quick) while the device is suspended and resumed,
# saved, asked for its stats and reloaded. Nothing hangs, fio sees no
# error, the kernel does not complain (the harness fails the test on
# warnings and hung tasks), and every block fio wrote was posted once.
# shellcheck source=scripts/vm/lib.sh
. /ddi/lib.sh

ddi_load
ddi_need_fio
size=$(ddi_sectors "$DDI_DATA")
dev=/dev/mapper/ddi-load
# Posts in flight get room for the whole burst (the default bound would skip
# some under TCG, with verify holding posts until their reads): this test
# counts every block, 65-backpressure tests the bound.
table="0 $size dedup-index $DDI_DATA $DDI_INDEX 11 record_pages 16 chapters 128 zones 4 readers 2 verify post_memory_kib 262144"
runtime=60
ddi_quick && runtime=15

ddi_blank_index "$DDI_INDEX"
dmsetup create ddi-load --table "$table" || ddi_fail "create"

# Random reads and writes of 4 to 64 KiB over the first 512 MiB, a third
# of the written blocks repeating earlier ones; all of it 4 KiB aligned.
fio --name=load --filename=$dev --ioengine=libaio --direct=1 --rw=randrw --rwmixwrite=80 \
	--bssplit=4k/50:16k/30:64k/20 --iodepth=4 --numjobs=8 --size=512M \
	--dedupe_percentage=30 --time_based --runtime=$runtime --group_reporting \
	--output-format=terse >/tmp/fio.out 2>/tmp/fio.err &
fio=$!

# Before: counters of earlier targets, summed, for the final check.
before_indexed=0
before_advice=0
before_checked=0
cycles=0
saves=
start=$(cut -d. -f1 /proc/uptime)
while kill -0 $fio 2>/dev/null; do
	sleep 1
	kill -0 $fio 2>/dev/null || break
	cycles=$((cycles + 1))
	case $((cycles % 4)) in
	2)
		# Swap in a new table on the same index: suspended, the old
		# target's counters are final.
		dmsetup suspend ddi-load || ddi_fail "suspend for reload"
		ddi_status ddi-load
		before_indexed=$((before_indexed + indexed))
		before_advice=$((before_advice + advice))
		before_checked=$((before_checked + verified + stale))
		dmsetup reload ddi-load --table "$table" || ddi_fail "reload under load"
		dmsetup resume ddi-load || ddi_fail "resume after reload"
		;;
	1)
		dmsetup suspend ddi-load && dmsetup resume ddi-load ||
			ddi_fail "suspend and resume under load"
		;;
	3)
		# Waits for the posts made so far, not for those made meanwhile.
		t0=$(cut -d' ' -f1 /proc/uptime)
		dmsetup message ddi-load 0 save || ddi_fail "save under load"
		saves="$saves $(echo "$(cut -d' ' -f1 /proc/uptime) $t0" | awk '{ print $1 - $2 }')"
		;;
	0)
		dmsetup message ddi-load 0 stats >/dev/null || ddi_fail "stats under load"
		dmsetup message ddi-load 0 query 0123456789abcdef0123456789abcdef >/dev/null ||
			ddi_fail "query under load"
		;;
	esac
	now=$(cut -d. -f1 /proc/uptime)
	[ $((now - start)) -lt $((runtime + 300)) ] || ddi_fail "fio still running after $((now - start)) s"
done
wait $fio || ddi_fail "fio failed: $(cat /tmp/fio.err)"
[ "$cycles" -ge 4 ] || ddi_fail "only $cycles suspend, save or reload cycles during the load"

# Terse output: field 5 is the error, field 47 the KiB written.
IFS=';' read -r _ _ _ _ error _ </tmp/fio.out
written_kb=$(cut -d';' -f47 /tmp/fio.out)
[ "$error" = 0 ] || ddi_fail "fio reports error $error"
[ -n "$written_kb" ] && [ "$written_kb" -gt 0 ] || ddi_fail "fio wrote nothing: $(cat /tmp/fio.out)"

# The index may trail the writes: the suspend waits until it caught up.
fio_end=$(cut -d' ' -f1 /proc/uptime)
ddi_counters ddi-load
drained=$(cut -d' ' -f1 /proc/uptime)
total_indexed=$((before_indexed + indexed))
total_advice=$((before_advice + advice))
total_checked=$((before_checked + verified + stale))
[ "$total_indexed" = $((written_kb / 4)) ] ||
	ddi_fail "fio wrote $((written_kb / 4)) blocks, $total_indexed were indexed"
[ "$(ddi_stat ddi-load blocks_skipped)" = 0 ] || ddi_fail "blocks skipped"
[ "$total_checked" = "$total_advice" ] ||
	ddi_fail "advice $total_advice, verified or stale $total_checked"
[ "$total_advice" -gt 0 ] || ddi_fail "no duplicates found in a load with 30% of them"
dmsetup remove ddi-load || ddi_fail "remove after the load"
echo "load: $((written_kb / 4)) blocks written in $runtime s by 8 jobs through $cycles cycles;" \
	"$total_advice advised; posts answered $(echo "$drained $fio_end" | awk '{ print $1 - $2 }') s" \
	"after fio ended; saves under load took$saves s; last target: $status"
