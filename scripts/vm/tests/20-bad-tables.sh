# shellcheck shell=sh
# Malformed dedup-index table lines: each "dmsetup create" must fail, the
# kernel log must say what was wrong with that line, and no device may be
# left behind.
# shellcheck source=scripts/vm/lib.sh
. /ddi/lib.sh

ddi_load
size=$(ddi_sectors "$DDI_DATA")
small_size=$(ddi_sectors "$DDI_SMALL")
D=$DDI_DATA
I=$DDI_INDEX
devices_before=$(ddi_dm_count)
checked=0
failures=0

problem() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}

# bad EXPECTED-TEXT TABLE-PARAMS: "0 <size> dedup-index" plus TABLE-PARAMS
# must be refused, and the kernel log must show EXPECTED-TEXT for it.
bad() {
	bad_table "$1" "0 $size dedup-index $2"
}

# bad_table EXPECTED-TEXT TABLE: the same for a whole table, one segment
# a line.
bad_table() {
	expect=$1
	line=$2
	checked=$((checked + 1))
	ddi_mark
	if echo "$line" | dmsetup create ddi-bad >/tmp/dmsetup.out 2>&1; then
		problem "accepted: $line"
		dmsetup remove ddi-bad
		return
	fi
	if ! ddi_log_since_mark | grep -qF -- "$expect"; then
		problem "kernel log lacks '$expect' for: $line"
		ddi_log_since_mark | sed 's/^/    /'
		sed 's/^/    dmsetup: /' /tmp/dmsetup.out
	fi
	if [ -e /dev/mapper/ddi-bad ] || dmsetup info ddi-bad >/dev/null 2>&1; then
		problem "ddi-bad left behind after: $line"
		dmsetup remove ddi-bad
	fi
}

memory_range="dedup-index: memory must be 64..32768"

# The devices.
bad "dedup-index: requires <data_dev> <index_dev>" ""
bad "dedup-index: requires <data_dev> <index_dev>" "$D"
bad "dedup-index: data_dev and index_dev must be different devices" "$D $D"
bad "dedup-index: data_dev and index_dev must be different devices" "$D $(ddi_devnum "$D")"
bad "dedup-index: cannot open data_dev" "/dev/nonexistent $I"
bad "dedup-index: cannot open index_dev" "$D /dev/nonexistent"
bad "dedup-index: cannot open data_dev" "$D$D $I"

# The feature argument count.
bad "dedup-index: feature argument count is not a number" "$D $I x"
bad "dedup-index: feature argument count is not a number" "$D $I -1"
bad "dedup-index: feature argument count is not a number" "$D $I verify"
bad "dedup-index: feature argument count exceeds the arguments given" "$D $I 1"
bad "dedup-index: feature argument count exceeds the arguments given" "$D $I 3 zones 2"
bad "dedup-index: feature argument count exceeds the arguments given" "$D $I 99999999999 format"
bad "dedup-index: more arguments than the feature argument count" "$D $I 0 verify"
bad "dedup-index: more arguments than the feature argument count" "$D $I 2 zones 4 extra"
bad "dedup-index: more feature arguments than there are options" \
	"$D $I 20 memory 512 zones 2 readers 3 cache_chapters 4 record_pages 4 chapters 16 post_memory_kib 64 scan_rate 1 verify format sparse extra"

# Unknown options.
bad "dedup-index: unknown feature argument" "$D $I 1 bogus"
bad "dedup-index: unknown feature argument" "$D $I 1 VERIFY"
bad "dedup-index: unknown feature argument" "$D $I 2 memory_mib 512"
bad "dedup-index: unknown feature argument" "$D $I 2 verify 5"

# memory
bad "dedup-index: memory needs a value" "$D $I 1 memory"
bad "dedup-index: memory needs a value" "$D $I 2 memory verify"
bad "dedup-index: memory value is not a number" "$D $I 2 memory big"
bad "dedup-index: memory value is not a number" "$D $I 2 memory 512M"
bad "$memory_range" "$D $I 2 memory 0"
bad "$memory_range" "$D $I 2 memory 63"
bad "$memory_range" "$D $I 2 memory 33792"
bad "$memory_range" "$D $I 2 memory 4294967296"

# zones, readers, cache_chapters
bad "dedup-index: zones needs a value" "$D $I 1 zones"
bad "dedup-index: zones must be 1..16" "$D $I 2 zones 0"
bad "dedup-index: zones must be 1..16" "$D $I 2 zones 17"
bad "dedup-index: zones value is not a number" "$D $I 2 zones 0x4"
bad "dedup-index: readers needs a value" "$D $I 3 readers format 2"
bad "dedup-index: readers must be 1..16" "$D $I 2 readers 0"
bad "dedup-index: readers must be 1..16" "$D $I 2 readers 17"
bad "dedup-index: readers value is not a number" "$D $I 2 readers 1.5"
bad "dedup-index: cache_chapters needs a value" "$D $I 1 cache_chapters"
bad "dedup-index: cache_chapters must be 1..1024" "$D $I 2 cache_chapters 0"
bad "dedup-index: cache_chapters must be 1..1024" "$D $I 2 cache_chapters 1025"
bad "dedup-index: cache_chapters value is not a number" "$D $I 2 cache_chapters many"

# post_memory_kib
post_range="dedup-index: post_memory_kib must be 64..1048576"
bad "dedup-index: post_memory_kib needs a value" "$D $I 1 post_memory_kib"
bad "$post_range" "$D $I 2 post_memory_kib 0"
bad "$post_range" "$D $I 2 post_memory_kib 63"
bad "$post_range" "$D $I 2 post_memory_kib 1048577"
bad "dedup-index: post_memory_kib value is not a number" "$D $I 2 post_memory_kib 4M"
bad "dedup-index: post_memory_kib given more than once" \
	"$D $I 4 post_memory_kib 64 post_memory_kib 128"

# Options given twice.
bad "dedup-index: memory given more than once" "$D $I 4 memory 512 memory 1024"
bad "dedup-index: zones given more than once" "$D $I 4 zones 2 zones 3"
bad "dedup-index: readers given more than once" "$D $I 5 readers 2 verify readers 2"
bad "dedup-index: cache_chapters given more than once" \
	"$D $I 4 cache_chapters 4 cache_chapters 5"
bad "dedup-index: verify given more than once" "$D $I 2 verify verify"
bad "dedup-index: format given more than once" "$D $I 3 format verify format"
bad "dedup-index: sparse given more than once" "$D $I 3 sparse format sparse"

# Two segments: with no offset into data_dev, the second would map onto
# the first one's sectors. Only the segment at sector 0 may be dedup-index.
half=$((size / 2))
shape="5 record_pages 4 chapters 64 format"
bad_table "dedup-index: dedup-index must be the segment at sector 0 of its table" \
	"0 $half dedup-index $D $I $shape
$half $half dedup-index $D $I $shape"
bad_table "dedup-index: dedup-index must be the segment at sector 0 of its table" \
	"0 8 linear $DDI_SMALL 0
8 $half dedup-index $D $I $shape"

# A target longer than its data device: dm itself refuses it.
small=$DDI_SMALL
size=$((small_size + 8))
# The index on $I must open for dm to get that far: give it a small shape.
bad "too small for target" "$small $I 5 record_pages 4 chapters 64 format"

devices_after=$(ddi_dm_count)
[ "$devices_after" = "$devices_before" ] ||
	problem "dm devices went from $devices_before to $devices_after"
echo "$checked bad lines checked, $failures problems"
[ "$failures" = 0 ]
