# shellcheck shell=sh
# Boot 2 of 2: the index saved in boot 1 loads without a rebuild, and the
# data set read back from the data disk is all duplicates, all verified.
# shellcheck source=scripts/vm/lib.sh
. /ddi/lib.sh

ddi_load
size=$(ddi_sectors "$DDI_DATA")
dev=/dev/mapper/ddi-reboot
table="0 $size dedup-index $DDI_DATA $DDI_INDEX 7 record_pages 16 chapters 128 zones 3 verify"

blocks=$(ddi_note_get blocks)
[ "$blocks" = 3000 ] || ddi_fail "boot 1 left no note of its blocks: '$blocks'"
ddi_mark
dmsetup create ddi-reboot --table "$table" || ddi_fail "create after the reboot"
ddi_assert_log 'loaded index state from slot [01]: open chapter 1$'
ddi_refute_log 'rebuilding|formatted|cannot be loaded|damaged'
[ "$(ddi_stat ddi-reboot last_open)" = load ] || ddi_fail "stats do not say the open loaded"
ddi_status ddi-reboot
[ "$entries" = 3000 ] || ddi_fail "the loaded index has $entries entries, not 3000"

ddi_read "$DDI_DATA" 100000 3000 /tmp/set
ddi_write /tmp/set $dev 300000
ddi_expect ddi-reboot 3000 3000 3000 0 "the data set after a reboot"
dmsetup remove ddi-reboot || ddi_fail "remove"
echo "all 3000 blocks found again after a reboot"
