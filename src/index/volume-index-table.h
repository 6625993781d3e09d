/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the volume index, shared by its table code and its save and load.
 *
 * Each zone is a two-choice cuckoo table of entries in buckets of sixteen.
 * An entry packs a 16-bit tag taken from the name's bytes 8..15 above the
 * low vcn_bits of its chapter number, entry_bits in all (27 for 1024
 * chapters); zero is an empty slot, and a bucket's entries fill its first
 * slots, so a search of it stops at the first empty one. Entries are
 * packed without gaps, the first in the low bits of a bucket's first
 * byte, so a bucket takes 2 x entry_bits bytes (54, within a cache line or
 * across two): at the planned load of 97% that is 3.5 bytes a record,
 * where 32-bit entries at 90% took 4.45. A name may live in its home
 * bucket or in the alternate one, which is computed from the tag and the
 * bucket alone so that an entry can be moved without knowing its name.
 *
 * An absent name is compared with the entries of its two buckets, 32 at
 * most, so it matches some other name's entry, a false hint that costs a
 * chapter search, with a chance below 32 / (2^16 - 1), 1 in 2048, when
 * the table is full.
 *
 * Chapter numbers are decoded against the zone's newest chapter. That is
 * exact while every entry is younger than 2^vcn_bits chapters, at least a
 * quarter more than the volume, so expired entries must go before they age
 * that far: besides being freed whenever a lookup or put meets them, a
 * cursor sweeps a few buckets each time the window moves on, enough to
 * cover the table before an expired entry could be mistaken for a live one.
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
	DDI_VI_TAG_BITS = 16,
	/*
	 * A slot is read and written as the 64 bits from its first byte, which
	 * for the last slots of the last bucket run past the table's end.
	 */
	DDI_VI_TABLE_PAD_BYTES = sizeof(u64),
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
	u8 *table;
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
	u32 entry_bits;
	u32 entry_mask;
	u32 bucket_bytes;
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

/* Bytes of a zone's buckets, without the padding after them. */
static inline size_t ddi_vi_table_bytes(const struct ddi_volume_index *vi)
{
	return (size_t)vi->bucket_count * vi->bucket_bytes;
}

static inline u8 *ddi_vi_bucket(const struct ddi_volume_index *vi,
				const struct ddi_vi_zone *zone, u32 bucket)
{
	return zone->table + (size_t)bucket * vi->bucket_bytes;
}

/*
 * Slot @slot of the bucket at @bucket. An entry is at most 32 bits and
 * starts at most 7 bits into its first byte, so one 64-bit access covers it.
 */
static inline u32 ddi_vi_slot_get(const struct ddi_volume_index *vi, const u8 *bucket,
				  unsigned int slot)
{
	unsigned int bit = slot * vi->entry_bits;

	return (get_unaligned_le64(bucket + bit / 8) >> (bit % 8)) & vi->entry_mask;
}

static inline void ddi_vi_slot_set(const struct ddi_volume_index *vi, u8 *bucket,
				   unsigned int slot, u32 entry)
{
	unsigned int bit = slot * vi->entry_bits;
	u8 *at = bucket + bit / 8;
	u64 word = get_unaligned_le64(at);

	word &= ~((u64)vi->entry_mask << (bit % 8));
	word |= (u64)entry << (bit % 8);
	put_unaligned_le64(word, at);
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

/* Pack a bucket's entries at its front, as every other change keeps them. */
void ddi_volume_index_compact_bucket(const struct ddi_volume_index *vi, u8 *slots);
/* Free the expired entries of a bucket; return its first free slot or -1. */
int ddi_volume_index_reclaim_bucket(const struct ddi_volume_index *vi, struct ddi_vi_zone *zone,
				    u32 bucket);
/* Clear a zone to hold nothing, for a window @oldest..@newest. */
void ddi_volume_index_zone_reset(const struct ddi_volume_index *vi, struct ddi_vi_zone *zone,
				 u64 oldest, u64 newest);

#endif /* DDI_VOLUME_INDEX_TABLE_H */
