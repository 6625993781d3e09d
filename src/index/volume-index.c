// SPDX-License-Identifier: GPL-2.0-only
/*
 * The volume index: its sizing, its zones, and the moving window of live
 * chapters. The tables themselves are in volume-index-table.c.
 */

#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/log2.h>
#include <linux/math.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "table-alloc.h"
#include "volume-index-table.h"

struct vi_shape {
	u32 bucket_count;
	u32 collision_bucket_count;
	u32 vcn_bits;
	u32 entry_bits;
	u32 sweep_period;
	u64 memory_bytes;
};

/*
 * Size a zone from its share of the volume's records. Zones get their names
 * by hash, so a zone may see a few standard deviations more than its share:
 * plan a load of at most 97%, and at most 98.5% in the unlucky zone, which a
 * two-choice table of 16-slot buckets still fills without trouble (it
 * takes 99.5% before random walks of 128 moves start to fail; see the
 * KUnit case vi_full_table_counts_rejections).
 */
static int vi_shape(const struct ddi_geometry *geo, unsigned int zone_count,
		    struct vi_shape *shape)
{
	u32 chapters = geo->chapters_per_volume;
	u64 share, slots, expected, table_bytes;
	u32 collision_slots;

	if (zone_count == 0 || zone_count > DDI_VOLUME_INDEX_MAX_ZONES ||
	    chapters < DDI_MIN_CHAPTERS_PER_VOLUME || chapters > DDI_VOLUME_INDEX_MAX_CHAPTERS ||
	    geo->records_per_volume == 0)
		return -EINVAL;

	/*
	 * A quarter more than the volume's chapters at least, so expired
	 * entries can linger while the sweep comes round to them.
	 */
	shape->vcn_bits = order_base_2(chapters + chapters / 4 + 1);
	shape->entry_bits = shape->vcn_bits + DDI_VI_TAG_BITS;
	shape->sweep_period = (1U << shape->vcn_bits) - chapters;

	share = DIV_ROUND_UP_ULL(geo->records_per_volume, zone_count);
	slots = max(DIV_ROUND_UP_ULL(share * 100, 97),
		    DIV_ROUND_UP_ULL((share + 4 * int_sqrt64(share) + 32) * 1000, 985));
	slots = round_up(slots, DDI_VI_SLOTS_PER_BUCKET);
	shape->bucket_count = slots / DDI_VI_SLOTS_PER_BUCKET;
	table_bytes = (u64)shape->bucket_count * 2 * shape->entry_bits + DDI_VI_TABLE_PAD_BYTES;
	/* Keep each zone's table under 2 GiB: such a volume needs more zones. */
	if (table_bytes > INT_MAX)
		return -EINVAL;

	/*
	 * A new name meets another name's live entry with a chance of at most
	 * 32 slots in 2^DDI_VI_TAG_BITS; over a full window of puts that many
	 * names are expected to need the collision table. Leave it two thirds
	 * empty: a bucket of 8 then overflows with a chance of 1 in 400 (a
	 * Poisson mean of 2.7), and a name refused for that is only a
	 * duplicate missed, and counted.
	 */
	expected = (share * 2 * DDI_VI_SLOTS_PER_BUCKET) >> DDI_VI_TAG_BITS;
	collision_slots = round_up(max_t(u64, 64, 3 * expected), DDI_VI_COLLISION_SLOTS_PER_BUCKET);
	shape->collision_bucket_count = collision_slots / DDI_VI_COLLISION_SLOTS_PER_BUCKET;

	shape->memory_bytes =
		kmalloc_size_roundup(struct_size_t(struct ddi_volume_index, zones, zone_count)) +
		(u64)zone_count *
		(ddi_table_bytes(table_bytes) +
		 ddi_table_bytes(collision_slots * sizeof(struct ddi_vi_collision)) +
		 kmalloc_size_roundup(DDI_VI_MAX_KICKS * sizeof(struct ddi_vi_kick)));
	return 0;
}

/**
 * ddi_volume_index_memory_needed() - RAM an index of this shape would take.
 * @geo: the volume geometry.
 * @zone_count: zones the index would be split into.
 *
 * Return: the bytes ddi_volume_index_create() would allocate, or 0 if it
 * would refuse the shape.
 */
u64 ddi_volume_index_memory_needed(const struct ddi_geometry *geo, unsigned int zone_count)
{
	struct vi_shape shape;

	return vi_shape(geo, zone_count, &shape) ? 0 : shape.memory_bytes;
}

void ddi_volume_index_zone_reset(const struct ddi_volume_index *vi, struct ddi_vi_zone *zone,
				 u64 oldest, u64 newest)
{
	memset(zone->table, 0, ddi_vi_table_bytes(vi) + DDI_VI_TABLE_PAD_BYTES);
	/* All ones marks a collision slot empty: its vcn becomes DDI_VI_NO_VCN. */
	memset(zone->collision_table, 0xff,
	       ddi_vi_collision_slot_count(vi) * sizeof(struct ddi_vi_collision));
	zone->entries = 0;
	zone->collision_entries = 0;
	zone->oldest = oldest;
	zone->newest = newest;
	zone->sweep_cursor = 0;
	zone->sweep_debt = 0;
}

/**
 * ddi_volume_index_create() - Make an empty volume index.
 * @geo: the volume geometry; the index is sized for its records_per_volume.
 * @zone_count: independent zones to split the names over, 1 to 16.
 * @vi_ptr: set to the new index, whose window is chapter 0 alone.
 *
 * Return: 0; -EINVAL for a zone count or geometry the index cannot serve
 * (over DDI_VOLUME_INDEX_MAX_CHAPTERS chapters, or a zone table over 2 GiB);
 * -ENOMEM.
 */
int ddi_volume_index_create(const struct ddi_geometry *geo, unsigned int zone_count,
			    struct ddi_volume_index **vi_ptr)
{
	struct ddi_volume_index *vi;
	struct vi_shape shape;
	unsigned int z;
	int err;

	err = vi_shape(geo, zone_count, &shape);
	if (err)
		return err;
	vi = kzalloc(struct_size(vi, zones, zone_count), GFP_KERNEL);
	if (!vi)
		return -ENOMEM;
	vi->zone_count = zone_count;
	vi->chapters_per_volume = geo->chapters_per_volume;
	vi->records_per_volume = geo->records_per_volume;
	vi->bucket_count = shape.bucket_count;
	vi->collision_bucket_count = shape.collision_bucket_count;
	vi->vcn_bits = shape.vcn_bits;
	vi->tag_bits = DDI_VI_TAG_BITS;
	vi->entry_bits = shape.entry_bits;
	vi->entry_mask = (u32)GENMASK_ULL(shape.entry_bits - 1, 0);
	vi->bucket_bytes = DDI_VI_SLOTS_PER_BUCKET * shape.entry_bits / 8;
	vi->sweep_period = shape.sweep_period;
	vi->memory_bytes = shape.memory_bytes;

	for (z = 0; z < zone_count; z++) {
		struct ddi_vi_zone *zone = &vi->zones[z];

		zone->table = ddi_table_alloc(ddi_vi_table_bytes(vi) + DDI_VI_TABLE_PAD_BYTES);
		zone->collision_table = ddi_table_alloc_array(ddi_vi_collision_slot_count(vi),
							      sizeof(struct ddi_vi_collision));
		zone->kicks = kmalloc_array(DDI_VI_MAX_KICKS, sizeof(*zone->kicks), GFP_KERNEL);
		if (!zone->table || !zone->collision_table || !zone->kicks) {
			ddi_volume_index_free(vi);
			return -ENOMEM;
		}
		/* Any nonzero seed will do; differ per zone for no strong reason. */
		zone->rng = 0x2545f491U + z;
		ddi_volume_index_zone_reset(vi, zone, 0, 0);
	}
	*vi_ptr = vi;
	return 0;
}

/**
 * ddi_volume_index_free() - Free a volume index.
 * @vi: the index; may be NULL.
 */
void ddi_volume_index_free(struct ddi_volume_index *vi)
{
	unsigned int z;

	if (!vi)
		return;
	for (z = 0; z < vi->zone_count; z++) {
		kvfree(vi->zones[z].table);
		kvfree(vi->zones[z].collision_table);
		kfree(vi->zones[z].kicks);
	}
	kfree(vi);
}

/*
 * The window moved on by one chapter: sweep bucket_count / sweep_period
 * buckets, so the cursor passes every bucket while the window moves
 * sweep_period chapters. An entry that expired is then gone before the
 * newest chapter is 2^vcn_bits past it, when its age would wrap.
 */
static void vi_sweep_step(const struct ddi_volume_index *vi, struct ddi_vi_zone *zone)
{
	u32 rem;
	u64 visits;

	visits = div_u64_rem(zone->sweep_debt + vi->bucket_count, vi->sweep_period, &rem);
	zone->sweep_debt = rem;
	while (visits--) {
		ddi_volume_index_reclaim_bucket(vi, zone, zone->sweep_cursor);
		if (++zone->sweep_cursor == vi->bucket_count)
			zone->sweep_cursor = 0;
	}
}

/**
 * ddi_volume_index_set_window() - Move a zone's window of live chapters.
 * @vi: the index.
 * @zone: the zone; call on its thread.
 * @oldest_vcn: the oldest chapter still in the volume.
 * @newest_vcn: the newest chapter, the one being filled.
 *
 * Entries of chapters before @oldest_vcn are absent from now on; their
 * slots are freed as lookups and puts meet them, and by a sweep of a few
 * buckets per chapter the window moves. The window never moves back: an
 * older @newest_vcn is ignored and @oldest_vcn is raised to the current
 * oldest if lower, and to span at most the volume's chapters. A window that
 * leaves every entry behind empties the zone at once.
 */
void ddi_volume_index_set_window(struct ddi_volume_index *vi, unsigned int zone,
				 u64 oldest_vcn, u64 newest_vcn)
{
	struct ddi_vi_zone *z = &vi->zones[zone];
	u64 span = vi->chapters_per_volume - 1;

	if (newest_vcn < z->newest)
		return;
	oldest_vcn = min(oldest_vcn, newest_vcn);
	if (newest_vcn - oldest_vcn > span)
		oldest_vcn = newest_vcn - span;
	oldest_vcn = max(oldest_vcn, z->oldest);

	if (oldest_vcn > z->newest) {
		z->expired_reclaimed += z->entries + z->collision_entries;
		ddi_volume_index_zone_reset(vi, z, oldest_vcn, newest_vcn);
		return;
	}
	/*
	 * Step one chapter at a time, keeping the window no wider than the
	 * volume, so that every bucket swept is decoded against a newest
	 * chapter its expired entries cannot yet have wrapped around.
	 */
	while (z->oldest < oldest_vcn) {
		z->oldest++;
		z->newest = max(z->newest, min(newest_vcn, z->oldest + span));
		vi_sweep_step(vi, z);
	}
	z->newest = newest_vcn;
}

/**
 * ddi_volume_index_get_window() - A zone's window of live chapters.
 * @vi: the index.
 * @zone: the zone.
 * @oldest_vcn: set to its oldest live chapter.
 * @newest_vcn: set to its newest chapter.
 */
void ddi_volume_index_get_window(const struct ddi_volume_index *vi, unsigned int zone,
				 u64 *oldest_vcn, u64 *newest_vcn)
{
	*oldest_vcn = vi->zones[zone].oldest;
	*newest_vcn = vi->zones[zone].newest;
}

/**
 * ddi_volume_index_get_stats() - Sum the zones' counters.
 * @vi: the index.
 * @stats: filled in; approximate if zone threads are running.
 */
void ddi_volume_index_get_stats(const struct ddi_volume_index *vi,
				struct ddi_volume_index_stats *stats)
{
	unsigned int z;

	memset(stats, 0, sizeof(*stats));
	for (z = 0; z < vi->zone_count; z++) {
		const struct ddi_vi_zone *zone = &vi->zones[z];

		stats->entries += READ_ONCE(zone->entries);
		stats->collision_entries += READ_ONCE(zone->collision_entries);
		stats->expired_reclaimed += READ_ONCE(zone->expired_reclaimed);
		stats->collisions += READ_ONCE(zone->collisions);
		stats->full_rejections += READ_ONCE(zone->full_rejections);
	}
	stats->capacity = ddi_vi_slot_count(vi) * vi->zone_count;
	stats->memory_bytes = vi->memory_bytes;
}

/* KUnit only: entry points the tests use and the index does not. */
#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
/**
 * ddi_volume_index_memory_bytes() - RAM the index holds.
 * @vi: the index.
 *
 * Return: bytes allocated for the index, its tables included.
 */
u64 ddi_volume_index_memory_bytes(const struct ddi_volume_index *vi)
{
	return vi->memory_bytes;
}
#endif
