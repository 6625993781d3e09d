# shellcheck shell=sh
# Boot 1 of 2: a data set on the data disk, a scan of it slowed to 2 MiB/s,
# saved by the scan itself at every tenth; once three tenths are scanned,
# the scan is stopped (not saved), new writes close chapters past the last
# save, which makes it stale, and the machine crashes. Boot 2 must rebuild
# the index and go on with the scan from that save.
# shellcheck source=scripts/vm/lib.sh
. /ddi/lib.sh

ddi_load
size=$(ddi_sectors "$DDI_DATA")
dev=/dev/mapper/ddi-scan
# Chapters of 254 records, in one zone.
table="0 $size dedup-index $DDI_DATA $DDI_INDEX 8 record_pages 2 chapters 64 zones 1 scan_rate 2"

ddi_scan_fill
ddi_blank_index "$DDI_INDEX"
ddi_mark
dmsetup create ddi-scan --table "$table" || ddi_fail "create on a blank index"
dmsetup message ddi-scan 0 scan $DDI_SCAN_AT $DDI_SCAN_BLOCKS || ddi_fail "scan message"
ddi_status ddi-scan
while [ "$scanned" -lt 1280 ]; do
	[ "$scan" = running ] || ddi_fail "the scan is $scan at $scanned blocks"
	sleep 0.2
	ddi_status ddi-scan
done
dmsetup message ddi-scan 0 scan stop || ddi_fail "scan stop"
ddi_status ddi-scan
stopped=$scanned
saves=$(ddi_log_since_mark | grep -c "dm_dedup_index: $DDI_INDEX_NAME: saved index state")
[ "$saves" -ge 3 ] || ddi_fail "the scan saved the index $saves times by three tenths, not 3"
# 600 new blocks far from the data set: two chapters and more.
written=$(ddi_stat ddi-scan chapters_written)
ddi_random /tmp/more 600
ddi_write /tmp/more $dev 300000
tries=0
while [ "$(ddi_stat ddi-scan chapters_written)" -lt $((written + 2)) ]; do
	tries=$((tries + 1))
	[ $tries -lt 300 ] || ddi_fail "600 new blocks closed no two chapters in 60 s"
	sleep 0.2
done
ddi_note_set stopped "$stopped"
echo "crashing with the scan stopped at $stopped of $DDI_SCAN_BLOCKS blocks, $saves saves made"
ddi_crash
