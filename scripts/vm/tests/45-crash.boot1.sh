# shellcheck shell=sh
# Boot 1 of 2: write a data set and save the index, then go on writing
# until more chapters are closed, and crash with writes in flight. Boot 2
# must rebuild the index from the chapters on disk.
# shellcheck source=scripts/vm/lib.sh
. /ddi/lib.sh

ddi_load
size=$(ddi_sectors "$DDI_DATA")
dev=/dev/mapper/ddi-crash
# One zone: every closed chapter is full, 4 x 127 records. The writers below
# write 1 GiB at most, less than 1024 chapters hold: the volume cannot wrap.
table="0 $size dedup-index $DDI_DATA $DDI_INDEX 6 record_pages 4 chapters 1024 zones 1"

dmsetup create ddi-crash --table "$table" || ddi_fail "create on blank disks"
# The data set: 1200 blocks, in chapters 0 to 2.
ddi_random /tmp/set 1200
ddi_write /tmp/set $dev 100000
# Waits for every post to be answered, then saves.
dmsetup message ddi-crash 0 save || ddi_fail "save message"
open=$(ddi_stat ddi-crash open_chapter)
[ "$open" = 2 ] || ddi_fail "1200 records leave chapter $open open, not 2"

# Four writers of random data, each far more than it gets to write before
# the crash; writer i from block i * 65536.
pids=
for i in 1 2 3 4; do
	ddi_random_stream "writer $i" 65536 |
		dd of=$dev bs=64k seek=$((i * 4096)) count=4096 iflag=fullblock oflag=direct \
		conv=notrunc 2>/dev/null &
	pids="$pids $!"
done
# Wait until the data set's last chapter and one more are on disk.
tries=0
while written=$(ddi_stat ddi-crash chapters_written) && [ "$written" -lt $((open + 2)) ]; do
	tries=$((tries + 1))
	[ $tries -lt 600 ] || ddi_fail "only $written chapters written after 120 s"
	sleep 0.2
done
for pid in $pids; do
	kill -0 "$pid" 2>/dev/null || ddi_fail "writer $pid ended before the crash"
done
ddi_note_set set_blocks 1200
ddi_note_set written "$written"
echo "crashing with $written chapters written and four writers running"
ddi_crash
