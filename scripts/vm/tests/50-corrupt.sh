# shellcheck shell=sh
# Damage on the index device, made while no device uses it: a damaged save
# is passed over for an older one or a rebuild, a damaged chapter page
# costs exactly the names it holds, random damage never leads to wrong
# advice, and a damaged superblock is formatted over only when asked. Each
# case is reported in the kernel log; none upsets the kernel.
# shellcheck source=scripts/vm/lib.sh
. /ddi/lib.sh

ddi_load
size=$(ddi_sectors "$DDI_DATA")
I=$DDI_INDEX
dev=/dev/mapper/ddi-dmg
table="0 $size dedup-index $DDI_DATA $I 7 record_pages 4 chapters 64 zones 2 verify"
record_pages=4

# le BLOCK OFFSET BYTES: the little-endian number at OFFSET in BLOCK of the
# index device.
le() {
	value=0
	bit=0
	for byte in $(dd if="$I" bs=4096 skip="$1" count=1 iflag=direct 2>/dev/null |
		      od -An -tu1 -j "$2" -N "$3"); do
		value=$((value + (byte << bit)))
		bit=$((bit + 8))
	done
	echo $value
}

# flip BLOCK OFFSET: invert one byte of the index device.
flip() {
	dd if="$I" of=/tmp/block bs=4096 skip="$1" count=1 iflag=direct 2>/dev/null
	old=$(od -An -tu1 -j "$2" -N 1 /tmp/block)
	# shellcheck disable=SC2059
	printf "\\$(printf %o $((old ^ 255)))" |
		dd of=/tmp/block bs=1 seek="$2" conv=notrunc 2>/dev/null
	dd if=/tmp/block of="$I" bs=4096 seek="$1" oflag=direct conv=notrunc 2>/dev/null ||
		ddi_fail "cannot damage block $1"
}

# magic BLOCK OFFSET: the 8 bytes at OFFSET of an index device block.
magic() {
	dd if="$I" bs=4096 skip="$1" count=1 iflag=direct 2>/dev/null |
		dd bs=1 skip="$2" count=8 2>/dev/null
}

# A fresh index holding the 2000 blocks of /tmp/set, removed (and so saved).
# Sets slot_blocks, volume (first block), index_pages (per chapter).
fresh() {
	ddi_blank_index "$I"
	dmsetup create ddi-dmg --table "$table" || ddi_fail "create a fresh index"
	ddi_write /tmp/set $dev 100000
	ddi_expect ddi-dmg 2000 0 0 0 "2000 new blocks"
	dmsetup remove ddi-dmg || ddi_fail "remove"
	slot_blocks=$(le 0 32 8)
	volume=$(le 0 40 8)
	index_pages=0
	while [ "$(magic $((volume + 1 + index_pages)) 0)" = DDICHIX1 ]; do
		index_pages=$((index_pages + 1))
	done
	[ "$index_pages" -gt 0 ] && [ "$(magic $((volume + 1 + index_pages)) 4064)" = DDIRECPG ] ||
		ddi_fail "no chapter 0 at block $((volume + 1)) ($index_pages index pages)"
}

# recreate WHAT: mark the log and make the device again over the damage.
recreate() {
	ddi_mark
	dmsetup create ddi-dmg --table "$table" || ddi_fail "create with $1"
}

# page CHAPTER PAGE: the block of a page of a physical chapter.
page() {
	echo $((volume + 1 + $1 * (index_pages + record_pages) + $2))
}

# The newest save's slot and open chapter, from the kernel log.
newest_save() {
	line=$(dmesg | grep "dm_dedup_index: $DDI_INDEX_NAME: saved index state" | tail -n 1)
	save_slot=${line##* }
	line=${line#*open chapter }
	save_open=${line%%,*}
}

# rebuilt: the numbers of the rebuild since the mark.
rebuilt() {
	line=$(ddi_log_since_mark | grep "dm_dedup_index: $DDI_INDEX_NAME: rebuilt ") || ddi_fail "no rebuild"
	# shellcheck disable=SC2086
	set -- ${line#*rebuilt }
	rebuilt_records=$1 rebuilt_skipped=${6#(}
}

ddi_random /tmp/set 2000

# 1. The newest save is damaged: the other slot's is loaded (saved right
# before the removal, so it is as new). Then both are damaged: rebuilt from the
# chapters, and every record of a closed chapter is back.
fresh
newest_save
first_open=$save_open
dmsetup create ddi-dmg --table "$table" || ddi_fail "create"
ddi_random /tmp/more 700
ddi_write /tmp/more $dev 110000
# A removal saves once: save first, so that both slots hold this state.
dmsetup message ddi-dmg 0 save || ddi_fail "save"
dmsetup remove ddi-dmg || ddi_fail "remove"
newest_save
[ "$save_open" -gt "$first_open" ] || ddi_fail "700 more blocks closed no chapter"
flip $((1 + save_slot * slot_blocks + 1)) 100
recreate "a damaged save"
ddi_assert_log "save slot $save_slot cannot be loaded: (its checksum does not match|the [a-z ]+ is damaged)"
ddi_assert_log "loaded index state from slot $((1 - save_slot)): open chapter $save_open"
ddi_refute_log 'rebuilding'
ddi_write /tmp/set $dev 200000
ddi_write /tmp/more $dev 210000
ddi_expect ddi-dmg 2700 2700 2700 0 "all blocks after loading the older save"
dmsetup remove ddi-dmg || ddi_fail "remove"

flip $((1 + 1)) 100
flip $((1 + slot_blocks + 1)) 100
recreate "both saves damaged"
ddi_assert_log "save slot 0 cannot be loaded: (its checksum does not match|the [a-z ]+ is damaged)"
ddi_assert_log "save slot 1 cannot be loaded: (its checksum does not match|the [a-z ]+ is damaged)"
ddi_assert_log 'rebuilding index from chapters 0 to '
ddi_refute_log 'loaded index state'
rebuilt
# Every name was in a chapter closed before these saves (and the ones
# written again since in newer chapters too): all 2700 are back.
ddi_status ddi-dmg
[ "$entries" = 2700 ] || ddi_fail "$entries entries after the rebuild, not 2700"
ddi_write /tmp/set $dev 220000
ddi_expect ddi-dmg 2000 2000 2000 0 "the data set after a rebuild"
dmsetup remove ddi-dmg || ddi_fail "remove"
echo "1. damaged newest save: older one loaded; both damaged: rebuilt $rebuilt_records records"

# 2. A record page of chapter 1 is damaged, and the last record page of
# the newest closed chapter, the save is whole: the index loads (a damaged
# newest chapter is no sign of a stale save), and exactly the names on
# those pages are missed.
fresh
newest_save
newest=$((save_open - 1))
lost=$(le "$(page 1 "$index_pages")" 4088 2)
flip "$(page 1 "$index_pages")" 100
if [ $newest -gt 1 ]; then
	last=$((index_pages + record_pages - 1))
	lost=$((lost + $(le "$(page $newest $last)" 4088 2)))
	flip "$(page $newest $last)" 100
fi
recreate "damaged record pages"
ddi_assert_log 'loaded index state from slot'
ddi_refute_log 'rebuilding|is stale'
ddi_write /tmp/set $dev 200000
ddi_expect ddi-dmg 2000 $((2000 - lost)) $((2000 - lost)) 0 "$lost names on damaged record pages"
ddi_assert_log 'corrupt or foreign record page'
[ "$(ddi_stat ddi-dmg corrupt_pages)" -gt 0 ] || ddi_fail "no corrupt page counted"
ddi_status ddi-dmg
[ "$state" = degraded ] || ddi_fail "state $state with damaged pages, not degraded"
dmsetup remove ddi-dmg || ddi_fail "remove"
echo "2. damaged record pages of chapters 1 and $newest: their $lost names missed, the rest found"

# 3. Both saves and the same record page damaged: the rebuild passes over
# the page, and exactly what it rebuilt is found.
fresh
lost=$(le "$(page 1 "$index_pages")" 4088 2)
flip "$(page 1 "$index_pages")" 100
flip 1 20
flip $((1 + slot_blocks)) 20
recreate "damaged saves"
ddi_assert_log 'save slot 0 is damaged'
ddi_assert_log 'save slot 1 is damaged'
ddi_assert_log "rebuild: chapter 1: 0 of $index_pages index pages and 1 of $record_pages record pages damaged"
rebuilt
[ "$rebuilt_skipped" = 0 ] || ddi_fail "chapters skipped: $line"
[ $((rebuilt_records + lost)) -le 2000 ] || ddi_fail "$rebuilt_records records rebuilt"
ddi_write /tmp/set $dev 200000
ddi_expect ddi-dmg 2000 "$rebuilt_records" "$rebuilt_records" 0 "a rebuild past a damaged page"
dmsetup remove ddi-dmg || ddi_fail "remove"
echo "3. damaged saves and record page: rebuilt $rebuilt_records, $lost lost"

# 4. An index page of chapter 1 damaged, the saves whole: the index loads
# (the damaged chapter must not pass for the end of the volume), and
# exactly the names listed on that page are missed.
fresh
lost=$(le "$(page 1 0)" 36 4)
flip "$(page 1 0)" 100
recreate "a damaged index page"
ddi_assert_log 'loaded index state from slot'
ddi_refute_log 'rebuilding|is stale'
ddi_write /tmp/set $dev 200000
ddi_expect ddi-dmg 2000 $((2000 - lost)) $((2000 - lost)) 0 "$lost names on a damaged index page"
# (The kernel's warning about it may be rate limited after case 2.)
[ "$(ddi_stat ddi-dmg corrupt_pages)" -gt 0 ] || ddi_fail "no corrupt page counted"
dmsetup remove ddi-dmg || ddi_fail "remove"
echo "4. damaged index page: its $lost names missed, the rest found"

# And with both saves' states damaged too, and the oldest chapter lost
# whole: a rebuild of every chapter the volume should hold, chapter 0
# counted as skipped, chapter 1 taken whole: its damaged index page is
# made again from its record pages, on disk too (the next open loads the
# save made at removal and must still find every name).
fresh
newest_save
lost=$(le "$(page 1 0)" 36 4)
flip "$(page 1 0)" 100
dd if=/dev/zero of="$I" bs=4096 seek="$(page 0 0)" count=$((index_pages + record_pages)) \
	oflag=direct conv=notrunc 2>/dev/null || ddi_fail "cannot zero chapter 0"
flip 2 100
flip $((2 + slot_blocks)) 100
recreate "damaged saves, chapter 0 and an index page of chapter 1"
ddi_assert_log "rebuilding index from chapters 0 to $((save_open - 1))\$"
ddi_assert_log 'rebuild: chapter 0 has no intact page; skipped'
ddi_assert_log "rebuild: chapter 1: 1 of $index_pages index pages and 0 of $record_pages record pages damaged, 1 repaired"
ddi_assert_log 'rebuild: chapter 1 index pages 0 to 0 repaired from its record pages'
rebuilt
[ "$rebuilt_skipped" = 1 ] || ddi_fail "not one chapter skipped: $line"
[ "$(ddi_stat ddi-dmg repaired_pages)" = 1 ] || ddi_fail "repaired_pages is not 1"
ddi_write /tmp/set $dev 200000
ddi_expect ddi-dmg 2000 "$rebuilt_records" "$rebuilt_records" 0 \
	"a rebuild past a lost chapter and a repaired index page"
dmsetup remove ddi-dmg || ddi_fail "remove"
recreate "a repaired index page"
ddi_assert_log 'loaded index state from slot'
ddi_write /tmp/set $dev 300000
ddi_expect ddi-dmg 2000 2000 2000 0 "the data set, after the repaired page was written"
[ "$(ddi_stat ddi-dmg corrupt_pages)" = 0 ] || ddi_fail "the repaired page was not written"
dmsetup remove ddi-dmg || ddi_fail "remove"
echo "4. damaged saves, chapter 0 lost, index page of chapter 1: rebuilt $rebuilt_records from chapters 0 to $((save_open - 1)), chapter 0 skipped, $lost names of a repaired index page found"

# And index page 0 of every chapter, the saves whole: every chapter is
# still there (its other pages are intact), the save loads, and exactly
# the names listed on the damaged pages are missed.
fresh
newest_save
lost=0
chapter=0
while [ $chapter -lt "$save_open" ]; do
	lost=$((lost + $(le "$(page $chapter 0)" 36 4)))
	flip "$(page $chapter 0)" 100
	chapter=$((chapter + 1))
done
recreate "an index page of every chapter damaged"
ddi_assert_log 'loaded index state from slot'
ddi_refute_log 'rebuilding|is stale|probing every chapter|too many'
ddi_write /tmp/set $dev 200000
ddi_expect ddi-dmg 2000 $((2000 - lost)) $((2000 - lost)) 0 "$lost names on $save_open damaged index pages"
dmsetup remove ddi-dmg || ddi_fail "remove"
echo "4. index page 0 of each of $save_open chapters damaged: their $lost names missed, the rest found"

# 5. A damaged superblock is refused, and formatted over with format.
fresh
flip 0 20
ddi_mark
dmsetup create ddi-dmg --table "$table" && ddi_fail "a damaged superblock was accepted"
ddi_assert_log 'index_dev has a damaged or unknown superblock'
dmsetup create ddi-dmg --table "${table%% 7 *} 8 ${table#* 7 } format" ||
	ddi_fail "create with format"
ddi_assert_log 'formatted a new index'
ddi_write /tmp/set $dev 200000
ddi_expect ddi-dmg 2000 0 0 0 "the data set on a new index"
dmsetup remove ddi-dmg || ddi_fail "remove"
echo "5. damaged superblock: refused, then formatted over"

# 6. A few random bytes at random places of the chapters written and of
# both save slots, one or none: whatever loads or is rebuilt, no advice is
# wrong.
# garble BLOCK OFFSET: overwrite 16 bytes of a block with seeded noise.
garble() {
	dd if="$I" of=/tmp/block bs=4096 skip="$1" count=1 iflag=direct 2>/dev/null
	noise=
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16; do
		ddi_rand 256
		# shellcheck disable=SC2154
		noise="$noise\\$(printf %o "$rand")"
	done
	# shellcheck disable=SC2059
	printf "$noise" | dd of=/tmp/block bs=1 seek="$2" conv=notrunc 2>/dev/null
	dd if=/tmp/block of="$I" bs=4096 seek="$1" oflag=direct conv=notrunc 2>/dev/null ||
		ddi_fail "cannot damage block $1"
}
for places in "0 0 1 1 v v v" "0 v v v" "v v v"; do
	round=$((${round:-0} + 1))
	fresh
	newest_save
	chapter_blocks=$(((save_open + 1) * (index_pages + record_pages)))
	damage=
	for place in $places; do
		if [ "$place" = v ]; then
			ddi_rand "$chapter_blocks"
			block=$((volume + 1 + rand))
		else
			ddi_rand 16
			block=$((1 + place * slot_blocks + rand))
		fi
		ddi_rand 4080
		offset=$rand
		damage="$damage $block:$offset"
		garble "$block" "$offset"
	done
	ddi_mark
	dmsetup create ddi-dmg --table "$table" ||
		ddi_fail "round $round: refused after random damage at$damage"
	ddi_log_since_mark | grep -qE 'loaded index state|rebuilt ' ||
		ddi_fail "round $round: neither loaded nor rebuilt"
	ddi_write /tmp/set $dev 200000
	ddi_expect ddi-dmg 2000 - - 0 "round $round of random damage at$damage"
	[ "$verified" = "$advice" ] || ddi_fail "round $round: advice $advice, verified $verified"
	how=$(ddi_log_since_mark | grep -oE 'loaded index state|rebuilt [0-9]+ records' | head -n 1)
	dmsetup remove ddi-dmg || ddi_fail "remove"
	echo "6.$round. random damage at$damage: $how, $advice of 2000 found"
done
