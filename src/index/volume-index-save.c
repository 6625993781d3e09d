// SPDX-License-Identifier: GPL-2.0-only
/*
 * Saving and loading the volume index, so that a clean shutdown need not
 * rebuild it from the volume. Everything is little-endian.
 *
 * A zone part:
 *
 *   offset  size  field
 *        0     4  magic "DVIZ"
 *        4     4  version (2)
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
 *       72        the table's buckets as they are in memory: 16 entries
 *                 of vcn bits + 16 bits each, packed from bit 0 of the
 *                 bucket's first byte
 *                 collision slots: 16-byte name, 8-byte chapter
 *      end     4  crc32_le (seed ~0) of everything before it
 *
 * The whole index: a 40-byte header (magic "DVIX", version, zone count,
 * chapters per volume, records per volume, zone part size, crc32_le of the
 * 32 bytes before it, 4 zero bytes), then the zone parts in zone order.
 *
 * Version 1, whose table held one 32-bit entry a slot and which another
 * tag width and another bucket count, cannot be converted, since entries
 * cannot be moved without their names: it is refused like a damaged save,
 * and the index is rebuilt from its chapters.
 *
 * Both are encoded and decoded piecewise through a save stream, a chunk
 * on the stack at a time, so a save of the whole index needs no copy of
 * it. The loads from a buffer check the whole of what they read before
 * they change anything, so a refused one leaves the index as it was; a
 * load from a device stream checks as it goes and a refused one leaves the
 * index partly loaded, to be thrown away.
 */

#include <linux/crc32.h>
#include <linux/errno.h>
#include <linux/minmax.h>
#include <linux/string.h>

#include "save-stream.h"
#include "stat-counter.h"
#include "volume-index-table.h"

#define VI_ZONE_MAGIC 0x5a495644U	/* "DVIZ" */
#define VI_INDEX_MAGIC 0x58495644U	/* "DVIX" */
#define VI_VERSION 2

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
	return VI_ZONE_HEADER_BYTES + ddi_vi_table_bytes(vi) +
	       (size_t)ddi_vi_collision_slot_count(vi) * VI_COLLISION_BYTES + VI_CRC_BYTES;
}

/* Write a zone's part into @s. */
static int vi_encode_zone(const struct ddi_volume_index *vi, unsigned int zone,
			  struct ddi_save_stream *s)
{
	const struct ddi_vi_zone *z = &vi->zones[zone];
	u8 chunk[DDI_STREAM_CHUNK_BYTES];
	u32 collisions = ddi_vi_collision_slot_count(vi), c, crc;
	size_t table = ddi_vi_table_bytes(vi), used, n;

	put_unaligned_le32(VI_ZONE_MAGIC, chunk);
	put_unaligned_le32(VI_VERSION, chunk + 4);
	put_unaligned_le32(zone, chunk + 8);
	put_unaligned_le32(vi->zone_count, chunk + 12);
	put_unaligned_le32(vi->bucket_count, chunk + 16);
	put_unaligned_le32(vi->collision_bucket_count, chunk + 20);
	put_unaligned_le32(vi->vcn_bits, chunk + 24);
	put_unaligned_le32(vi->chapters_per_volume, chunk + 28);
	put_unaligned_le64(vi->records_per_volume, chunk + 32);
	put_unaligned_le64(z->oldest, chunk + 40);
	put_unaligned_le64(z->newest, chunk + 48);
	put_unaligned_le64(z->sweep_debt, chunk + 56);
	put_unaligned_le32(z->sweep_cursor, chunk + 64);
	put_unaligned_le32(z->rng, chunk + 68);
	crc = crc32_le(~0, chunk, VI_ZONE_HEADER_BYTES);
	ddi_save_stream_write(s, chunk, VI_ZONE_HEADER_BYTES);

	/* The table is already little-endian bytes: write it as it is. */
	for (used = 0; used < table; used += n) {
		n = min_t(size_t, table - used, DDI_STREAM_CHUNK_BYTES);
		crc = crc32_le(crc, z->table + used, n);
		ddi_save_stream_write(s, z->table + used, n);
	}
	for (c = 0, used = 0; c < collisions; c++) {
		memcpy(chunk + used, z->collision_table[c].name.bytes, DDI_NAME_SIZE);
		put_unaligned_le64(z->collision_table[c].vcn, chunk + used + DDI_NAME_SIZE);
		used += VI_COLLISION_BYTES;
		if (used + VI_COLLISION_BYTES > sizeof(chunk) || c + 1 == collisions) {
			crc = crc32_le(crc, chunk, used);
			ddi_save_stream_write(s, chunk, used);
			used = 0;
		}
	}
	put_unaligned_le32(crc, chunk);
	return ddi_save_stream_write(s, chunk, VI_CRC_BYTES);
}

/* Is @buf a sound zone header for @zone of this very index shape? */
static bool vi_zone_header_ok(const struct ddi_volume_index *vi, unsigned int zone,
			      const u8 *buf)
{
	u64 oldest, newest;

	if (get_unaligned_le32(buf) != VI_ZONE_MAGIC ||
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
	return oldest <= newest && newest - oldest < vi->chapters_per_volume &&
	       newest != DDI_VI_NO_VCN &&
	       get_unaligned_le64(buf + 56) < vi->sweep_period &&
	       get_unaligned_le32(buf + 64) < vi->bucket_count &&
	       get_unaligned_le32(buf + 68) != 0;
}

/*
 * Read a zone's part from @s, checking it as it goes; with @apply, into
 * the zone, which a refused part leaves partly loaded. Besides its header
 * and checksum, the part's contents must be what puts can leave: every
 * entry has a tag (tags start at 1), and no collision slot names a
 * chapter past the zone's newest.
 */
static int vi_decode_zone(struct ddi_volume_index *vi, unsigned int zone,
			  struct ddi_save_stream *s, bool apply)
{
	struct ddi_vi_zone *z = &vi->zones[zone];
	/* Whole buckets at a time, with room for the last slot's 64-bit read. */
	u8 chunk[DDI_STREAM_CHUNK_BYTES + DDI_VI_TABLE_PAD_BYTES] = {};
	u32 per_chunk = DDI_STREAM_CHUNK_BYTES / vi->bucket_bytes;
	u64 i, n, j, newest;
	u32 collisions = ddi_vi_collision_slot_count(vi), crc, slot;
	bool sound = true;

	if (ddi_save_stream_read(s, chunk, VI_ZONE_HEADER_BYTES))
		return s->error;
	if (!vi_zone_header_ok(vi, zone, chunk))
		return ddi_stream_fail(s, -EBADMSG);
	crc = crc32_le(~0, chunk, VI_ZONE_HEADER_BYTES);
	newest = get_unaligned_le64(chunk + 48);
	if (apply) {
		ddi_volume_index_zone_reset(vi, z, get_unaligned_le64(chunk + 40), newest);
		z->sweep_debt = get_unaligned_le64(chunk + 56);
		z->sweep_cursor = get_unaligned_le32(chunk + 64);
		z->rng = get_unaligned_le32(chunk + 68);
	}

	for (i = 0; i < vi->bucket_count; i += n) {
		size_t bytes;

		n = min_t(u64, vi->bucket_count - i, per_chunk);
		bytes = n * vi->bucket_bytes;
		if (ddi_save_stream_read(s, chunk, bytes))
			return s->error;
		crc = crc32_le(crc, chunk, bytes);
		for (j = 0; j < n; j++) {
			u8 *bucket = chunk + j * vi->bucket_bytes;

			for (slot = 0; slot < DDI_VI_SLOTS_PER_BUCKET; slot++) {
				u32 entry = ddi_vi_slot_get(vi, bucket, slot);

				if (!entry)
					continue;
				sound &= entry >> vi->vcn_bits != 0;
				if (apply)
					ddi_stat_add(z->entries, 1);
			}
			/* Saves made before buckets were kept packed may hold gaps. */
			if (apply)
				ddi_volume_index_compact_bucket(vi, bucket);
		}
		if (apply)
			memcpy(ddi_vi_bucket(vi, z, i), chunk, bytes);
	}
	for (i = 0; i < collisions; i += n) {
		n = min_t(u64, collisions - i, sizeof(chunk) / VI_COLLISION_BYTES);
		if (ddi_save_stream_read(s, chunk, n * VI_COLLISION_BYTES))
			return s->error;
		crc = crc32_le(crc, chunk, n * VI_COLLISION_BYTES);
		for (j = 0; j < n; j++) {
			const u8 *saved = chunk + j * VI_COLLISION_BYTES;
			u64 vcn = get_unaligned_le64(saved + DDI_NAME_SIZE);
			struct ddi_vi_collision *c = &z->collision_table[i + j];

			if (vcn == DDI_VI_NO_VCN)
				continue;
			sound &= vcn <= newest;
			if (apply) {
				memcpy(c->name.bytes, saved, DDI_NAME_SIZE);
				c->vcn = vcn;
				ddi_stat_add(z->collision_entries, 1);
			}
		}
	}
	if (ddi_save_stream_read(s, chunk, VI_CRC_BYTES))
		return s->error;
	if (!sound || get_unaligned_le32(chunk) != crc)
		return ddi_stream_fail(s, -EBADMSG);
	return 0;
}

/* KUnit only: entry points the tests use and the index does not. */
#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
/**
 * ddi_volume_index_load_zone() - Load one zone from its saved part.
 * @vi: the index.
 * @zone: the zone; call on its thread, or while it is idle.
 * @buf: the zone's part of what ddi_volume_index_save() wrote.
 * @len: bytes at @buf.
 *
 * Return: 0; -EBADMSG, leaving the zone unchanged, if the part is short,
 * damaged, or from another zone or another shape of index.
 */
int ddi_volume_index_load_zone(struct ddi_volume_index *vi, unsigned int zone,
			       const u8 *buf, size_t len)
{
	struct ddi_save_stream s;

	if (zone >= vi->zone_count || len < ddi_volume_index_zone_save_size(vi))
		return -EBADMSG;
	ddi_save_stream_init_memory(&s, (u8 *)buf, len, false);
	if (vi_decode_zone(vi, zone, &s, false))
		return -EBADMSG;
	ddi_save_stream_init_memory(&s, (u8 *)buf, len, false);
	return vi_decode_zone(vi, zone, &s, true);
}
#endif

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
 * ddi_volume_index_encode() - Write the whole index into a save stream.
 * @vi: the index, its zone threads idle.
 * @s: the stream; ddi_volume_index_save_size() bytes are written.
 *
 * Return: 0 or the stream's error.
 */
int ddi_volume_index_encode(const struct ddi_volume_index *vi, struct ddi_save_stream *s)
{
	u8 header[VI_INDEX_HEADER_BYTES] = {};
	unsigned int z;

	put_unaligned_le32(VI_INDEX_MAGIC, header);
	put_unaligned_le32(VI_VERSION, header + 4);
	put_unaligned_le32(vi->zone_count, header + 8);
	put_unaligned_le32(vi->chapters_per_volume, header + 12);
	put_unaligned_le64(vi->records_per_volume, header + 16);
	put_unaligned_le64(ddi_volume_index_zone_save_size(vi), header + 24);
	put_unaligned_le32(crc32_le(~0, header, VI_INDEX_CRC_OFFSET),
			   header + VI_INDEX_CRC_OFFSET);
	ddi_save_stream_write(s, header, sizeof(header));
	for (z = 0; z < vi->zone_count; z++)
		vi_encode_zone(vi, z, s);
	return s->error;
}

/**
 * ddi_volume_index_decode() - Read the whole index from a save stream.
 * @vi: the index, its zone threads idle; made with the same geometry and
 *      zone count as the one saved.
 * @s: the stream, at the index's first byte.
 * @apply: whether to change @vi, or only check what is read.
 *
 * Return: 0; -EBADMSG if anything is short, damaged or of another shape,
 * in which case, with @apply, the index is left partly loaded; or the
 * stream's error.
 */
int ddi_volume_index_decode(struct ddi_volume_index *vi, struct ddi_save_stream *s,
			    bool apply)
{
	u8 header[VI_INDEX_HEADER_BYTES];
	unsigned int z;

	if (ddi_save_stream_read(s, header, sizeof(header)))
		return s->error;
	if (get_unaligned_le32(header) != VI_INDEX_MAGIC ||
	    get_unaligned_le32(header + 4) != VI_VERSION ||
	    get_unaligned_le32(header + 8) != vi->zone_count ||
	    get_unaligned_le32(header + 12) != vi->chapters_per_volume ||
	    get_unaligned_le64(header + 16) != vi->records_per_volume ||
	    get_unaligned_le64(header + 24) != ddi_volume_index_zone_save_size(vi) ||
	    get_unaligned_le32(header + VI_INDEX_CRC_OFFSET) !=
	    crc32_le(~0, header, VI_INDEX_CRC_OFFSET))
		return ddi_stream_fail(s, -EBADMSG);
	for (z = 0; z < vi->zone_count; z++) {
		if (vi_decode_zone(vi, z, s, apply))
			return s->error;
	}
	return 0;
}

#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
/**
 * ddi_volume_index_save() - Save the whole index into a buffer.
 * @vi: the index, its zone threads idle.
 * @buf: where to write.
 * @len: bytes at @buf, at least ddi_volume_index_save_size().
 *
 * Return: 0, or -EINVAL if @buf is too short.
 */
int ddi_volume_index_save(const struct ddi_volume_index *vi, u8 *buf, size_t len)
{
	struct ddi_save_stream s;

	if (len < ddi_volume_index_save_size(vi))
		return -EINVAL;
	ddi_save_stream_init_memory(&s, buf, len, true);
	return ddi_volume_index_encode(vi, &s);
}

/**
 * ddi_volume_index_load() - Load the whole index from a buffer.
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
	struct ddi_save_stream s;

	if (len < ddi_volume_index_save_size(vi))
		return -EBADMSG;
	ddi_save_stream_init_memory(&s, (u8 *)buf, len, false);
	if (ddi_volume_index_decode(vi, &s, false))
		return -EBADMSG;
	ddi_save_stream_init_memory(&s, (u8 *)buf, len, false);
	return ddi_volume_index_decode(vi, &s, true) ? -EBADMSG : 0;
}
#endif
