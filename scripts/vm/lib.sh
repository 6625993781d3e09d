# shellcheck shell=sh
# Helpers for the vm-test scripts; runs in busybox sh inside the VM.

# The test scripts that source this file use these.
# shellcheck disable=SC2034
DDI_MODULE=/lib/ddi/dm-dedup-index.ko
# Four sparse virtio disks: two large ones for data and index, a small one
# for lines that need a device too short for them, and one where a test of
# several boots leaves notes for its next boot.
# shellcheck disable=SC2034
DDI_DATA=/dev/vda
# shellcheck disable=SC2034
DDI_INDEX=/dev/vdb
# How the index's kernel messages name it (each begins "dm_dedup_index: vdb: ").
# shellcheck disable=SC2034
DDI_INDEX_NAME=vdb
# shellcheck disable=SC2034
DDI_SMALL=/dev/vdc
DDI_STATE=/dev/vdd
# No udev here: libdevmapper makes the /dev/mapper nodes itself.
DM_DISABLE_UDEV=1
export DM_DISABLE_UDEV

# The seed of the test data, from the host (scripts/vm-test, DDI_SEED): all
# data ddi_random makes and every number ddi_rand draws follow from it and
# the test's name, so a failure shows again under the same seed.
DDI_SEED=1
# A boot of a test of several boots: its number and the test's count.
# shellcheck disable=SC2034
DDI_BOOT=1 DDI_BOOTS=1
read -r ddi_cmdline </proc/cmdline
for ddi_arg in $ddi_cmdline; do
	case $ddi_arg in
	ddi.seed=*) DDI_SEED=${ddi_arg#ddi.seed=} ;;
	ddi.boot=*) DDI_BOOT=${ddi_arg#ddi.boot=} ;;
	ddi.boots=*) DDI_BOOTS=${ddi_arg#ddi.boots=} ;;
	esac
done
echo "data seed $DDI_SEED (DDI_SEED=$DDI_SEED scripts/vm-test --filter '${DDI_TEST%.boot*}' reproduces it)"

# Fail the test, showing what the kernel said about dm lately.
ddi_fail() {
	echo "FAIL: $*"
	echo "    (data seed $DDI_SEED)"
	dmesg | grep -E 'dm_dedup_index|device-mapper|ddi-mark' | tail -n 20 | sed 's/^/    /'
	exit 1
}

ddi_loaded() {
	grep -q '^dm_dedup_index ' /proc/modules
}

ddi_load() {
	ddi_loaded || insmod "$DDI_MODULE" || ddi_fail "insmod $DDI_MODULE"
}

# major:minor of a disk, as dm writes device names in tables.
ddi_devnum() {
	cat "/sys/block/${1#/dev/}/dev"
}

ddi_sectors() {
	blockdev --getsz "$1"
}

# Mark the kernel log, so that ddi_log_since_mark shows only later messages.
# At KERN_INFO ("<6>"), below the console's loglevel=5: the mark stays in
# dmesg but off the console, where the kernel's line could land in the
# middle of one of ours.
ddi_mark_count=0
ddi_mark() {
	ddi_mark_count=$((ddi_mark_count + 1))
	echo "<6>ddi-mark $$ $ddi_mark_count" >/dev/kmsg
}

ddi_log_since_mark() {
	dmesg | sed -n "/ddi-mark $$ $ddi_mark_count\$/,\$p"
}

# Fail unless the kernel said TEXT (an extended regular expression) since
# the last mark; ddi_refute_log fails if it did.
ddi_assert_log() {
	ddi_log_since_mark | grep -qE -- "$1" || ddi_fail "the kernel log lacks '$1'"
}

ddi_refute_log() {
	if ddi_log_since_mark | grep -qE -- "$1"; then
		ddi_fail "the kernel log has '$1': $(ddi_log_since_mark | grep -E -- "$1" | head -n 3)"
	fi
}

# Number of dm devices the kernel has.
ddi_dm_count() {
	count=0
	for disk in /sys/block/dm-*; do
		[ -e "$disk" ] && count=$((count + 1))
	done
	echo $count
}

# Fail unless fio is there (the tools disk holds it; /init unpacks it).
ddi_need_fio() {
	[ -x /usr/bin/fio ] || ddi_fail "no fio on the tools disk: install fio on the host"
}

# True when the host asked for a quick run (scripts/vm-test --quick).
ddi_quick() {
	grep -q 'ddi\.quick=1' /proc/cmdline
}

# Make an index device blank: with no superblock it is formatted afresh,
# under a new nonce that disowns whatever chapters an earlier index left.
ddi_blank_index() {
	dd if=/dev/zero of="$1" bs=1M count=4 oflag=direct conv=notrunc 2>/dev/null ||
		ddi_fail "cannot blank $1"
}

# ddi_random_stream SET BLOCKS: print BLOCKS 4 KiB blocks of test data, the
# same for the same seed, test and SET, every block distinct from every
# other of any set. The index sees only their MurmurHash3 names, which are
# as random as those of random blocks: a block need not look random, only
# be unique (a header naming it, then filler).
ddi_random_stream() {
	awk -v id="$DDI_SEED $DDI_TEST $1" -v n="$2" 'BEGIN {
		filler = "."
		while (length(filler) < 4096)
			filler = filler filler
		for (i = 0; i < n; i++) {
			head = sprintf("ddi test data: seed %s block %d\n", id, i)
			printf "%s%s", head, substr(filler, 1, 4096 - length(head))
		}
	}'
}

# ddi_random FILE BLOCKS [SET]: a file of BLOCKS blocks of ddi_random_stream
# data; SET defaults to FILE.
ddi_random() {
	ddi_random_stream "${3:-$1}" "$2" >"$1" || ddi_fail "cannot make $1"
	[ "$(wc -c <"$1")" = $(($2 * 4096)) ] || ddi_fail "$1 is not $2 blocks"
}

# ddi_rand N: set rand to a pseudo-random number below N, drawn from the
# seed and the test's name (a variable, not output: a $(...) subshell
# would not advance the sequence).
ddi_rand_state=
ddi_rand() {
	if [ -z "$ddi_rand_state" ]; then
		ddi_rand_state=$((0x$(echo "$DDI_SEED $DDI_TEST" | md5sum | cut -c1-15)))
	fi
	# A 64-bit LCG (Knuth's MMIX constants); the high bits are the good ones.
	ddi_rand_state=$((ddi_rand_state * 6364136223846793005 + 1442695040888963407))
	rand=$((((ddi_rand_state >> 33) & 0x7fffffff) % $1))
}

# ddi_write FILE DEV BLOCK: write FILE at 4 KiB block BLOCK of DEV, bypassing
# the page cache, so every block is one the target sees now.
ddi_write() {
	dd if="$1" of="$2" bs=4096 seek="$3" oflag=direct conv=notrunc 2>/dev/null ||
		ddi_fail "cannot write $1 to $2 at block $3"
}

# ddi_read DEV BLOCK COUNT FILE: read COUNT blocks of DEV from BLOCK.
ddi_read() {
	dd if="$1" of="$4" bs=4096 skip="$2" count="$3" iflag=direct 2>/dev/null ||
		ddi_fail "cannot read $3 blocks of $1 at block $2"
}

# ddi_counters NAME: let every post of device NAME be answered (a suspend
# waits for them, and saves the index), then read its status line into
# indexed advice verified stale entries chapters hits misses pages ratio
# state scan scanned to_scan.
ddi_counters() {
	dmsetup suspend "$1" && dmsetup resume "$1" || ddi_fail "suspend/resume $1"
	ddi_status "$1"
}

# ddi_wait_indexed NAME N: until device NAME has answered N posts since its
# table was loaded (status field 4), without the save a suspend makes.
ddi_wait_indexed() {
	ddi_wait_tries=0
	while ddi_status "$1" && [ "$indexed" -lt "$2" ]; do
		ddi_wait_tries=$((ddi_wait_tries + 1))
		[ $ddi_wait_tries -lt 600 ] || ddi_fail "$1: only $indexed of $2 posts answered"
		sleep 0.1
	done
}

# ddi_swap_table NAME TABLE: give device NAME the table TABLE under its
# users (e.g. dm-flakey under a live index_dev), through a suspend.
ddi_swap_table() {
	dmsetup load "$1" --table "$2" || ddi_fail "load $1: $2"
	dmsetup suspend "$1" && dmsetup resume "$1" || ddi_fail "swap in $1: $2"
}

# ddi_status NAME: the same without waiting.
ddi_status() {
	status=$(dmsetup status "$1") || ddi_fail "dmsetup status $1"
	# shellcheck disable=SC2086
	set -- $status
	if [ $# != 16 ] || [ "$3" != dedup-index ]; then
		ddi_fail "status is '$status'"
	fi
	# shellcheck disable=SC2034
	indexed=$4 advice=$5 verified=$6 stale=$7 entries=$8 chapters=$9
	shift 9
	# shellcheck disable=SC2034
	hits=$1 misses=$2 pages=$3 ratio=$4 state=$5 scan=$6 scanned=${7%/*} to_scan=${7#*/}
}

# ddi_expect NAME INDEXED ADVICE VERIFIED STALE WHAT: after ddi_counters,
# the counters must be exactly these ("-" skips one); WHAT names the step.
ddi_expect() {
	ddi_counters "$1"
	ddi_expect_one "$6" indexed "$indexed" "$2"
	ddi_expect_one "$6" advice "$advice" "$3"
	ddi_expect_one "$6" verified "$verified" "$4"
	ddi_expect_one "$6" stale "$stale" "$5"
}

ddi_expect_one() {
	[ "$4" = - ] || [ "$3" = "$4" ] || ddi_fail "$1: $2 is $3, not $4 (status '$status')"
}

# ddi_stat NAME KEY: one value of the "stats" message.
ddi_stat() {
	dmsetup message "$1" 0 stats | sed -n "s/^$2=//p"
}

# ddi_expect_stat NAME KEY VALUE: fail unless the "stats" message has KEY=VALUE.
ddi_expect_stat() {
	ddi_expect_stat_got=$(ddi_stat "$1" "$2")
	[ "$ddi_expect_stat_got" = "$3" ] || ddi_fail "$1: $2 is $ddi_expect_stat_got, not $3"
}

# Notes a test of several boots keeps for its next boot, as key=value lines
# on the state disk; ddi_note_get prints one, ddi_note_set adds or replaces.
ddi_note_get() {
	dd if=$DDI_STATE bs=4096 count=1 2>/dev/null | tr -d '\0' | sed -n "s/^$1=//p"
}

ddi_note_set() {
	{
		dd if=$DDI_STATE bs=4096 count=1 2>/dev/null | tr -d '\0' | grep -v "^$1="
		echo "$1=$2"
	} >/tmp/ddi-notes
	[ "$(wc -c </tmp/ddi-notes)" -lt 4096 ] || ddi_fail "too many notes"
	dd if=/dev/zero of=$DDI_STATE bs=4096 count=1 oflag=direct conv=notrunc 2>/dev/null &&
		dd if=/tmp/ddi-notes of=$DDI_STATE bs=4096 conv=notrunc,sync,fsync 2>/dev/null ||
		ddi_fail "cannot write a note"
}

# End this boot as a crash would: no unmount, no sync, no clean removal of
# any device; whatever is in flight is cut off. The host starts the next
# boot of the test on the same disks.
ddi_crash() {
	echo "DDI-CRASH $DDI_TEST"
	# A reset drops what the serial port has not sent yet: let the line
	# out first. Whatever was in flight still is a second later.
	sleep 1
	echo b >/proc/sysrq-trigger
	sleep 30
	ddi_fail "still running 30 s after sysrq b"
}

# ddi_wait_scan NAME PHASE [SECONDS]: until the scan of device NAME is in
# PHASE (status field 15: none, running, paused, done or failed), for
# SECONDS (default 60).
ddi_wait_scan() {
	ddi_wait_tries=0
	while ddi_status "$1" && [ "$scan" != "$2" ]; do
		ddi_wait_tries=$((ddi_wait_tries + 1))
		[ $ddi_wait_tries -lt $((${3:-60} * 10)) ] ||
			ddi_fail "$1: scan $scan ($scanned of $to_scan), not $2, after ${3:-60} s"
		sleep 0.1
	done
}

# The data set the scan tests put on the data disk before a dedup-index
# device exists: 4096 blocks (16 MiB) from block DDI_SCAN_AT, of which
# 1500 distinct blocks, the first 500 of them again, and 2096 zero
# blocks. Scanned in order, 500 + 2095 of them are duplicates of an
# earlier one, and 1501 are distinct.
DDI_SCAN_AT=200000
DDI_SCAN_BLOCKS=4096
DDI_SCAN_DUPLICATES=2595
DDI_SCAN_DISTINCT=1501

# ddi_scan_fill: write that data set through a dm-linear device, as data
# written before the index existed.
ddi_scan_fill() {
	ddi_random /tmp/scan-set 1500
	dd if=/tmp/scan-set of=/tmp/scan-again bs=4096 count=500 2>/dev/null
	dd if=/dev/zero of=/tmp/scan-zeros bs=4096 count=2096 2>/dev/null
	cat /tmp/scan-set /tmp/scan-again /tmp/scan-zeros >/tmp/scan-data
	rm -f /tmp/scan-again /tmp/scan-zeros
	dmsetup create ddi-linear --table "0 $(ddi_sectors "$DDI_DATA") linear $DDI_DATA 0" ||
		ddi_fail "create the dm-linear device"
	ddi_write /tmp/scan-data /dev/mapper/ddi-linear $DDI_SCAN_AT
	dmsetup remove ddi-linear || ddi_fail "remove the dm-linear device"
	rm -f /tmp/scan-data
}

# ddi_scan_counts NAME WHAT: the scan of device NAME covered the data set
# and found exactly its duplicates.
ddi_scan_counts() {
	for ddi_kv in scan_state=done scan_blocks_done=$DDI_SCAN_BLOCKS \
		scan_blocks_total=$DDI_SCAN_BLOCKS scan_blocks_posted=$DDI_SCAN_BLOCKS \
		scan_blocks_written=0 scan_duplicates=$DDI_SCAN_DUPLICATES scan_ratio=2.72 \
		scan_first=$DDI_SCAN_AT scan_end=$((DDI_SCAN_AT + DDI_SCAN_BLOCKS)); do
		ddi_got=$(ddi_stat "$1" "${ddi_kv%%=*}")
		[ "$ddi_got" = "${ddi_kv#*=}" ] ||
			ddi_fail "$2: ${ddi_kv%%=*} is $ddi_got, not ${ddi_kv#*=}"
	done
}
