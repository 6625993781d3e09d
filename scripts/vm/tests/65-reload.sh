# shellcheck shell=sh
# Reload onto a copy of index_dev, 20 times under fio writes: each time the
# device is suspended, the index device is copied with dd to a second
# device, and a table naming the copy is loaded and resumed; the copies
# alternate. Every block written is indexed once, a set of blocks written
# before the first reload and the final contents of fio's region are all
# found again as duplicates afterwards, from the last copy alone (the other
# is wiped). Then a table naming a copy is loaded and cleared, never
# resumed: the index stays where it was and the copy is never used.
# The counters come from ddi_status in lib.sh.
# shellcheck disable=SC1091,SC2154,SC2015
. /ddi/lib.sh

ddi_load
ddi_need_fio
size=$(ddi_sectors "$DDI_DATA")
dev=/dev/mapper/ddi-reload
# Two index devices, the halves of index_dev's first 2 GiB.
part=$((256 * 2048))
dmsetup create ddi-rl-a --table "0 $part linear $DDI_INDEX 0" || ddi_fail "create copy a"
dmsetup create ddi-rl-b --table "0 $part linear $DDI_INDEX $((1024 * 2048))" ||
	ddi_fail "create copy b"
table() {
	echo "0 $size dedup-index $DDI_DATA /dev/mapper/ddi-rl-$1 4 record_pages 16 chapters 256"
}
other() {
	if [ "$1" = a ]; then echo b; else echo a; fi
}
reloads=20
runtime=60
ddi_quick && { reloads=6; runtime=20; }

ddi_blank_index /dev/mapper/ddi-rl-b
ddi_blank_index /dev/mapper/ddi-rl-a
ddi_mark
dmsetup create ddi-reload --table "$(table a)" || ddi_fail "create"
# Copy what the index occupies, not the whole device.
mib=$(ddi_log_since_mark | sed -n 's/.*formatted a new index: .*, \([0-9]*\) MiB$/\1/p')
[ -n "$mib" ] || ddi_fail "no size in the format message"
copy_mib=$((mib + 1))
# copy FROM TO: the index device as it is while the target is suspended,
# bypassing the page cache on both sides.
copy() {
	dd if=/dev/mapper/ddi-rl-"$1" of=/dev/mapper/ddi-rl-"$2" bs=1M count=$copy_mib \
		iflag=direct oflag=direct conv=notrunc,fsync 2>/dev/null ||
		ddi_fail "cannot copy index device $1 to $2"
}

# Blocks written before the first reload, to be found after the last.
ddi_random /tmp/early 1024
ddi_write /tmp/early $dev 131072
ddi_expect ddi-reload 1024 0 - - "the early blocks"

# fio rewrites its first 32 MiB over and over with new content, at a rate
# the index keeps up with, so that each table's posts are few seconds'.
fio --name=reload --filename=$dev --ioengine=libaio --direct=1 --rw=write \
	--bssplit=4k/50:16k/30:64k/20 --iodepth=4 --size=32M --refill_buffers \
	--randseed=6502 --rate=4m --time_based --runtime=$runtime \
	--output-format=terse >/tmp/fio.out 2>/tmp/fio.err &
fio=$!

# Counters of the tables replaced so far, each read once it is suspended.
before_indexed=0
before_advice=0
on=a
done_reloads=0
under_load=0
ddi_mark
while [ $done_reloads -lt $reloads ]; do
	sleep 1
	kill -0 $fio 2>/dev/null && under_load=$((under_load + 1))
	to=$(other "$on")
	dmsetup suspend ddi-reload || ddi_fail "suspend for reload $done_reloads"
	# Suspended: the old table's counters are final.
	ddi_status ddi-reload
	before_indexed=$((before_indexed + indexed))
	before_advice=$((before_advice + advice))
	copy "$on" "$to"
	dmsetup load ddi-reload --table "$(table "$to")" || ddi_fail "load onto copy $to"
	dmsetup resume ddi-reload || ddi_fail "resume onto copy $to"
	on=$to
	done_reloads=$((done_reloads + 1))
done
wait $fio || ddi_fail "fio failed: $(cat /tmp/fio.err)"
[ $under_load -ge $((reloads / 2)) ] ||
	ddi_fail "only $under_load of $reloads reloads were made under fio's writes"
moves=$(ddi_log_since_mark | grep -c 'index moved from')
[ "$moves" = $reloads ] || ddi_fail "$moves moves logged for $reloads reloads"
ddi_refute_log 'cannot|corrupt'

IFS=';' read -r _ _ _ _ error _ </tmp/fio.out
written_kb=$(cut -d';' -f47 /tmp/fio.out)
[ "$error" = 0 ] || ddi_fail "fio reports error $error"
[ -n "$written_kb" ] && [ "$written_kb" -gt 8192 ] ||
	ddi_fail "fio wrote too little: $(cat /tmp/fio.out)"
ddi_counters ddi-reload
[ $((before_indexed + indexed)) = $((1024 + written_kb / 4)) ] ||
	ddi_fail "1024 + $((written_kb / 4)) blocks written, $((before_indexed + indexed)) indexed"
[ "$(ddi_stat ddi-reload blocks_skipped)" = 0 ] || ddi_fail "blocks skipped"

# Only the last copy holds the index now: wipe the other one.
dd if=/dev/zero of=/dev/mapper/ddi-rl-"$(other "$on")" bs=1M count=$copy_mib oflag=direct \
	2>/dev/null || ddi_fail "cannot wipe the old copy"
total_advice=$((before_advice + advice))
ddi_write /tmp/early $dev 140000
ddi_counters ddi-reload
[ $((before_advice + advice)) = $((total_advice + 1024)) ] ||
	ddi_fail "$((before_advice + advice - total_advice)) of the 1024 early blocks found again"
# fio's region holds the last content of each block, all of it posted.
ddi_read $dev 0 8192 /tmp/region
total_advice=$((before_advice + advice))
ddi_write /tmp/region $dev 196608
ddi_counters ddi-reload
[ $((before_advice + advice)) = $((total_advice + 8192)) ] ||
	ddi_fail "$((before_advice + advice - total_advice)) of fio's 8192 blocks found again"

# A table loaded and never resumed changes nothing: the index does not
# move, and the copy it named is never used (wiped, it would lose names).
to=$(other "$on")
dmsetup suspend ddi-reload || ddi_fail "suspend for the load"
copy "$on" "$to"
dmsetup load ddi-reload --table "$(table "$to")" || ddi_fail "load onto copy $to"
dmsetup clear ddi-reload || ddi_fail "clear"
dmsetup resume ddi-reload || ddi_fail "resume after clear"
dd if=/dev/zero of=/dev/mapper/ddi-rl-"$to" bs=1M count=$copy_mib oflag=direct 2>/dev/null ||
	ddi_fail "cannot wipe the unused copy"
devnum=$(dmsetup info -c --noheadings -o major,minor --separator : ddi-rl-"$on")
dmsetup table ddi-reload | grep -q " $devnum " ||
	ddi_fail "the table changed: $(dmsetup table ddi-reload), not on $devnum"
moves=$(ddi_log_since_mark | grep -c 'index moved from')
[ "$moves" = $reloads ] || ddi_fail "a table never resumed moved the index"
total_advice=$((before_advice + advice))
ddi_write /tmp/early $dev 150000
ddi_counters ddi-reload
[ $((before_advice + advice)) = $((total_advice + 1024)) ] ||
	ddi_fail "after the cleared load, $((before_advice + advice - total_advice)) of 1024 found"

dmsetup remove ddi-reload || ddi_fail "remove"
dmsetup remove ddi-rl-a && dmsetup remove ddi-rl-b || ddi_fail "remove the copies"
echo "reload: $reloads reloads onto copies of a $mib MiB index ($under_load under fio's" \
	"$((written_kb / 4)) blocks); early and final blocks all found from the last copy"
