# shellcheck shell=sh
# Damage on the index device, made while no device uses it: a damaged save
# is passed over for an older one or a rebuild, a damaged chapter page
# costs exactly the names it holds, random damage never leads to wrong
# advice, and a damaged superblock is formatted over only when asked. Each
# case is reported in the kernel log; none upsets the kernel.
# shellcheck disable=SC1091
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
	line=$(dmesg | grep 'dm_dedup_index: saved index state' | tail -n 1)
	save_slot=${line##* }
	line=${line#*open chapter }
	save_open=${line%%,*}
}

# rebuilt: the numbers of the rebuild since the mark.
rebuilt() {
	line=$(ddi_log_since_mark | grep 'dm_dedup_index: rebuilt ') || ddi_fail "no rebuild"
	# shellcheck disable=SC2086
	set -- ${line#*rebuilt }
	rebuilt_records=$1 rebuilt_skipped=${6#(}
}

ddi_random /tmp/set 2000

# 1. The newest save is damaged: the other slot's is loaded (a removal
# saves twice, so it is as new). Then both are damaged: rebuilt from the
# chapters, and every record of a closed chapter is back.
fresh
newest_save
first_open=$save_open
dmsetup create ddi-dmg --table "$table" || ddi_fail "create"
ddi_random /tmp/more 700
ddi_write /tmp/more $dev 110000
dmsetup remove ddi-dmg || ddi_fail "remove"
newest_save
[ "$save_open" -gt "$first_open" ] || ddi_fail "700 more blocks closed no chapter"
flip $((1 + save_slot * slot_blocks + 1)) 100
recreate "a damaged save"
ddi_assert_log "save slot $save_slot cannot be loaded: its checksum does not match"
ddi_assert_log "loaded index state from slot $((1 - save_slot)): open chapter $save_open"
ddi_refute_log 'rebuilding'
ddi_write /tmp/set $dev 200000
ddi_write /tmp/more $dev 210000
ddi_expect ddi-dmg 2700 2700 2700 0 "all blocks after loading the older save"
dmsetup remove ddi-dmg || ddi_fail "remove"

flip $((1 + 1)) 100
flip $((1 + slot_blocks + 1)) 100
recreate "both saves damaged"
ddi_assert_log "save slot 0 cannot be loaded: its checksum does not match"
ddi_assert_log "save slot 1 cannot be loaded: its checksum does not match"
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

# 2. A record page of chapter 1 is damaged, the save is whole: the index
# loads, and exactly the names on that page are missed.
fresh
lost=$(le "$(page 1 "$index_pages")" 4088 2)
flip "$(page 1 "$index_pages")" 100
recreate "a damaged record page"
ddi_assert_log 'loaded index state from slot'
ddi_refute_log 'rebuilding'
ddi_write /tmp/set $dev 200000
ddi_expect ddi-dmg 2000 $((2000 - lost)) $((2000 - lost)) 0 "$lost names on a damaged record page"
ddi_assert_log 'corrupt or foreign record page'
[ "$(ddi_stat ddi-dmg corrupt_pages)" -gt 0 ] || ddi_fail "no corrupt page counted"
dmsetup remove ddi-dmg || ddi_fail "remove"
echo "2. damaged record page: its $lost names missed, the rest found"

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
ddi_assert_log "rebuild: chapter 1 record page 0 is damaged; its names are lost"
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

# And with both saves' states damaged too: a rebuild that skips the
# damaged chapter and takes the ones after it.
fresh
newest_save
flip "$(page 1 0)" 100
flip 2 100
flip $((2 + slot_blocks)) 100
recreate "damaged saves and index page"
ddi_assert_log "rebuilding index from chapters 0 to $((save_open - 1))\$"
ddi_assert_log 'rebuild: chapter 1 index is damaged; skipped'
rebuilt
[ "$rebuilt_skipped" = 1 ] || ddi_fail "not one chapter skipped: $line"
ddi_write /tmp/set $dev 200000
ddi_expect ddi-dmg 2000 "$rebuilt_records" "$rebuilt_records" 0 "a rebuild past a damaged chapter"
dmsetup remove ddi-dmg || ddi_fail "remove"
echo "4. damaged saves and index page: rebuilt $rebuilt_records from chapters 0 to $((save_open - 1)) but 1"

# And index pages of chapters 0 and 2, the saves whole: the quick search
# for the volume's ends is misled, a scan of every chapter is not, and the
# save loads; exactly the names listed on the two pages are missed.
fresh
lost=$(($(le "$(page 0 0)" 36 4) + $(le "$(page 2 0)" 36 4)))
flip "$(page 0 0)" 100
flip "$(page 2 0)" 100
recreate "chapters 0 and 2 damaged"
ddi_assert_log 'damaged chapters hide the volume.s boundaries: probing every chapter'
ddi_assert_log 'loaded index state from slot'
ddi_write /tmp/set $dev 200000
ddi_expect ddi-dmg 2000 $((2000 - lost)) $((2000 - lost)) 0 "$lost names on two damaged index pages"
dmsetup remove ddi-dmg || ddi_fail "remove"
echo "4. damaged index pages of chapters 0 and 2: their $lost names missed, the rest found"

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
# rnd N: a random number below N.
rnd() {
	echo $(($(od -An -tu4 -N4 /dev/urandom) % $1))
}
for places in "0 0 1 1 v v v" "0 v v v" "v v v"; do
	round=$((${round:-0} + 1))
	fresh
	newest_save
	chapter_blocks=$(((save_open + 1) * (index_pages + record_pages)))
	damage=
	for place in $places; do
		if [ $place = v ]; then
			block=$((volume + 1 + $(rnd $chapter_blocks)))
		else
			block=$((1 + place * slot_blocks + $(rnd 16)))
		fi
		offset=$(rnd 4080)
		damage="$damage $block:$offset"
		dd if="$I" of=/tmp/block bs=4096 skip=$block count=1 iflag=direct 2>/dev/null
		dd if=/dev/urandom of=/tmp/block bs=1 seek=$offset count=16 conv=notrunc 2>/dev/null
		dd if=/tmp/block of="$I" bs=4096 seek=$block oflag=direct conv=notrunc 2>/dev/null ||
			ddi_fail "cannot damage block $block"
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
