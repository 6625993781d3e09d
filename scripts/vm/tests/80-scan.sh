# shellcheck shell=sh
# scan: a data set written to the data disk before any dedup-index device
# existed is indexed by a scan, with its exact duplicate count; the scan
# stops and goes on, keeps its place across suspend/resume, a reload and
# a remove; a block written while the scan reads it is left to the write;
# a read error stops it, and it goes on once the disk reads again; and
# writes go on while a scan runs. The memory stats reports adds up, and
# holds the scanner while the scan reads and only then.
# shellcheck source=scripts/vm/lib.sh
. /ddi/lib.sh

ddi_load
size=$(ddi_sectors "$DDI_DATA")
dev=/dev/mapper/ddi-scan
shape="record_pages 4 chapters 64 zones 2"
table="0 $size dedup-index $DDI_DATA $DDI_INDEX 6 $shape"
# A scan slowed to 2 MiB/s: the 16 MiB data set takes 8 s.
slow="0 $size dedup-index $DDI_DATA $DDI_INDEX 8 $shape scan_rate 2"
end=$((DDI_SCAN_AT + DDI_SCAN_BLOCKS))

ddi_scan_fill

# ddi_scan_done_at: the scan's position, in blocks done.
ddi_scan_done_at() {
	ddi_stat ddi-scan scan_blocks_done
}

# ddi_memory WHAT: read the memory parts of one "stats" answer of ddi-scan
# (one answer, so that the scanner cannot come or go between two reads),
# and fail unless memory_bytes is their sum. Sets scan_memory,
# verify_memory and post_limit.
ddi_memory() {
	ddi_mem_stats=$(dmsetup message ddi-scan 0 stats) || ddi_fail "$1: stats"
	ddi_mem_sum=0
	for ddi_mem_key in index_memory_bytes post_memory_limit_bytes verify_memory_bytes \
		scan_memory_bytes io_memory_bytes; do
		ddi_mem_part=$(echo "$ddi_mem_stats" | sed -n "s/^$ddi_mem_key=//p")
		case $ddi_mem_part in
		'' | *[!0-9]*) ddi_fail "$1: $ddi_mem_key is '$ddi_mem_part'" ;;
		esac
		ddi_mem_sum=$((ddi_mem_sum + ddi_mem_part))
	done
	ddi_mem_total=$(echo "$ddi_mem_stats" | sed -n 's/^memory_bytes=//p')
	[ "$ddi_mem_total" = "$ddi_mem_sum" ] ||
		ddi_fail "$1: memory_bytes is $ddi_mem_total, its parts add up to $ddi_mem_sum"
	scan_memory=$(echo "$ddi_mem_stats" | sed -n 's/^scan_memory_bytes=//p')
	verify_memory=$(echo "$ddi_mem_stats" | sed -n 's/^verify_memory_bytes=//p')
	post_limit=$(echo "$ddi_mem_stats" | sed -n 's/^post_memory_limit_bytes=//p')
}

# ddi_no_scanner WHAT: memory adds up, and no scanner is held.
ddi_no_scanner() {
	ddi_memory "$1"
	[ "$scan_memory" = 0 ] || ddi_fail "$1: the scanner still holds $scan_memory bytes"
}

# ddi_scanner_held WHAT: memory adds up, with the scanner's two 1 MiB chunks in it.
ddi_scanner_held() {
	ddi_memory "$1"
	[ "$scan_memory" -ge 2097152 ] || ddi_fail "$1: scan_memory_bytes is $scan_memory while scanning"
}

# --- A whole scan: exact counts, in status, stats and the log.
ddi_blank_index "$DDI_INDEX"
dmsetup create ddi-scan --table "$table" || ddi_fail "create"
ddi_status ddi-scan
[ "$scan $scanned/$to_scan" = "none 0/0" ] || ddi_fail "a new device shows scan '$scan $scanned/$to_scan'"
ddi_no_scanner "a new device"
[ "$verify_memory" = 0 ] || ddi_fail "verify_memory_bytes is $verify_memory without verify"
[ "$post_limit" = $((4096 * 1024)) ] || ddi_fail "post_memory_limit_bytes is $post_limit, not 4 MiB"
ddi_mark
dmsetup message ddi-scan 0 scan $DDI_SCAN_AT $DDI_SCAN_BLOCKS || ddi_fail "scan message"
ddi_wait_scan ddi-scan "done"
# Freed by the scan as it ends, with no suspend (ddi_expect makes one).
ddi_no_scanner "a scan just done"
ddi_expect ddi-scan $DDI_SCAN_BLOCKS $DDI_SCAN_DUPLICATES 0 0 "a scan of the data set"
[ "$scanned/$to_scan" = "$DDI_SCAN_BLOCKS/$DDI_SCAN_BLOCKS" ] || ddi_fail "status says $scanned/$to_scan scanned"
[ "$entries" = $DDI_SCAN_DISTINCT ] || ddi_fail "$entries entries, not $DDI_SCAN_DISTINCT"
[ "$ratio" = 2.72 ] || ddi_fail "ratio $ratio, not 2.72"
ddi_scan_counts ddi-scan "a whole scan"
ddi_assert_log "dedup-index: [0-9]+:[0-9]+: scan started at block $DDI_SCAN_AT of $DDI_SCAN_AT..$end"
ddi_assert_log "scan 50%: block [0-9]+ of $DDI_SCAN_AT..$end"
ddi_assert_log "scan done: blocks $DDI_SCAN_AT..$end, [0-9]+ MiB/s"
ddi_assert_log "scan: $DDI_SCAN_BLOCKS posted, $DDI_SCAN_DUPLICATES duplicates \(ratio 2.72\), 0 written meanwhile"
rate=$(ddi_log_since_mark | sed -n 's/.*scan done:.*, \([0-9]*\) MiB\/s.*/\1/p')
echo "scanned 16 MiB at $rate MiB/s"
# Done is done: a suspend and resume scans nothing again.
ddi_expect ddi-scan $DDI_SCAN_BLOCKS $DDI_SCAN_DUPLICATES 0 0 "after suspend and resume"
# A bad range is refused and changes nothing.
if dmsetup message ddi-scan 0 scan $((size / 8)) 2>/dev/null; then
	ddi_fail "a scan from past the end was accepted"
fi
if dmsetup message ddi-scan 0 scan 0 0 2>/dev/null; then
	ddi_fail "a scan of 0 blocks was accepted"
fi
ddi_scan_counts ddi-scan "after refused scans"
dmsetup remove ddi-scan || ddi_fail "remove"

# --- With verify, each advice to the scan is checked by reading the
# advised block, and all of it holds.
ddi_blank_index "$DDI_INDEX"
dmsetup create ddi-scan --table "0 $size dedup-index $DDI_DATA $DDI_INDEX 7 $shape verify" ||
	ddi_fail "create with verify"
ddi_no_scanner "a new device with verify"
# 16 checks of up to 64 blocks at once, a page a block: 4 MiB of the
# VM's 4 KiB pages.
[ "$verify_memory" = $((16 * 64 * 4096)) ] ||
	ddi_fail "verify_memory_bytes is $verify_memory"
dmsetup message ddi-scan 0 scan $DDI_SCAN_AT $DDI_SCAN_BLOCKS || ddi_fail "scan message"
ddi_wait_scan ddi-scan "done"
ddi_no_scanner "a scan with verify just done"
ddi_expect ddi-scan $DDI_SCAN_BLOCKS $DDI_SCAN_DUPLICATES $DDI_SCAN_DUPLICATES 0 "a scan with verify"
[ "$ratio" = 2.72 ] || ddi_fail "ratio $ratio with verify, not 2.72"
ddi_scan_counts ddi-scan "a scan with verify"
dmsetup remove ddi-scan || ddi_fail "remove"

# --- Stop and go on, suspend and resume, and a reload, all mid-scan.
ddi_blank_index "$DDI_INDEX"
dmsetup create ddi-scan --table "$slow" || ddi_fail "create the slow scanner"
# Asked while suspended, the scan starts at the resume.
dmsetup suspend ddi-scan || ddi_fail "suspend"
dmsetup message ddi-scan 0 scan $DDI_SCAN_AT $DDI_SCAN_BLOCKS || ddi_fail "scan message"
sleep 1
ddi_status ddi-scan
[ "$scan $scanned" = "running 0" ] || ddi_fail "a scan asked while suspended shows $scan $scanned"
dmsetup resume ddi-scan || ddi_fail "resume"
sleep 2
dmsetup message ddi-scan 0 scan stop || ddi_fail "scan stop"
ddi_status ddi-scan
[ "$scan" = paused ] || ddi_fail "scan stop left the scan $scan"
ddi_no_scanner "a scan stopped"
stopped=$scanned
[ "$stopped" -gt 0 ] && [ "$stopped" -lt $DDI_SCAN_BLOCKS ] ||
	ddi_fail "stopped after $stopped blocks: not mid-scan"
sleep 1
[ "$(ddi_scan_done_at)" = "$stopped" ] || ddi_fail "a stopped scan went on"
ddi_mark
dmsetup message ddi-scan 0 scan || ddi_fail "scan to go on"
ddi_assert_log "scan resumed at block $((DDI_SCAN_AT + stopped)) of"
sleep 1
dmsetup suspend ddi-scan || ddi_fail "suspend mid-scan"
ddi_status ddi-scan
[ "$scan" = running ] || ddi_fail "a suspend left the scan $scan"
ddi_no_scanner "a scan suspended"
suspended=$scanned
sleep 1
[ "$(ddi_scan_done_at)" = "$suspended" ] || ddi_fail "the scan went on while suspended"
ddi_mark
dmsetup resume ddi-scan || ddi_fail "resume mid-scan"
ddi_assert_log "scan resumed at block $((DDI_SCAN_AT + suspended)) of"
sleep 1
# The new table shares the index and takes the scan over, unslowed.
reloaded=$(ddi_scan_done_at)
ddi_mark
ddi_swap_table ddi-scan "$table"
ddi_assert_log "scan resumed at block [0-9]+ of $DDI_SCAN_AT..$end"
ddi_wait_scan ddi-scan "done"
echo "stopped at $stopped, suspended at $suspended, reloaded at about $reloaded of $DDI_SCAN_BLOCKS blocks"
[ "$reloaded" -lt $DDI_SCAN_BLOCKS ] || ddi_fail "the scan was done before the reload"
ddi_scan_counts ddi-scan "a scan stopped, suspended and reloaded"
dmsetup remove ddi-scan || ddi_fail "remove"

# --- Removed mid-scan: no hang, and the next device goes on from the save.
ddi_blank_index "$DDI_INDEX"
dmsetup create ddi-scan --table "$slow" || ddi_fail "create the slow scanner"
dmsetup message ddi-scan 0 scan $DDI_SCAN_AT $DDI_SCAN_BLOCKS || ddi_fail "scan message"
sleep 2
# Here, not in the timed part above, where a stats call takes scan time.
ddi_scanner_held "a scan reading"
echo "while the scan read: scan_memory_bytes=$scan_memory of memory_bytes=$ddi_mem_total"
before=$(date +%s)
dmsetup remove ddi-scan || ddi_fail "remove mid-scan"
took=$(($(date +%s) - before))
[ $took -lt 30 ] || ddi_fail "removing a scanning device took $took s"
ddi_mark
dmsetup create ddi-scan --table "$table" || ddi_fail "create after remove"
ddi_assert_log "loaded index state"
ddi_assert_log "scan resumed at block [0-9]+ of $DDI_SCAN_AT..$end"
at=$(ddi_log_since_mark | sed -n 's/.*scan resumed at block \([0-9]*\) of.*/\1/p')
[ "$at" -gt $DDI_SCAN_AT ] || ddi_fail "the scan went on from $at, its start"
ddi_wait_scan ddi-scan "done"
ddi_scan_counts ddi-scan "a scan removed and made again"
echo "removed mid-scan in $took s; the next device went on from block $at"
dmsetup remove ddi-scan || ddi_fail "remove"

# --- A write while the scan reads its block: the scan leaves the block to
# the write. data_dev behind dm-delay, reads held 2 s, writes not: the
# write lands while the scan's read of its chunk waits.
ddi_blank_index "$DDI_INDEX"
dmsetup create ddi-slowread --table "0 $size delay $DDI_DATA 0 2000 $DDI_DATA 0 0" ||
	ddi_fail "create the dm-delay device"
dmsetup create ddi-scan --table "0 $size dedup-index /dev/mapper/ddi-slowread $DDI_INDEX 6 $shape" ||
	ddi_fail "create over dm-delay"
dmsetup message ddi-scan 0 scan $DDI_SCAN_AT 512 || ddi_fail "scan message"
sleep 0.5
ddi_random /tmp/new 1
ddi_write /tmp/new $dev $((DDI_SCAN_AT + 10))
ddi_wait_scan ddi-scan "done"
[ "$(ddi_stat ddi-scan scan_blocks_written)" = 1 ] ||
	ddi_fail "scan_blocks_written is $(ddi_stat ddi-scan scan_blocks_written), not 1"
[ "$(ddi_stat ddi-scan scan_blocks_posted)" = 511 ] ||
	ddi_fail "scan_blocks_posted is $(ddi_stat ddi-scan scan_blocks_posted), not 511"
# The write's post stands: its block is found where it was written; the
# block it replaced was posted by nobody.
ddi_write /tmp/new $dev $((DDI_SCAN_AT + 5000))
dd if=/tmp/scan-set of=/tmp/old bs=4096 skip=10 count=1 2>/dev/null
ddi_write /tmp/old $dev $((DDI_SCAN_AT + 5001))
ddi_expect ddi-scan 514 1 0 0 "a block written while the scan read it"
dmsetup remove ddi-scan || ddi_fail "remove"
dmsetup remove ddi-slowread || ddi_fail "remove the dm-delay device"

# --- A read error stops the scan and says so; writes go on; once the disk
# reads again, "scan" goes on from the chunk that failed. The data set
# again first: the test above wrote over one of its blocks.
ddi_scan_fill
ddi_blank_index "$DDI_INDEX"
bad=$(((DDI_SCAN_AT + 1024) * 8))
dmsetup create ddi-bad <<EOT || ddi_fail "create the failing data device"
0 $bad linear $DDI_DATA 0
$bad 2048 error
$((bad + 2048)) $((size - bad - 2048)) linear $DDI_DATA $((bad + 2048))
EOT
dmsetup create ddi-scan --table "0 $size dedup-index /dev/mapper/ddi-bad $DDI_INDEX 6 $shape" ||
	ddi_fail "create over the failing device"
ddi_mark
dmsetup message ddi-scan 0 scan $DDI_SCAN_AT $DDI_SCAN_BLOCKS || ddi_fail "scan message"
ddi_wait_scan ddi-scan failed
ddi_no_scanner "a scan failed"
ddi_assert_log "scan stopped: reading block $((DDI_SCAN_AT + 1024)) failed: -5"
[ "$(ddi_stat ddi-scan scan_error)" = -5 ] || ddi_fail "scan_error is $(ddi_stat ddi-scan scan_error)"
[ "$scanned" = 1024 ] || ddi_fail "a scan failing at block 1024 of its range shows $scanned done"
[ "$state" = ok ] || ddi_fail "a data_dev read error made the index $state"
ddi_random /tmp/during 1
ddi_write /tmp/during $dev $((DDI_SCAN_AT + 6000))
ddi_swap_table ddi-bad "0 $size linear $DDI_DATA 0"
ddi_mark
dmsetup message ddi-scan 0 scan || ddi_fail "scan after the disk mended"
ddi_assert_log "scan resumed at block $((DDI_SCAN_AT + 1024)) of"
ddi_wait_scan ddi-scan "done"
ddi_scan_counts ddi-scan "a scan resumed after a read error"
dmsetup remove ddi-scan || ddi_fail "remove"
dmsetup remove ddi-bad || ddi_fail "remove the failing device"

# --- Writes go on while a scan of 128 MiB runs.
if [ -x /usr/bin/fio ]; then
	ddi_blank_index "$DDI_INDEX"
	dmsetup create ddi-scan --table "$table" || ddi_fail "create"
	dmsetup message ddi-scan 0 scan $DDI_SCAN_AT 32768 || ddi_fail "scan message"
	fio --name=scanwrites --filename=$dev --rw=randwrite --bs=4k --direct=1 \
		--offset=$((DDI_SCAN_AT * 4096)) --size=128m --runtime=5 --time_based \
		--randseed="$DDI_SEED" --output-format=terse --terse-version=3 \
		>/tmp/fio.out 2>&1 || ddi_fail "fio while scanning: $(cat /tmp/fio.out)"
	iops=$(cut -d';' -f49 /tmp/fio.out)
	ddi_wait_scan ddi-scan "done"
	posted=$(ddi_stat ddi-scan scan_blocks_posted)
	written=$(ddi_stat ddi-scan scan_blocks_written)
	[ $((posted + written)) = 32768 ] ||
		ddi_fail "the scan posted $posted and left $written to writes, not 32768 in all"
	ddi_status ddi-scan
	[ "$state" = ok ] || ddi_fail "state $state after scanning under writes"
	echo "fio wrote $iops IOPS while the scan ran; the scan posted $posted blocks, left $written to writes"
	dmsetup remove ddi-scan || ddi_fail "remove"
fi
echo "scans: exact counts, stop and go on, suspend, reload, remove, writes during the scan, memory"
