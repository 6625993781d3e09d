// SPDX-License-Identifier: GPL-2.0-only
/*
 * Saving and loading the volume index, so that a clean shutdown need not
 * rebuild it from the volume. Everything is little-endian.
 *
 * A zone part:
 *
 *   offset  size  field
 *        0     4  magic "DVIZ"
 *        4     4  version (1)
 *        8     4  zone number
 *       12     4  zone count
 *       16     4  buckets per zone
 *       20     4  collision buckets per zone
 *       24     4  vcn bits
 *       28     4  chapters per volume
 *       32     8  records per volume (the capacity the index was sized for)
 *       40     8  oldest chapter of the window
 *       48     8  newest chapter of the window
 *       56     8  sweep debt
 *       64     4  sweep cursor
 *       68     4  random state
 *       72        table slots, 4 bytes each
 *                 collision slots: 16-byte name, 8-byte chapter
 *      end     4  crc32_le (seed ~0) of everything before it
 *
 * The whole index: a 40-byte header (magic "DVIX", version, zone count,
 * chapters per volume, records per volume, zone part size, crc32_le of the
 * 32 bytes before it, 4 zero bytes), then the zone parts in zone order.
 *
 * Every load checks the whole of what it reads before it changes anything,
 * so a refused load leaves the index as it was.
 */

#include <linux/crc32.h>
#include <linux/errno.h>
#include <linux/string.h>

#include "volume-index-zone.h"

#define VI_ZONE_MAGIC 0x5a495644U	/* "DVIZ" */
#define VI_INDEX_MAGIC 0x58495644U	/* "DVIX" */
#define VI_VERSION 1

enum {
	VI_ZONE_HEADER_BYTES = 72,
	VI_COLLISION_BYTES = DDI_NAME_SIZE + sizeof(u64),
	VI_CRC_BYTES = sizeof(u32),
	VI_INDEX_HEADER_BYTES = 40,
	VI_INDEX_CRC_OFFSET = 32,
};

/**
 * ddi_volume_index_zone_save_size() - Bytes one zone's part takes.
 * @vi: the index.
 *
 * Return: the size, the same for every zone.
 */
size_t ddi_volume_index_zone_save_size(const struct ddi_volume_index *vi)
{
	return VI_ZONE_HEADER_BYTES + ddi_vi_slot_count(vi) * sizeof(u32) +
	       (size_t)ddi_vi_collision_slot_count(vi) * VI_COLLISION_BYTES + VI_CRC_BYTES;
}

/**
 * ddi_volume_index_save_zone() - Save one zone.
 * @vi: the index.
 * @zone: the zone; call on its thread, or while it is idle.
 * @buf: where to write the zone's part.
 * @len: bytes at @buf, at least ddi_volume_index_zone_save_size().
 *
 * Return: 0, or -EINVAL if @buf is too short or @zone out of range.
 */
int ddi_volume_index_save_zone(const struct ddi_volume_index *vi, unsigned int zone,
			       u8 *buf, size_t len)
{
	size_t size = ddi_volume_index_zone_save_size(vi);
	const struct ddi_vi_zone *z;
	u64 i;
	u8 *p;

	if (zone >= vi->zone_count || len < size)
		return -EINVAL;
	z = &vi->zones[zone];
	put_unaligned_le32(VI_ZONE_MAGIC, buf);
	put_unaligned_le32(VI_VERSION, buf + 4);
	put_unaligned_le32(zone, buf + 8);
	put_unaligned_le32(vi->zone_count, buf + 12);
	put_unaligned_le32(vi->bucket_count, buf + 16);
	put_unaligned_le32(vi->collision_bucket_count, buf + 20);
	put_unaligned_le32(vi->vcn_bits, buf + 24);
	put_unaligned_le32(vi->chapters_per_volume, buf + 28);
	put_unaligned_le64(vi->records_per_volume, buf + 32);
	put_unaligned_le64(z->oldest, buf + 40);
	put_unaligned_le64(z->newest, buf + 48);
	put_unaligned_le64(z->sweep_debt, buf + 56);
	put_unaligned_le32(z->sweep_cursor, buf + 64);
	put_unaligned_le32(z->rng, buf + 68);

	p = buf + VI_ZONE_HEADER_BYTES;
	for (i = 0; i < ddi_vi_slot_count(vi); i++, p += sizeof(u32))
		put_unaligned_le32(z->slots[i], p);
	for (i = 0; i < ddi_vi_collision_slot_count(vi); i++, p += VI_COLLISION_BYTES) {
		memcpy(p, z->collision_table[i].name.bytes, DDI_NAME_SIZE);
		put_unaligned_le64(z->collision_table[i].vcn, p + DDI_NAME_SIZE);
	}
	put_unaligned_le32(crc32_le(~0, buf, size - VI_CRC_BYTES), p);
	return 0;
}

/* Is @buf a sound part for @zone of this very index shape? */
static bool vi_zone_part_ok(const struct ddi_volume_index *vi, unsigned int zone,
			    const u8 *buf, size_t len)
{
	size_t size = ddi_volume_index_zone_save_size(vi);
	u64 oldest, newest;

	if (len < size ||
	    get_unaligned_le32(buf) != VI_ZONE_MAGIC ||
	    get_unaligned_le32(buf + 4) != VI_VERSION ||
	    get_unaligned_le32(buf + 8) != zone ||
	    get_unaligned_le32(buf + 12) != vi->zone_count ||
	    get_unaligned_le32(buf + 16) != vi->bucket_count ||
	    get_unaligned_le32(buf + 20) != vi->collision_bucket_count ||
	    get_unaligned_le32(buf + 24) != vi->vcn_bits ||
	    get_unaligned_le32(buf + 28) != vi->chapters_per_volume ||
	    get_unaligned_le64(buf + 32) != vi->records_per_volume)
		return false;
	oldest = get_unaligned_le64(buf + 40);
	newest = get_unaligned_le64(buf + 48);
	if (oldest > newest || newest - oldest >= vi->chapters_per_volume ||
	    newest == DDI_VI_NO_VCN ||
	    get_unaligned_le64(buf + 56) >= vi->sweep_period ||
	    get_unaligned_le32(buf + 64) >= vi->bucket_count ||
	    get_unaligned_le32(buf + 68) == 0)
		return false;
	return get_unaligned_le32(buf + size - VI_CRC_BYTES) ==
	       crc32_le(~0, buf, size - VI_CRC_BYTES);
}

/* Replace a zone's contents with a part vi_zone_part_ok() accepted. */
static void vi_zone_apply(struct ddi_volume_index *vi, unsigned int zone, const u8 *buf)
{
	struct ddi_vi_zone *z = &vi->zones[zone];
	const u8 *p = buf + VI_ZONE_HEADER_BYTES;
	u64 i;

	ddi_vi_zone_reset(vi, z, get_unaligned_le64(buf + 40), get_unaligned_le64(buf + 48));
	z->sweep_debt = get_unaligned_le64(buf + 56);
	z->sweep_cursor = get_unaligned_le32(buf + 64);
	z->rng = get_unaligned_le32(buf + 68);
	for (i = 0; i < ddi_vi_slot_count(vi); i++, p += sizeof(u32)) {
		z->slots[i] = get_unaligned_le32(p);
		if (z->slots[i])
			z->entries++;
	}
	for (i = 0; i < ddi_vi_collision_slot_count(vi); i++, p += VI_COLLISION_BYTES) {
		memcpy(z->collision_table[i].name.bytes, p, DDI_NAME_SIZE);
		z->collision_table[i].vcn = get_unaligned_le64(p + DDI_NAME_SIZE);
		if (z->collision_table[i].vcn != DDI_VI_NO_VCN)
			z->collision_entries++;
	}
}

/**
 * ddi_volume_index_load_zone() - Load one zone from its saved part.
 * @vi: the index.
 * @zone: the zone; call on its thread, or while it is idle.
 * @buf: the part ddi_volume_index_save_zone() wrote for this zone.
 * @len: bytes at @buf.
 *
 * Return: 0; -EBADMSG, leaving the zone unchanged, if the part is short,
 * damaged, or from another zone or another shape of index.
 */
int ddi_volume_index_load_zone(struct ddi_volume_index *vi, unsigned int zone,
			       const u8 *buf, size_t len)
{
	if (zone >= vi->zone_count || !vi_zone_part_ok(vi, zone, buf, len))
		return -EBADMSG;
	vi_zone_apply(vi, zone, buf);
	return 0;
}

/**
 * ddi_volume_index_save_size() - Bytes the whole index takes saved.
 * @vi: the index.
 *
 * Return: the size of a header and every zone's part.
 */
size_t ddi_volume_index_save_size(const struct ddi_volume_index *vi)
{
	return VI_INDEX_HEADER_BYTES + vi->zone_count * ddi_volume_index_zone_save_size(vi);
}

/**
 * ddi_volume_index_save() - Save the whole index.
 * @vi: the index, its zone threads idle.
 * @buf: where to write; large indexes want vmalloc() memory.
 * @len: bytes at @buf, at least ddi_volume_index_save_size().
 *
 * Return: 0, or -EINVAL if @buf is too short.
 */
int ddi_volume_index_save(const struct ddi_volume_index *vi, u8 *buf, size_t len)
{
	size_t part = ddi_volume_index_zone_save_size(vi);
	unsigned int z;
	int err;

	if (len < ddi_volume_index_save_size(vi))
		return -EINVAL;
	memset(buf, 0, VI_INDEX_HEADER_BYTES);
	put_unaligned_le32(VI_INDEX_MAGIC, buf);
	put_unaligned_le32(VI_VERSION, buf + 4);
	put_unaligned_le32(vi->zone_count, buf + 8);
	put_unaligned_le32(vi->chapters_per_volume, buf + 12);
	put_unaligned_le64(vi->records_per_volume, buf + 16);
	put_unaligned_le64(part, buf + 24);
	put_unaligned_le32(crc32_le(~0, buf, VI_INDEX_CRC_OFFSET), buf + VI_INDEX_CRC_OFFSET);
	for (z = 0; z < vi->zone_count; z++) {
		err = ddi_volume_index_save_zone(vi, z, buf + VI_INDEX_HEADER_BYTES + z * part,
						 part);
		if (err)
			return err;
	}
	return 0;
}

/**
 * ddi_volume_index_load() - Load the whole index.
 * @vi: the index, its zone threads idle; made with the same geometry and
 *      zone count as the one saved.
 * @buf: what ddi_volume_index_save() wrote.
 * @len: bytes at @buf.
 *
 * Return: 0; -EBADMSG, leaving the index unchanged, if anything is short,
 * damaged or of another shape.
 */
int ddi_volume_index_load(struct ddi_volume_index *vi, const u8 *buf, size_t len)
{
	size_t part = ddi_volume_index_zone_save_size(vi);
	unsigned int z;

	if (len < ddi_volume_index_save_size(vi) ||
	    get_unaligned_le32(buf) != VI_INDEX_MAGIC ||
	    get_unaligned_le32(buf + 4) != VI_VERSION ||
	    get_unaligned_le32(buf + 8) != vi->zone_count ||
	    get_unaligned_le32(buf + 12) != vi->chapters_per_volume ||
	    get_unaligned_le64(buf + 16) != vi->records_per_volume ||
	    get_unaligned_le64(buf + 24) != part ||
	    get_unaligned_le32(buf + VI_INDEX_CRC_OFFSET) != crc32_le(~0, buf, VI_INDEX_CRC_OFFSET))
		return -EBADMSG;
	for (z = 0; z < vi->zone_count; z++)
		if (!vi_zone_part_ok(vi, z, buf + VI_INDEX_HEADER_BYTES + z * part, part))
			return -EBADMSG;
	for (z = 0; z < vi->zone_count; z++)
		vi_zone_apply(vi, z, buf + VI_INDEX_HEADER_BYTES + z * part);
	return 0;
}
