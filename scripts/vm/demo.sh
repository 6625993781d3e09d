# shellcheck shell=sh
# The demo, run by scripts/demo in one boot: the data disk holds an ext4
# file system of real files, put there before any dedup-index device
# existed. Make a device over the disk with default options, scan what is
# on it, then copy the file system to another part of the device through
# the target, as a backup would, and show what the index saw. Every line
# for the host starts with DDI-DEMO.
# shellcheck source=scripts/vm/lib.sh
. /ddi/lib.sh

say() {
	echo "DDI-DEMO $*"
}

# Seconds since boot, with hundredths.
now() {
	cut -d' ' -f1 /proc/uptime
}

since() {
	echo "$(now) $1" | awk '{ printf "%.1f", $1 - $2 }'
}

ddi_load
fs_mib=$(sed -n 's/.*ddi\.demo_mib=\([0-9]*\).*/\1/p' /proc/cmdline)
files=$(sed -n 's/.*ddi\.demo_files=\([0-9]*\).*/\1/p' /proc/cmdline)
[ -n "$fs_mib" ] || ddi_fail "no ddi.demo_mib on the kernel command line"
blocks=$((fs_mib * 256))
size=$(ddi_sectors "$DDI_DATA")
table="0 $size dedup-index $DDI_DATA $DDI_INDEX"

say
say "The data disk ($DDI_DATA) holds an ext4 file system of $fs_mib MiB: $files files,"
say "the kernel's header files twice (two directories) and this host's /usr/bin"
say "and /usr/sbin. It was written before any dedup-index device existed."
say
t=$(now)
say "\$ dmsetup create demo --table \"$table\""
ddi_blank_index "$DDI_INDEX"
dmsetup create demo --table "$table" || ddi_fail "create the demo device"
say "  made a new index (default options: memory 256) on $DDI_INDEX in $(since "$t") s"
say
t=$(now)
say "\$ dmsetup message demo 0 scan 0 $blocks      # the $fs_mib MiB of the file system"
dmsetup message demo 0 scan 0 "$blocks" || ddi_fail "scan message"
ddi_wait_scan demo "done" 1200
took=$(since "$t")
say "  scanned $blocks blocks in $took s ($(echo "$fs_mib $took" | awk '{ printf "%.0f", $1 / $2 }') MiB/s)"
say
say "What the scan found, from \"dmsetup message demo 0 stats\":"
stats=$(dmsetup message demo 0 stats)
stat() {
	echo "$stats" | sed -n "s/^$1=//p"
}
say "  scan_blocks_posted=$(stat scan_blocks_posted)    blocks read and posted to the index"
say "  scan_duplicates=$(stat scan_duplicates)       of those, blocks whose contents were already on the disk"
say "  scan_ratio=$(stat scan_ratio)              blocks stored per block needed, if duplicates were shared"
say "  index_entries=$(stat index_entries)         distinct blocks the index holds"
say "  (free space in the file system is zero blocks, all duplicates of one another)"
say
t=$(now)
say "\$ dd if=/dev/mapper/demo of=/dev/mapper/demo bs=1M count=$fs_mib seek=1024 iflag=direct oflag=direct"
say "  # a copy of the file system through the device, as a backup would write it"
dd if=/dev/mapper/demo of=/dev/mapper/demo bs=1M count="$fs_mib" seek=1024 \
	iflag=direct oflag=direct 2>/dev/null || ddi_fail "copy through the device"
took=$(since "$t")
say "  copied $fs_mib MiB in $took s ($(echo "$fs_mib $took" | awk '{ printf "%.0f", $1 / $2 }') MiB/s)"
say
say "\$ dmsetup suspend demo && dmsetup resume demo   # waits for every answer, saves"
ddi_counters demo
say "\$ dmsetup status demo"
say "  $status"
say "  blocks_indexed=$indexed       blocks posted: the scan's and the copy's"
say "  duplicate_advice=$advice     posts answered with an earlier block of the same contents"
say "  verified_duplicates=$verified  checked by reading the earlier block (only with 'verify')"
say "  stale_advice=$stale         advice found out of date (only with 'verify')"
say "  index_entries=$entries        distinct blocks in the index"
say "  chapters_written=$chapters      chapters of 8128 records written to the index device"
say "  cache_hits=$hits cache_misses=$misses pages_read=$pages   index page cache"
say "  dedupe_ratio=$ratio           blocks written per block that would be stored"
say "  state=$state                 the index's health: ok, degraded or failed"
say "  scan=$scan $scanned/$to_scan     the scan: done, all its blocks"
say
say "The copy was all duplicates: $((advice - $(stat scan_duplicates))) of $((indexed - $(stat scan_blocks_posted))) blocks."
dmsetup remove demo || ddi_fail "remove the demo device"
say "Removed; the index was saved on $DDI_INDEX and opens again from there."
