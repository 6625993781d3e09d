/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the volume index, shared by its table code and its save and load.
 *
 * Each zone is a two-choice cuckoo table of 32-bit entries in buckets of
 * sixteen (one cache line). An entry packs a tag taken from the name's
 * bytes 8..15 above the low vcn_bits of its chapter number; zero is an empty
 * slot. A name may live in its home bucket or in the alternate one, which is
 * computed from the tag and the bucket alone so that an entry can be moved
 * without knowing its name.
 *
 * Chapter numbers are decoded against the zone's newest chapter. That is
 * exact while every entry is younger than 2^vcn_bits chapters, twice the
 * volume, so expired entries must go before they age that far: besides being
 * freed whenever a lookup or put meets them, a cursor sweeps a few buckets
 * each time the window moves on, enough to cover the table before an expired
 * entry could be mistaken for a live one.
 *
 * Two names can share a tag and buckets. When a put follows a hint that its
 * chapter denied, the name is kept whole in a small per-zone collision table
 * so that neither name loses its entry.
 */
#ifndef DDI_VOLUME_INDEX_TABLE_H
#define DDI_VOLUME_INDEX_TABLE_H

#include <linux/cache.h>
#include <linux/unaligned.h>

#include "volume-index.h"

enum {
	DDI_VI_SLOTS_PER_BUCKET = 16,
	DDI_VI_COLLISION_SLOTS_PER_BUCKET = 8,
	/* Displacements tried before a put gives up with -ENOSPC. */
	DDI_VI_MAX_KICKS = 128,
};

/* The vcn of an empty collision slot; puts never use it. */
#define DDI_VI_NO_VCN U64_MAX

struct ddi_vi_collision {
	struct ddi_name name;
	u64 vcn;
};

struct ddi_vi_kick {
	u32 bucket;
	u32 slot;
};

/* One zone; cache aligned because each belongs to a different thread. */
struct ddi_vi_zone {
	u32 *slots;
	struct ddi_vi_collision *collision_table;
	/* The displacement chain of the put in progress, to undo it on failure. */
	struct ddi_vi_kick *kicks;
	u64 oldest;
	u64 newest;
	/* Sweep work owed, in units of 1 / sweep_period of a bucket. */
	u64 sweep_debt;
	u32 sweep_cursor;
	u32 rng;
	u64 entries;
	u32 collision_entries;
	u64 expired_reclaimed;
	u64 collisions;
	u64 full_rejections;
} ____cacheline_aligned_in_smp;

struct ddi_volume_index {
	u32 zone_count;
	u32 chapters_per_volume;
	u64 records_per_volume;
	u32 bucket_count;
	u32 collision_bucket_count;
	u32 vcn_bits;
	u32 tag_bits;
	/* Chapters the window may advance while the sweep covers the table once. */
	u32 sweep_period;
	u64 memory_bytes;
	struct ddi_vi_zone zones[] __counted_by(zone_count);
};

static inline u64 ddi_vi_slot_count(const struct ddi_volume_index *vi)
{
	return (u64)vi->bucket_count * DDI_VI_SLOTS_PER_BUCKET;
}

static inline u32 ddi_vi_collision_slot_count(const struct ddi_volume_index *vi)
{
	return vi->collision_bucket_count * DDI_VI_COLLISION_SLOTS_PER_BUCKET;
}

static inline u32 *ddi_vi_bucket(const struct ddi_volume_index *vi,
				 struct ddi_vi_zone *zone, u32 bucket)
{
	return zone->slots + (size_t)bucket * DDI_VI_SLOTS_PER_BUCKET;
}

/* How many chapters before the zone's newest the entry's chapter is. */
static inline u64 ddi_vi_entry_age(const struct ddi_volume_index *vi,
				   const struct ddi_vi_zone *zone, u32 entry)
{
	return (zone->newest - entry) & ((1U << vi->vcn_bits) - 1);
}

static inline bool ddi_vi_entry_expired(const struct ddi_volume_index *vi,
					const struct ddi_vi_zone *zone, u32 entry)
{
	return ddi_vi_entry_age(vi, zone, entry) > zone->newest - zone->oldest;
}

static inline bool ddi_vi_collision_live(const struct ddi_vi_zone *zone,
					 const struct ddi_vi_collision *c)
{
	return c->vcn != DDI_VI_NO_VCN && c->vcn >= zone->oldest && c->vcn <= zone->newest;
}

/* Free the expired entries of a bucket; return its first free slot or NULL. */
u32 *ddi_volume_index_reclaim_bucket(const struct ddi_volume_index *vi, struct ddi_vi_zone *zone,
				     u32 bucket);
/* Clear a zone to hold nothing, for a window @oldest..@newest. */
void ddi_volume_index_zone_reset(const struct ddi_volume_index *vi, struct ddi_vi_zone *zone,
				 u64 oldest, u64 newest);

#endif /* DDI_VOLUME_INDEX_TABLE_H */
