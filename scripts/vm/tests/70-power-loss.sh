# shellcheck shell=sh
# Power loss at every flush: dm-log-writes sits under index_dev while a
# known data set goes through the target in batches, closing chapters,
# wrapping the small volume once and saving twice. The log is then replayed
# onto a fresh device up to each flush it holds (at most $max_points of
# them, evenly spread), and at each point a copy of what the device would
# hold after a power cut there is opened: it must come up (load or
# rebuild), and a sample of the names posted before the point is queried.
#   - No name is ever answered with a block it was not written at.
#   - A name must be found if it was posted before a save that completed
#     before the point, or is older than the last two chapters' worth of
#     names before the point (the open chapter and one being written,
#     which Documentation/dm-dedup-index.rst, Crashes, says a crash may
#     lose), and is still within the volume's window.
# At some points the write after the flush is also applied torn (its
# first k of 8 sectors, k drawn from the seed) before the copy is opened.
# A torn superblock, which only the first format writes, is refused as
# damaged (the documented outcome, with nothing indexed yet to lose) and
# counted apart; any other refusal fails.
# The summary line:
#   power-loss: P points, L loaded, R rebuilt, F failed, names lost N
#   (allowed A), wrong answers W
# counts a name as allowed to be lost when the rule above lets it go; the
# test fails on any F or W, or N > A.
# shellcheck source=scripts/vm/lib.sh
. /ddi/lib.sh

ddi_load
size=$(ddi_sectors "$DDI_DATA")
vol_chapters=16
per_chapter=508		# 4 record pages of 127 records
batch=512
batches=20
max_points=200
torn_every=2
ddi_quick && { batches=18; max_points=40; torn_every=4; }
blocks=$((batch * batches))
shape="record_pages 4 chapters $vol_chapters zones 1"

# Regions of index_dev: the device written (and logged), the log, the
# device the log is replayed onto, and the copy opened at each point.
mib=2048
region() {	# region NAME FIRST-MIB MIBS
	dmsetup create "$1" --table "0 $(($3 * mib)) linear $DDI_INDEX $(($2 * mib))" ||
		ddi_fail "create $1"
}
region pl-dev 0 32
region pl-log 32 480
region pl-replay 512 32
region pl-copy 544 32
for d in pl-dev pl-replay pl-log; do
	dd if=/dev/zero of=/dev/mapper/$d bs=1M count=32 oflag=direct 2>/dev/null ||
		ddi_fail "cannot zero $d"
done
dmsetup create pl-lw --table "0 $((32 * mib)) log-writes /dev/mapper/pl-dev /dev/mapper/pl-log" ||
	ddi_fail "create the log-writes device"

ddi_random /tmp/pl $blocks
block-names /tmp/pl >/tmp/pl.names || ddi_fail "block-names"
[ "$(wc -l </tmp/pl.names)" = $blocks ] || ddi_fail "block-names gave no name for every block"

dev=/dev/mapper/ddi-pl
ddi_mark
dmsetup create ddi-pl --table "0 $size dedup-index $DDI_DATA /dev/mapper/pl-lw 6 $shape" ||
	ddi_fail "create"
index_mib=$(ddi_log_since_mark | sed -n 's/.*formatted a new index: .*, \([0-9]*\) MiB$/\1/p')
[ -n "$index_mib" ] || ddi_fail "no size in the format message"
copy_mib=$((index_mib + 1))

# The workload: each batch written at its own blocks of data_dev, its posts
# answered, then a mark "batch_N" (N blocks posted so far) in the log. A
# mark is logged at once, writes when a flush covers them: a point after
# the mark comes after every post it counts.
posted=0
b=0
while [ $b -lt $batches ]; do
	dd if=/tmp/pl of=$dev bs=4096 skip=$posted seek=$posted count=$batch oflag=direct \
		2>/dev/null || ddi_fail "write batch $b"
	posted=$((posted + batch))
	ddi_wait_indexed ddi-pl $posted
	dmsetup message pl-lw 0 mark "batch_$posted" || ddi_fail "mark batch $b"
	case $b in
	5)
		dmsetup message ddi-pl 0 save || ddi_fail "save after batch $b"
		dmsetup message pl-lw 0 mark "save_$posted" || ddi_fail "mark save"
		;;
	12)
		dmsetup suspend ddi-pl && dmsetup resume ddi-pl || ddi_fail "suspend after batch $b"
		dmsetup message pl-lw 0 mark "save_$posted" || ddi_fail "mark save"
		;;
	esac
	b=$((b + 1))
done
ddi_status ddi-pl
echo "workload: $posted blocks, $chapters chapters written (a volume holds $vol_chapters)"
[ "$chapters" -gt $vol_chapters ] || ddi_fail "the volume did not wrap: $chapters chapters"
dmsetup remove ddi-pl || ddi_fail "remove"
dmsetup remove pl-lw || ddi_fail "remove the log-writes device"

replay-log list /dev/mapper/pl-log >/tmp/pl.log || ddi_fail "cannot read the log"
entries=$(wc -l </tmp/pl.log)
flushes=$(grep -c ' F' /tmp/pl.log)
# An empty flush with nothing written since the flush before it costs a
# real disk milliseconds for nothing: dm_bufio_write_dirty_buffers()
# ends with a flush, so one more right after it is wasted. Marks between
# them do not count as writes.
doubled=$(awk '$4 == "M" { next }
	{ empty = $3 == 0 && $4 ~ /F/; if (empty && last) n++; last = empty }
	END { print n + 0 }' /tmp/pl.log)
echo "log: $entries entries, $flushes flushes ($doubled right after another), $(grep -c ' M ' /tmp/pl.log) marks"
[ "$flushes" -gt "$batches" ] || ddi_fail "only $flushes flushes in the log"
[ "$doubled" = 0 ] || ddi_fail "$doubled flushes came right after another flush"

# The points: every flush entry, or $max_points of them evenly spread.
grep ' F' /tmp/pl.log | cut -d' ' -f1 |
	awk -v n="$flushes" -v max="$max_points" '
	n <= max || int(NR * max / n) != int((NR - 1) * max / n)' >/tmp/pl.points

# state_at P: posted (the last batch mark before entry P), next (the
# mark after it, or all blocks), saved (blocks posted before the last save
# marked before P).
state_at() {
	# shellcheck disable=SC2046
	set -- $(awk -v p="$1" -v all=$blocks '
		$4 == "M" { split($5, mark, "_") }
		$4 == "M" && mark[1] == "batch" { if ($1 < p) posted = mark[2]; else if (!next_) next_ = mark[2] }
		$4 == "M" && mark[1] == "save" && $1 < p { saved = mark[2] }
		END { printf "%d %d %d\n", posted, next_ ? next_ : all, saved }
	' /tmp/pl.log)
	posted=$1 next=$2 saved=$3
}

points=0 loaded=0 rebuilt=0 failed=0 lost=0 allowed=0 wrong=0 torn=0 torn_formats=0
# check LABEL: open the copy, query a sample of the posted names, close it.
check() {
	ddi_mark
	if ! dmsetup create pl-chk --table "0 $size dedup-index $DDI_DATA /dev/mapper/pl-copy 6 $shape" \
		2>/dev/null; then
		# The superblock is written once, by the format, last: torn, it
		# is refused as damaged, as documented, with nothing indexed yet.
		if [ "$posted" = 0 ] &&
		   ddi_log_since_mark | grep -q 'index superblock is damaged'; then
			torn_formats=$((torn_formats + 1))
			echo "$1: a torn format, refused as a damaged superblock"
			return
		fi
		failed=$((failed + 1))
		echo "$1: the index did not open"
		return
	fi
	if ddi_log_since_mark | grep -q 'loaded index state'; then
		loaded=$((loaded + 1))
	elif ddi_log_since_mark | grep -q 'rebuilt '; then
		rebuilt=$((rebuilt + 1))
	fi
	# Must be found: below max(saved, posted - two chapters), and within
	# the window the volume holds even if every post up to next counted.
	must=$((posted - 2 * per_chapter))
	[ "$saved" -gt "$must" ] && must=$saved
	low=$((next - (vol_chapters - 3) * per_chapter))
	[ $low -lt 0 ] && low=0
	k=0
	while [ $posted -gt $low ] && [ $k -lt 24 ]; do
		ddi_rand $((posted - low))
		j=$((low + rand))
		name=$(sed -n "$((j + 1))p" /tmp/pl.names)
		answer=$(dmsetup message pl-chk 0 query "$name") || ddi_fail "$1: query"
		case $answer in
		"found block=$j") ;;
		"found block="*)
			wrong=$((wrong + 1))
			echo "$1: block $j answered with '$answer'"
			;;
		*)
			lost=$((lost + 1))
			if [ $j -ge $must ]; then
				allowed=$((allowed + 1))
			else
				echo "$1: block $j (posted $posted, saved $saved) not found"
			fi
			;;
		esac
		k=$((k + 1))
	done
	dmsetup remove pl-chk || ddi_fail "$1: remove"
}

copy() {
	dd if=/dev/mapper/pl-replay of=/dev/mapper/pl-copy bs=1M count=$copy_mib \
		iflag=direct oflag=direct 2>/dev/null || ddi_fail "cannot copy the replay"
}

done_to=0
n=0
while read -r p; do
	replay-log replay /dev/mapper/pl-log /dev/mapper/pl-replay $done_to $((p + 1)) ||
		ddi_fail "replay to entry $p"
	done_to=$((p + 1))
	state_at "$p"
	points=$((points + 1))
	copy
	check "flush at entry $p"
	n=$((n + 1))
	# Torn: the first write after this flush (past any marks), in part.
	# shellcheck disable=SC2046
	set -- $(awk -v p="$p" '$1 > p && $4 != "M" { print $1, $3, $4; exit }' /tmp/pl.log)
	if [ $((n % torn_every)) = 0 ] && [ $# = 3 ] && [ "$3" = - ] && [ "$2" -ge 2 ]; then
		copy
		ddi_rand $(($2 - 1))
		replay-log replay /dev/mapper/pl-log /dev/mapper/pl-copy $((p + 1)) $(($1 + 1)) \
			$((rand + 1)) || ddi_fail "torn replay of entry $1"
		points=$((points + 1))
		torn=$((torn + 1))
		check "entry $1 torn after $((rand + 1)) of $2 sectors"
	fi
done </tmp/pl.points

for d in pl-copy pl-replay pl-log pl-dev; do
	dmsetup remove $d || ddi_fail "remove $d"
done
echo "power-loss: $points points, $loaded loaded, $rebuilt rebuilt, $failed failed, names lost $lost (allowed $allowed), wrong answers $wrong ($torn torn, $torn_formats torn formats refused)"
[ $failed = 0 ] || ddi_fail "$failed points did not open"
[ $wrong = 0 ] || ddi_fail "$wrong wrong answers"
[ $lost -le $allowed ] || ddi_fail "$((lost - allowed)) names lost that no crash may lose"
[ $loaded -gt 0 ] && [ $rebuilt -gt 0 ] || ddi_fail "expected both loads and rebuilds"
