# shellcheck shell=sh
# Boot 1 of 2: on fresh disks, write a data set through a new index and
# remove the device cleanly, which saves the index. Boot 2 finds every
# block again from the save.
# shellcheck source=scripts/vm/lib.sh
. /ddi/lib.sh

ddi_load
size=$(ddi_sectors "$DDI_DATA")
dev=/dev/mapper/ddi-reboot
table="0 $size dedup-index $DDI_DATA $DDI_INDEX 7 record_pages 16 chapters 128 zones 3 verify"

ddi_mark
dmsetup create ddi-reboot --table "$table" || ddi_fail "create on blank disks"
ddi_assert_log 'formatted a new index: 128 chapters of 16 record pages'
# 3000 new blocks, 1.5 chapters of 2032 records, and 1000 of them again.
ddi_random /tmp/set 3000
ddi_write /tmp/set $dev 100000
dd if=/tmp/set of=/tmp/part bs=4096 skip=2000 count=1000 2>/dev/null
ddi_write /tmp/part $dev 200000
ddi_expect ddi-reboot 4000 1000 1000 0 "3000 blocks and 1000 of them again"
[ "$entries" = 3000 ] || ddi_fail "$entries entries, not 3000"
ddi_mark
dmsetup remove ddi-reboot || ddi_fail "remove"
ddi_assert_log 'saved index state'
ddi_note_set blocks 3000
echo "3000 blocks indexed and saved"
