// SPDX-License-Identifier: GPL-2.0-only
/*
 * The volume index tables: where a name goes, and its lookups and puts.
 * The layout is described in volume-index-table.h.
 */

#include <linux/errno.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/string.h>

#include "stat-counter.h"
#include "volume-index-table.h"

/* Odd multipliers that spread every input bit into the high half. */
#define VI_NAME_MIX 0x9e3779b97f4a7c15ULL
#define VI_TAG_MIX 0x85ebca6bU

/**
 * ddi_volume_index_zone() - The zone that owns a name.
 * @vi: the index.
 * @name: the record name.
 *
 * Bytes 12..15 of the name, little-endian, modulo the zone count. The table
 * position comes from bytes 8..15 mixed together, and the chapter index uses
 * bytes 0..7, so none of the three choices constrains another.
 *
 * Return: the zone, below the zone count.
 */
u32 ddi_volume_index_zone(const struct ddi_volume_index *vi, const struct ddi_name *name)
{
	return ddi_volume_index_zone_of(name, vi->zone_count);
}

/**
 * ddi_volume_index_zone_of() - The zone of a name among @zone_count zones.
 * @name: the record name.
 * @zone_count: the number of zones.
 *
 * The same choice as ddi_volume_index_zone(), for state saved under one
 * zone count and loaded under another.
 *
 * Return: the zone, below @zone_count.
 */
u32 ddi_volume_index_zone_of(const struct ddi_name *name, unsigned int zone_count)
{
	return get_unaligned_le32(name->bytes + 12) % zone_count;
}

static struct ddi_vi_zone *vi_zone_of(struct ddi_volume_index *vi, const struct ddi_name *name)
{
	return &vi->zones[ddi_volume_index_zone(vi, name)];
}

/*
 * Home bucket and tag from bytes 8..15. The product's halves are independent
 * and each depends on all 64 bits, so neither is tied to the zone. Tags run
 * from 1 so that no entry is zero, the empty slot.
 */
static void vi_hash(const struct ddi_volume_index *vi, const struct ddi_name *name,
		    u32 *bucket, u32 *tag)
{
	u64 h = get_unaligned_le64(name->bytes + 8) * VI_NAME_MIX;
	u32 hi = h >> 32;
	u32 lo = (u32)h ^ hi;

	*bucket = mul_u32_u32(hi, vi->bucket_count) >> 32;
	*tag = (mul_u32_u32(lo, (1U << vi->tag_bits) - 1) >> 32) + 1;
}

/*
 * The other bucket an entry may live in: (H(tag) - bucket) mod buckets, which
 * maps each of the pair to the other, so it needs only what the slot holds.
 */
static u32 vi_alt_bucket(const struct ddi_volume_index *vi, u32 bucket, u32 tag)
{
	u32 h = mul_u32_u32(tag * VI_TAG_MIX, vi->bucket_count) >> 32;

	return h >= bucket ? h - bucket : h + vi->bucket_count - bucket;
}

static u32 vi_entry(const struct ddi_volume_index *vi, u32 tag, u64 vcn)
{
	return (tag << vi->vcn_bits) | ((u32)vcn & ((1U << vi->vcn_bits) - 1));
}

/*
 * Empty slot @i of a bucket, keeping its entries packed at the front: the
 * bucket's last entry, if it is not @i's own, moves into @i. Slot @i then
 * holds an entry not yet looked at, or none.
 */
static void vi_bucket_clear(const struct ddi_volume_index *vi, u8 *slots, int i)
{
	int last = i;

	while (last + 1 < DDI_VI_SLOTS_PER_BUCKET && ddi_vi_slot_get(vi, slots, last + 1))
		last++;
	ddi_vi_slot_set(vi, slots, i, last == i ? 0 : ddi_vi_slot_get(vi, slots, last));
	if (last != i)
		ddi_vi_slot_set(vi, slots, last, 0);
}

/**
 * ddi_volume_index_compact_bucket() - Pack a bucket's entries at its front.
 * @vi: the index.
 * @slots: the bucket's bytes.
 *
 * For a bucket loaded from a save, which an older version may have left
 * with gaps; every other change keeps buckets packed.
 */
void ddi_volume_index_compact_bucket(const struct ddi_volume_index *vi, u8 *slots)
{
	int i, next = 0;

	for (i = 0; i < DDI_VI_SLOTS_PER_BUCKET; i++) {
		u32 entry = ddi_vi_slot_get(vi, slots, i);

		if (!entry)
			continue;
		if (i != next) {
			ddi_vi_slot_set(vi, slots, next, entry);
			ddi_vi_slot_set(vi, slots, i, 0);
		}
		next++;
	}
}

int ddi_volume_index_reclaim_bucket(const struct ddi_volume_index *vi, struct ddi_vi_zone *zone,
				    u32 bucket)
{
	u8 *slots = ddi_vi_bucket(vi, zone, bucket);
	int i = 0;

	while (i < DDI_VI_SLOTS_PER_BUCKET) {
		u32 entry = ddi_vi_slot_get(vi, slots, i);

		/* Entries are packed: the first empty slot ends them. */
		if (!entry)
			return i;
		if (ddi_vi_entry_expired(vi, zone, entry)) {
			vi_bucket_clear(vi, slots, i);
			ddi_stat_add(zone->entries, -1);
			ddi_stat_add(zone->expired_reclaimed, 1);
			continue;
		}
		i++;
	}
	return -1;
}

/* A slot of a zone's table: its bucket's bytes and its number there. */
struct vi_slot {
	u8 *bucket;
	int slot;
};

/*
 * Find the live entry tagged @tag in a name's two buckets and return it (0
 * if none), with *@found where it is. An expired entry with the tag is
 * freed on the way. With @free, and no live entry, *@free is a free slot
 * of the two buckets, or has a NULL bucket if both are full.
 *
 * A bucket's entries are packed at its front (vi_bucket_clear()), so the
 * scan of a bucket stops at its first empty slot: a lookup of a new name
 * in a table still filling reads a few slots rather than 32. Under TCG,
 * reading all 32, and checking each one's age, made this the busiest
 * function of a run of new names. Ages are checked only for a tag that
 * matches; a put that finds both buckets full frees their expired entries
 * in a second pass.
 */
static u32 vi_find(const struct ddi_volume_index *vi, struct ddi_vi_zone *zone,
		   u32 home, u32 tag, struct vi_slot *found, struct vi_slot *free)
{
	u32 buckets[2] = { home, vi_alt_bucket(vi, home, tag) };
	int count = buckets[0] == buckets[1] ? 1 : 2;
	struct vi_slot empty = { NULL };
	int b, i;

	for (b = 0; b < count; b++) {
		u8 *slots = ddi_vi_bucket(vi, zone, buckets[b]);

		i = 0;
		while (i < DDI_VI_SLOTS_PER_BUCKET) {
			u32 entry = ddi_vi_slot_get(vi, slots, i);

			if (!entry) {
				if (!empty.bucket) {
					empty.bucket = slots;
					empty.slot = i;
				}
				break;
			}
			if (entry >> vi->vcn_bits == tag) {
				if (!ddi_vi_entry_expired(vi, zone, entry)) {
					found->bucket = slots;
					found->slot = i;
					return entry;
				}
				vi_bucket_clear(vi, slots, i);
				ddi_stat_add(zone->entries, -1);
				ddi_stat_add(zone->expired_reclaimed, 1);
				continue;
			}
			i++;
		}
	}
	if (!free)
		return 0;
	*free = empty;
	for (b = 0; b < count && !free->bucket; b++) {
		i = ddi_volume_index_reclaim_bucket(vi, zone, buckets[b]);
		if (i >= 0) {
			free->bucket = ddi_vi_bucket(vi, zone, buckets[b]);
			free->slot = i;
		}
	}
	return 0;
}

static u32 vi_random(struct ddi_vi_zone *zone)
{
	u32 x = zone->rng;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	zone->rng = x;
	return x;
}

/* Put @entry in a slot and return the entry it held. */
static u32 vi_swap_slot(const struct ddi_volume_index *vi, struct ddi_vi_zone *zone,
			u32 bucket, u32 slot, u32 entry)
{
	u8 *slots = ddi_vi_bucket(vi, zone, bucket);
	u32 old = ddi_vi_slot_get(vi, slots, slot);

	ddi_vi_slot_set(vi, slots, slot, entry);
	return old;
}

/*
 * Both of a new entry's buckets are full of live entries: make room by
 * moving entries to their other buckets, a random walk of bounded length.
 * On failure every move is undone, so no entry is lost.
 */
static bool vi_insert_displacing(const struct ddi_volume_index *vi, struct ddi_vi_zone *zone,
				 u32 home, u32 entry)
{
	u32 bucket = home;
	u32 carry = entry;
	int n, free;

	if (vi_random(zone) & 1)
		bucket = vi_alt_bucket(vi, home, entry >> vi->vcn_bits);
	for (n = 0; n < DDI_VI_MAX_KICKS; n++) {
		u32 slot = vi_random(zone) % DDI_VI_SLOTS_PER_BUCKET;

		carry = vi_swap_slot(vi, zone, bucket, slot, carry);
		zone->kicks[n].bucket = bucket;
		zone->kicks[n].slot = slot;
		bucket = vi_alt_bucket(vi, bucket, carry >> vi->vcn_bits);
		free = ddi_volume_index_reclaim_bucket(vi, zone, bucket);
		if (free >= 0) {
			ddi_vi_slot_set(vi, ddi_vi_bucket(vi, zone, bucket), free, carry);
			return true;
		}
	}
	while (n--)
		carry = vi_swap_slot(vi, zone, zone->kicks[n].bucket, zone->kicks[n].slot, carry);
	return false;
}

/*
 * The collision table: names held whole, in buckets chosen by bytes 0..7,
 * which do not take part in the tag, so clashing names spread out here.
 * Expired slots met on the way are freed; *@free gets a free slot, if any.
 */
static struct ddi_vi_collision *vi_collision_find(const struct ddi_volume_index *vi,
						  struct ddi_vi_zone *zone,
						  const struct ddi_name *name,
						  struct ddi_vi_collision **free)
{
	u32 h = (get_unaligned_be64(name->bytes) * VI_NAME_MIX) >> 32;
	struct ddi_vi_collision *c = zone->collision_table +
		(size_t)(mul_u32_u32(h, vi->collision_bucket_count) >> 32) *
		DDI_VI_COLLISION_SLOTS_PER_BUCKET;
	int i;

	*free = NULL;
	for (i = 0; i < DDI_VI_COLLISION_SLOTS_PER_BUCKET; i++, c++) {
		if (c->vcn != DDI_VI_NO_VCN && !ddi_vi_collision_live(zone, c)) {
			c->vcn = DDI_VI_NO_VCN;
			ddi_stat_add(zone->collision_entries, -1);
			ddi_stat_add(zone->expired_reclaimed, 1);
		}
		if (c->vcn == DDI_VI_NO_VCN) {
			if (!*free)
				*free = c;
		} else if (!memcmp(&c->name, name, sizeof(*name))) {
			return c;
		}
	}
	return NULL;
}

/**
 * ddi_volume_index_lookup() - Find the chapter that may hold a name.
 * @vi: the index.
 * @name: the record name; call on its zone's thread.
 * @vcn: set to the chapter on a hit.
 *
 * A hit is a hint: rarely, it is another name's entry, and the chapter will
 * not hold @name.
 *
 * Return: true if an entry in the zone's window matches.
 */
bool ddi_volume_index_lookup(struct ddi_volume_index *vi, const struct ddi_name *name, u64 *vcn)
{
	struct ddi_vi_zone *zone = vi_zone_of(vi, name);
	struct ddi_vi_collision *c, *cfree;
	struct vi_slot found;
	u32 home, tag, entry;

	if (zone->collision_entries) {
		c = vi_collision_find(vi, zone, name, &cfree);
		if (c) {
			*vcn = c->vcn;
			return true;
		}
	}
	vi_hash(vi, name, &home, &tag);
	entry = vi_find(vi, zone, home, tag, &found, NULL);
	if (!entry)
		return false;
	*vcn = zone->newest - ddi_vi_entry_age(vi, zone, entry);
	return true;
}

static int vi_put(struct ddi_volume_index *vi, const struct ddi_name *name, u64 vcn,
		  bool denied)
{
	struct ddi_vi_zone *zone = vi_zone_of(vi, name);
	struct ddi_vi_collision *c, *cfree;
	struct vi_slot found, free;
	u32 home, tag, match;

	if (vcn < zone->oldest || vcn > zone->newest)
		return -EINVAL;
	if (zone->collision_entries) {
		c = vi_collision_find(vi, zone, name, &cfree);
		if (c) {
			c->vcn = vcn;
			return 0;
		}
	}
	vi_hash(vi, name, &home, &tag);
	match = vi_find(vi, zone, home, tag, &found, &free);
	if (match && !denied) {
		ddi_vi_slot_set(vi, found.bucket, found.slot, vi_entry(vi, tag, vcn));
		return 0;
	}
	if (match) {
		/* The entry is another name's: keep it, and keep this name whole. */
		vi_collision_find(vi, zone, name, &cfree);
		if (!cfree)
			goto full;
		cfree->name = *name;
		cfree->vcn = vcn;
		ddi_stat_add(zone->collision_entries, 1);
		ddi_stat_add(zone->collisions, 1);
		return 0;
	}
	if (free.bucket)
		ddi_vi_slot_set(vi, free.bucket, free.slot, vi_entry(vi, tag, vcn));
	else if (!vi_insert_displacing(vi, zone, home, vi_entry(vi, tag, vcn)))
		goto full;
	ddi_stat_add(zone->entries, 1);
	return 0;

full:
	ddi_stat_add(zone->full_rejections, 1);
	return -ENOSPC;
}

/**
 * ddi_volume_index_put() - Record the newest chapter holding a name.
 * @vi: the index.
 * @name: the record name; call on its zone's thread.
 * @vcn: the chapter, within the zone's window.
 *
 * Adds the name, or moves its entry to @vcn if it has one. Use this for a
 * name that lookup() missed or whose hinted chapter confirmed it; after a
 * hint the chapter denied, use ddi_volume_index_put_collision().
 *
 * Return: 0; -EINVAL if @vcn is outside the window; -ENOSPC, counted, if
 * no slot could be freed for a new entry.
 */
int ddi_volume_index_put(struct ddi_volume_index *vi, const struct ddi_name *name, u64 vcn)
{
	return vi_put(vi, name, vcn, false);
}

/**
 * ddi_volume_index_put_collision() - Record a name whose hint was wrong.
 * @vi: the index.
 * @name: the record name; call on its zone's thread.
 * @vcn: the chapter, within the zone's window.
 *
 * For a name lookup() sent to a chapter that did not hold it: the entry
 * found belongs to another name, which must keep it, so @name is held whole
 * in the zone's collision table. If the other entry has gone meanwhile this
 * is an ordinary put.
 *
 * Return: as ddi_volume_index_put().
 */
int ddi_volume_index_put_collision(struct ddi_volume_index *vi, const struct ddi_name *name,
				   u64 vcn)
{
	return vi_put(vi, name, vcn, true);
}

/**
 * ddi_volume_index_remove() - Forget a name.
 * @vi: the index.
 * @name: a name the index holds, as its chapter confirmed; call on its
 *        zone's thread. (For a name the index lacks, this may remove the
 *        entry of another name with the same tag.)
 */
void ddi_volume_index_remove(struct ddi_volume_index *vi, const struct ddi_name *name)
{
	struct ddi_vi_zone *zone = vi_zone_of(vi, name);
	struct ddi_vi_collision *c, *cfree;
	struct vi_slot found;
	u32 home, tag;

	if (zone->collision_entries) {
		c = vi_collision_find(vi, zone, name, &cfree);
		if (c) {
			c->vcn = DDI_VI_NO_VCN;
			ddi_stat_add(zone->collision_entries, -1);
			return;
		}
	}
	vi_hash(vi, name, &home, &tag);
	if (vi_find(vi, zone, home, tag, &found, NULL)) {
		vi_bucket_clear(vi, found.bucket, found.slot);
		ddi_stat_add(zone->entries, -1);
	}
}
