# shellcheck shell=sh
# The VM benchmark, run by scripts/vm-bench in one boot: fio writes of
# 4 KiB blocks through dm-linear and through dedup-index (default table
# options) on the same disks, sequential and random, with 1 and 8 jobs; then
# the share of known duplicates the index detects; and a scan of 512 MiB
# of the data disk next to fio reading the same 512 MiB sequentially.
# Prints "DDI-BENCH" lines for the host and asserts nothing about speed.
# shellcheck source=scripts/vm/lib.sh
. /ddi/lib.sh

ddi_load
ddi_need_fio
seconds=$(sed -n 's/.*ddi\.bench_seconds=\([0-9][0-9]*\).*/\1/p' /proc/cmdline)
[ -n "$seconds" ] || seconds=20
size=$(ddi_sectors "$DDI_DATA")
dev=/dev/mapper/ddi-bench

# make_dev linear|dedup-index: the device under test, over the same disks.
make_dev() {
	if [ "$1" = linear ]; then
		dmsetup create ddi-bench --table "0 $size linear $DDI_DATA 0"
	else
		dmsetup create ddi-bench --table "0 $size dedup-index $DDI_DATA $DDI_INDEX"
	fi || ddi_fail "create a $1 device"
}

# Writes through the device: each job its own 256 MiB of the data disk,
# written for $seconds after 2 s of warm-up; with psync (one write at a
# time per job) or libaio (32 in flight). fio's buffers are the same
# from run to run (its random seed is fixed); they are all distinct blocks.
run_fio() {
	target=$1 rw=$2 jobs=$3 engine=${4:-psync}
	depth=1
	[ "$engine" = psync ] || depth=32
	make_dev "$target"
	fio --name=bench --filename=$dev --ioengine="$engine" --iodepth=$depth --direct=1 \
		--rw="$rw" --bs=4k \
		--numjobs="$jobs" --size=256M --offset_increment=256M --time_based \
		--runtime="$seconds" --ramp_time=2 --group_reporting --output-format=terse \
		>/tmp/fio.out 2>/tmp/fio.err || ddi_fail "fio: $(cat /tmp/fio.err)"
	# Terse fields: 48 write KiB/s, 49 write IOPS.
	bw=$(cut -d';' -f48 /tmp/fio.out)
	iops=$(cut -d';' -f49 /tmp/fio.out)
	extra=
	if [ "$target" = dedup-index ]; then
		ddi_counters ddi-bench
		extra=" indexed=$indexed advice=$advice"
	fi
	dmsetup remove ddi-bench || ddi_fail "remove"
	echo "DDI-BENCH fio target=$target rw=$rw jobs=$jobs engine=$engine iops=$iops bw_kib=$bw$extra"
}

ddi_blank_index "$DDI_INDEX"
for rw in write randwrite; do
	for jobs in 1 8; do
		run_fio linear $rw $jobs
		run_fio dedup-index $rw $jobs
	done
done
# 4 KiB writes 32 at a time from one job.
run_fio linear write 1 libaio
run_fio dedup-index write 1 libaio

# Large writes one at a time, as dd of files does: 256 MiB of random data
# from RAM in 1 MiB direct writes, new to the index, then the same again
# elsewhere, all duplicates; through dm-linear, dedup-index, and
# dedup-index with verify, each on a blank index.
dd if=/dev/urandom of=/tmp/big bs=1M count=256 iflag=fullblock 2>/dev/null ||
	ddi_fail "make the large data set"
# elapsed SINCE: seconds since the /proc/uptime reading SINCE.
elapsed() {
	echo "$(cut -d' ' -f1 /proc/uptime) $1" | awk '{ printf "%.2f", $1 - $2 }'
}
run_dd() {
	name=$1 target=$2 options=$3
	if [ "$target" = linear ]; then
		dmsetup create ddi-bench --table "0 $size linear $DDI_DATA 0"
	else
		ddi_blank_index "$DDI_INDEX"
		dmsetup create ddi-bench --table "0 $size dedup-index $DDI_DATA $DDI_INDEX $options"
	fi || ddi_fail "create a $name device"
	for data in new duplicate; do
		seek=0
		[ $data = new ] || seek=512
		start=$(cut -d' ' -f1 /proc/uptime)
		dd if=/tmp/big of=$dev bs=1M seek=$seek oflag=direct conv=notrunc 2>/dev/null ||
			ddi_fail "dd to the $name device"
		took=$(elapsed "$start")
		extra=
		if [ "$target" = dedup-index ]; then
			ddi_counters ddi-bench
			extra=" indexed=$indexed advice=$advice verified=$verified"
		fi
		echo "DDI-BENCH dd target=$name data=$data mib=256 seconds=$took$extra"
	done
	dmsetup remove ddi-bench || ddi_fail "remove"
}
run_dd linear linear ""
run_dd dedup-index dedup-index ""
run_dd dedup-index-verify dedup-index "1 verify"
rm -f /tmp/big

# A known data set: 64 MiB of random blocks at 1 GiB, then the same
# copied through the device to 1.5 GiB: 16384 duplicates.
make_dev dedup-index
dd if=/dev/urandom of=$dev bs=1M count=64 seek=1024 iflag=fullblock oflag=direct \
	2>/dev/null || ddi_fail "write the data set"
dd if=$dev of=$dev bs=1M count=64 skip=1024 seek=1536 iflag=direct oflag=direct \
	2>/dev/null || ddi_fail "copy the data set"
ddi_counters ddi-bench
echo "DDI-BENCH known blocks=32768 duplicates=16384 indexed=$indexed advice=$advice"

# fio's own mix, half of its blocks repeating earlier ones.
fio --name=dedupe --filename=$dev --ioengine=psync --direct=1 --rw=write --bs=4k \
	--offset=1792M --size=64M --dedupe_percentage=50 --output-format=terse \
	>/tmp/fio.out 2>/tmp/fio.err || ddi_fail "fio: $(cat /tmp/fio.err)"
before_indexed=$indexed
before_advice=$advice
ddi_counters ddi-bench
echo "DDI-BENCH fio-dedupe percentage=50 indexed=$((indexed - before_indexed))" \
	"advice=$((advice - before_advice))"
echo "DDI-BENCH index $(dmsetup message ddi-bench 0 stats | grep -E '^(index_entries|chapters_written|volume_index_bytes)=' | tr '\n' ' ')"
dmsetup remove ddi-bench || ddi_fail "remove"

# The scan: fio reads 512 MiB of the data disk (written above) in 1 MiB
# direct reads, then a new index scans the same 512 MiB.
fio --name=seqread --filename="$DDI_DATA" --ioengine=psync --direct=1 --rw=read --bs=1M \
	--size=512M --output-format=terse >/tmp/fio.out 2>/tmp/fio.err ||
	ddi_fail "fio: $(cat /tmp/fio.err)"
# Terse field 7: read KiB/s.
read_kib=$(cut -d';' -f7 /tmp/fio.out)
ddi_blank_index "$DDI_INDEX"
make_dev dedup-index
ddi_mark
dmsetup message ddi-bench 0 scan 0 131072 || ddi_fail "scan message"
ddi_wait_scan ddi-bench "done" 600
scan_mib=$(ddi_log_since_mark | sed -n 's/.*scan done:.*, \([0-9]*\) MiB\/s.*/\1/p')
scan_posted=$(ddi_stat ddi-bench scan_blocks_posted)
scan_duplicates=$(ddi_stat ddi-bench scan_duplicates)
dmsetup remove ddi-bench || ddi_fail "remove"
# What hashing alone costs in this VM: block-names, the module's
# MurmurHash3 in user space, over the same 512 MiB (printing each name).
start=$(cut -d' ' -f1 /proc/uptime)
block-names "$DDI_DATA" 0 131072 >/dev/null || ddi_fail "block-names"
hash_mib=$(echo "$(cut -d' ' -f1 /proc/uptime) $start" | awk '{ printf "%.0f", 512 / ($1 - $2) }')
echo "DDI-BENCH scan mib=512 fio_read_kib=$read_kib scan_mib_s=$scan_mib hash_mib_s=$hash_mib" \
	"posted=$scan_posted duplicates=$scan_duplicates"
