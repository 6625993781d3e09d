// SPDX-License-Identifier: GPL-2.0-only
/*
 * The open chapter zones and the closing of a chapter.
 *
 * A zone keeps its live records packed at the front of one array, so that
 * closing and saving walk exactly the live records and nothing else. Names
 * are found through chained hashing: each bucket holds the index of the
 * first record of its chain and each record the index of the next. Removing
 * a record unlinks it and moves the last record into its place, so the
 * array never has holes, the chains never carry tombstones, and a removed
 * record's room can be taken by the next new name.
 *
 * Memory, all allocated when a zone is created: per record of capacity, the
 * 32-byte record, a 4-byte chain link and 8 to 16 bytes of buckets. Closing
 * a chapter allocates nothing; see ddi_open_chapter_close() for what its
 * caller supplies.
 */

#include <linux/bitops.h>
#include <linux/crc32.h>
#include <linux/errno.h>
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/unaligned.h>

#include "table-alloc.h"
#include "open-chapter.h"
#include "save-stream.h"

#define NO_RECORD U32_MAX

struct ddi_open_chapter_zone {
	const struct ddi_geometry *geo;
	u32 capacity;
	u32 count;
	u32 bucket_count;
	u8 bucket_bits;
	/* The first record of each bucket's chain, or NO_RECORD. */
	u32 *buckets;
	/* For each record, the next record in its chain, or NO_RECORD. */
	u32 *next;
	/* The live records, records[0..count). */
	struct ddi_record *records;
	struct ddi_open_chapter_stats stats;
};

/*
 * Bytes 12..15 of a name choose its zone and bytes 0..7 its chapter index
 * list, so within one zone some of those bits are skewed. Fold in all
 * sixteen bytes so that the bits that do vary spread the buckets.
 */
static u32 bucket_of(const struct ddi_open_chapter_zone *zone, const struct ddi_name *name)
{
	u64 low = get_unaligned_le64(name->bytes);
	u64 high = get_unaligned_le64(name->bytes + 8);

	return hash_64(low ^ ror64(high, 32), zone->bucket_bits);
}

/*
 * The link that holds @name's record, or else the NO_RECORD link at the
 * end of its bucket's chain, where a new record for it would be hooked.
 */
static u32 *find_link(struct ddi_open_chapter_zone *zone, const struct ddi_name *name)
{
	u32 *link = &zone->buckets[bucket_of(zone, name)];

	while (*link != NO_RECORD &&
	       memcmp(&zone->records[*link].name, name, sizeof(*name)) != 0)
		link = &zone->next[*link];
	return link;
}

/**
 * ddi_open_chapter_zone_memory_bytes() - RAM one zone's part takes.
 * @geo: the volume geometry.
 * @zone_count: how many zones share the chapter, at least 1.
 *
 * Return: the bytes ddi_open_chapter_zone_create() allocates.
 */
size_t ddi_open_chapter_zone_memory_bytes(const struct ddi_geometry *geo, unsigned int zone_count)
{
	struct ddi_open_chapter_zone *zone;
	size_t capacity = geo->records_per_chapter / zone_count;

	return kmalloc_size_roundup(sizeof(*zone)) +
	       ddi_table_bytes(roundup_pow_of_two(2 * capacity) * sizeof(*zone->buckets)) +
	       ddi_table_bytes(capacity * sizeof(*zone->next)) +
	       ddi_table_bytes(capacity * sizeof(*zone->records));
}

/**
 * ddi_open_chapter_zone_create() - Make one zone's part of the open chapter.
 * @geo: the volume geometry; must outlive the zone.
 * @zone_count: how many zones share the chapter.
 * @zone_ptr: set to the new zone, empty.
 *
 * The zone holds records_per_chapter / @zone_count records, rounded down,
 * so that the zones together never hold more than one chapter.
 *
 * Return: 0; -EINVAL if @zone_count is 0 or leaves a zone no room; -ENOMEM.
 */
int ddi_open_chapter_zone_create(const struct ddi_geometry *geo, unsigned int zone_count,
				 struct ddi_open_chapter_zone **zone_ptr)
{
	struct ddi_open_chapter_zone *zone;

	if (zone_count == 0 || zone_count > geo->records_per_chapter)
		return -EINVAL;

	zone = kzalloc(sizeof(*zone), GFP_KERNEL);
	if (!zone)
		return -ENOMEM;
	zone->geo = geo;
	zone->capacity = geo->records_per_chapter / zone_count;
	/* At least two buckets per record keeps the mean chain under one. */
	zone->bucket_count = roundup_pow_of_two(2 * zone->capacity);
	zone->bucket_bits = ilog2(zone->bucket_count);
	zone->buckets = ddi_table_alloc_array(zone->bucket_count, sizeof(u32));
	zone->next = ddi_table_alloc_array(zone->capacity, sizeof(u32));
	zone->records = ddi_table_alloc_array(zone->capacity, sizeof(*zone->records));
	if (!zone->buckets || !zone->next || !zone->records) {
		ddi_open_chapter_zone_free(zone);
		return -ENOMEM;
	}
	ddi_open_chapter_zone_reset(zone);
	*zone_ptr = zone;
	return 0;
}

/**
 * ddi_open_chapter_zone_free() - Free a zone.
 * @zone: the zone; may be NULL.
 */
void ddi_open_chapter_zone_free(struct ddi_open_chapter_zone *zone)
{
	if (!zone)
		return;
	kvfree(zone->buckets);
	kvfree(zone->next);
	kvfree(zone->records);
	kfree(zone);
}

/**
 * ddi_open_chapter_zone_reset() - Empty a zone for the next chapter.
 * @zone: the zone.
 *
 * The statistics are kept.
 */
void ddi_open_chapter_zone_reset(struct ddi_open_chapter_zone *zone)
{
	zone->count = 0;
	memset(zone->buckets, 0xff, zone->bucket_count * sizeof(u32));
}

/*
 * Store @data for @name. Returns 1 if it replaced a record's data, 0 if it
 * added a record, or -ENOSPC if a new record does not fit.
 */
static int store(struct ddi_open_chapter_zone *zone, const struct ddi_name *name,
		 const struct ddi_data *data)
{
	u32 *link = find_link(zone, name);
	u32 record;

	if (*link != NO_RECORD) {
		zone->records[*link].data = *data;
		return 1;
	}
	if (zone->count == zone->capacity)
		return -ENOSPC;
	record = zone->count++;
	zone->records[record].name = *name;
	zone->records[record].data = *data;
	zone->next[record] = NO_RECORD;
	*link = record;
	return 0;
}

/**
 * ddi_open_chapter_zone_put() - Add a record, or update the one for its name.
 * @zone: the zone; only its zone thread may call this.
 * @name: the record name, which must belong to this zone.
 * @data: the data to store.
 * @full: set to whether the zone is now full, i.e. the chapter should close.
 *
 * A name already in the zone has its data replaced even when the zone is
 * full.
 *
 * Return: 0, or -ENOSPC if the zone is full and @name is new; the record
 * is then not stored.
 */
int ddi_open_chapter_zone_put(struct ddi_open_chapter_zone *zone, const struct ddi_name *name,
			      const struct ddi_data *data, bool *full)
{
	int ret = store(zone, name, data);

	*full = zone->count == zone->capacity;
	if (ret < 0)
		return ret;
	zone->stats.puts++;
	if (ret > 0)
		zone->stats.overwrites++;
	return 0;
}

/**
 * ddi_open_chapter_zone_search() - Look a name up in a zone.
 * @zone: the zone; only its zone thread may call this.
 * @name: the record name.
 * @data: set to the record's data if found; may be NULL.
 *
 * Return: whether the zone holds a record for @name.
 */
bool ddi_open_chapter_zone_search(struct ddi_open_chapter_zone *zone,
				  const struct ddi_name *name, struct ddi_data *data)
{
	u32 record = *find_link(zone, name);

	zone->stats.searches++;
	if (record == NO_RECORD)
		return false;
	zone->stats.hits++;
	if (data)
		*data = zone->records[record].data;
	return true;
}

/**
 * ddi_open_chapter_zone_remove() - Delete the record for a name, if any.
 * @zone: the zone; only its zone thread may call this.
 * @name: the record name.
 *
 * The record will neither be found nor written with the chapter, and its
 * room is free for another record.
 */
void ddi_open_chapter_zone_remove(struct ddi_open_chapter_zone *zone,
				  const struct ddi_name *name)
{
	u32 *link = find_link(zone, name);
	u32 hole, last;

	if (*link == NO_RECORD)
		return;
	hole = *link;
	*link = zone->next[hole];
	zone->stats.deletes++;
	last = --zone->count;
	if (hole == last)
		return;

	/* Fill the hole with the last record, and point its chain at the move. */
	link = find_link(zone, &zone->records[last].name);
	*link = hole;
	zone->records[hole] = zone->records[last];
	zone->next[hole] = zone->next[last];
}

/* KUnit only: entry points the tests use and the index does not. */
#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
/**
 * ddi_open_chapter_zone_count() - Live records in a zone.
 * @zone: the zone.
 *
 * Return: the number of records a close would take from the zone.
 */
u32 ddi_open_chapter_zone_count(const struct ddi_open_chapter_zone *zone)
{
	return zone->count;
}

/**
 * ddi_open_chapter_zone_capacity() - Records a zone can hold.
 * @zone: the zone.
 *
 * Return: records_per_chapter divided by the zone count, rounded down.
 */
u32 ddi_open_chapter_zone_capacity(const struct ddi_open_chapter_zone *zone)
{
	return zone->capacity;
}
#endif

/**
 * ddi_open_chapter_zone_full() - Whether a zone has no room for a new name.
 * @zone: the zone.
 *
 * Return: true once the zone holds its capacity of live records.
 */
bool ddi_open_chapter_zone_full(const struct ddi_open_chapter_zone *zone)
{
	return zone->count == zone->capacity;
}

#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
/**
 * ddi_open_chapter_zone_get_stats() - Copy a zone's counters.
 * @zone: the zone; see struct ddi_open_chapter_stats for who may read it.
 * @stats: set to the counters.
 */
void ddi_open_chapter_zone_get_stats(const struct ddi_open_chapter_zone *zone,
				     struct ddi_open_chapter_stats *stats)
{
	*stats = zone->stats;
}
#endif

/**
 * ddi_open_chapter_close() - Gather the zones' records into a chapter.
 * @zones: every zone's part of the open chapter; none may be in use by its
 *         zone thread, and none is changed.
 * @zone_count: how many zones.
 * @vcn: the virtual chapter number of the chapter being closed.
 * @records: room for records_per_chapter records; set to the chapter's
 *           records sorted by name.
 * @record_count: set to the number of records in @records.
 * @oci: an open chapter index; reset for @vcn and given every name with
 *       its record page.
 * @sorter: a radix sorter made for at least records_per_chapter keys.
 * @scratch: room for records_per_chapter record pointers.
 *
 * Record i goes to record page i / records_per_page, as the volume writes
 * it. Because the whole chapter is sorted first, each record page holds a
 * contiguous range of names. Nothing is allocated here: the caller makes
 * @records, @scratch, @sorter and @oci once, when the index starts, and
 * passes the result to ddi_volume_write_chapter(). Names are unique across
 * zones because each name maps to one zone.
 *
 * Return: 0; -EINVAL if the zones hold more than a chapter, or an error
 * from the sorter or the chapter index.
 */
int ddi_open_chapter_close(struct ddi_open_chapter_zone *zones[], unsigned int zone_count,
			   u64 vcn, struct ddi_record *records, u32 *record_count,
			   struct ddi_open_chapter_index *oci, struct ddi_radix_sorter *sorter,
			   const struct ddi_record **scratch)
{
	const struct ddi_geometry *geo;
	unsigned int z;
	u32 total = 0, i;
	int ret;

	/* The sorter is handed the records themselves as keys: names first. */
	BUILD_BUG_ON(offsetof(struct ddi_record, name) != 0);
	if (zone_count == 0)
		return -EINVAL;
	geo = zones[0]->geo;
	for (z = 0; z < zone_count; z++) {
		const struct ddi_open_chapter_zone *zone = zones[z];

		if (zone->count > geo->records_per_chapter - total)
			return -EINVAL;
		for (i = 0; i < zone->count; i++)
			scratch[total++] = &zone->records[i];
	}

	ret = ddi_radix_sort(sorter, (const u8 **)scratch, total, DDI_NAME_SIZE);
	if (ret)
		return ret;

	ddi_open_chapter_index_reset(oci, vcn);
	for (i = 0; i < total; i++) {
		records[i] = *scratch[i];
		ret = ddi_open_chapter_index_put(oci, &records[i].name,
						 i / geo->records_per_page);
		if (ret)
			return ret;
	}
	*record_count = total;
	return 0;
}

/**
 * ddi_open_chapter_save_size() - Bytes needed to save a full open chapter.
 * @geo: the volume geometry.
 *
 * Return: the size of a buffer ddi_open_chapter_save() never overflows.
 */
size_t ddi_open_chapter_save_size(const struct ddi_geometry *geo)
{
	return DDI_OC_SAVE_RECORDS + (size_t)geo->records_per_chapter * sizeof(struct ddi_record);
}

#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
/**
 * ddi_open_chapter_save_crc() - Checksum of a saved open chapter.
 * @buffer: the saved form.
 * @count: the records it holds; the buffer must be long enough for them.
 *
 * Return: crc32_le of the header up to the crc field and of the records.
 */
u32 ddi_open_chapter_save_crc(const u8 *buffer, u32 count)
{
	u32 crc = crc32_le(~0, buffer, DDI_OC_SAVE_CRC);

	return crc32_le(crc, buffer + DDI_OC_SAVE_RECORDS,
			(size_t)count * sizeof(struct ddi_record));
}
#endif

static u32 saved_count(struct ddi_open_chapter_zone *zones[], unsigned int zone_count)
{
	unsigned int z;
	u32 total = 0;

	for (z = 0; z < zone_count; z++)
		total += zones[z]->count;
	return total;
}

/**
 * ddi_open_chapter_encode() - Write the open chapter into a save stream.
 * @zones: every zone's part of the open chapter; none may be in use.
 * @zone_count: how many zones.
 * @vcn: the virtual chapter the records were collected for.
 * @s: the stream; the saved form (see open-chapter.h) is written to it.
 * @size: the most bytes the saved form may take.
 *
 * The checksum leads the records, so it is computed over the zones
 * first: the records are written straight from the zones, never copied.
 *
 * Return: 0; -EINVAL without zones; -ENOSPC if the records need more than
 * @size; or the stream's error.
 */
int ddi_open_chapter_encode(struct ddi_open_chapter_zone *zones[], unsigned int zone_count,
			    u64 vcn, struct ddi_save_stream *s, size_t size)
{
	u8 header[DDI_OC_SAVE_RECORDS];
	unsigned int z;
	u32 total, crc;

	/* Records are saved as they are in memory: two 16-byte arrays. */
	BUILD_BUG_ON(sizeof(struct ddi_record) != DDI_NAME_SIZE + DDI_DATA_SIZE);
	if (zone_count == 0)
		return ddi_stream_fail(s, -EINVAL);
	total = saved_count(zones, zone_count);
	if (size < DDI_OC_SAVE_RECORDS + (size_t)total * sizeof(struct ddi_record))
		return ddi_stream_fail(s, -ENOSPC);

	memcpy(header, DDI_OC_SAVE_MAGIC, DDI_OC_SAVE_MAGIC_BYTES);
	put_unaligned_le64(vcn, header + DDI_OC_SAVE_VCN);
	put_unaligned_le32(total, header + DDI_OC_SAVE_COUNT);
	crc = crc32_le(~0, header, DDI_OC_SAVE_CRC);
	for (z = 0; z < zone_count; z++)
		crc = crc32_le(crc, (const u8 *)zones[z]->records,
			       (size_t)zones[z]->count * sizeof(struct ddi_record));
	put_unaligned_le32(crc, header + DDI_OC_SAVE_CRC);
	ddi_save_stream_write(s, header, sizeof(header));
	for (z = 0; z < zone_count; z++)
		ddi_save_stream_write(s, zones[z]->records,
				      (size_t)zones[z]->count * sizeof(struct ddi_record));
	return s->error;
}

#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
/**
 * ddi_open_chapter_save() - Save the open chapter into a buffer.
 * @zones: every zone's part of the open chapter; none may be in use.
 * @zone_count: how many zones.
 * @vcn: the virtual chapter the records were collected for.
 * @buffer: where to write the saved form (see open-chapter.h).
 * @size: bytes of @buffer; ddi_open_chapter_save_size() is always enough.
 * @length: set to the bytes written.
 *
 * Return: 0; -EINVAL without zones; -ENOSPC if @buffer is too small.
 */
int ddi_open_chapter_save(struct ddi_open_chapter_zone *zones[], unsigned int zone_count,
			  u64 vcn, u8 *buffer, size_t size, size_t *length)
{
	struct ddi_save_stream s;
	int ret;

	ddi_save_stream_init_memory(&s, buffer, size, true);
	ret = ddi_open_chapter_encode(zones, zone_count, vcn, &s, size);
	if (!ret)
		*length = s.pos;
	return ret;
}
#endif

/**
 * ddi_open_chapter_decode() - Refill the zones from a save stream.
 * @zones: every zone's part of the open chapter; none may be in use.
 * @zone_count: how many zones; need not be the count the chapter was saved
 *              with.
 * @zone_of: picks each record's zone among @zone_count.
 * @s: the stream, at the saved form's first byte.
 * @size: the most bytes the saved form may take.
 * @apply: whether to fill the zones, or only check what is read.
 * @vcn: set to the virtual chapter the records were collected for.
 * @dropped: set to the records that did not fit their zone.
 *
 * With @apply the zones are emptied and take the saved records as they
 * are read, each in the zone @zone_of picks; the checksum is known only at
 * the end, so a refused chapter leaves the zones empty. With another zone
 * count a zone can be given more records than it holds; those are dropped
 * and counted, as the index may forget records but must not overfill a
 * chapter. A name saved twice is refused: a chapter holds a name once.
 * The statistics are not changed.
 *
 * Return: 0; -EBADMSG if the stream is short, not a saved open chapter,
 * fails its checksum, claims more records than a chapter or @size holds,
 * or (seen only with @apply) holds a name twice; -EINVAL if @zone_of picks
 * a zone that does not exist; or the stream's error.
 */
int ddi_open_chapter_decode(struct ddi_open_chapter_zone *zones[], unsigned int zone_count,
			    ddi_zone_of_t zone_of, struct ddi_save_stream *s, size_t size,
			    bool apply, u64 *vcn, u32 *dropped)
{
	struct ddi_record chunk[DDI_STREAM_CHUNK_BYTES / sizeof(struct ddi_record)];
	u8 header[DDI_OC_SAVE_RECORDS];
	unsigned int z;
	u32 count, i, j, n, crc, lost = 0;
	int ret = 0;

	if (zone_count == 0)
		return ddi_stream_fail(s, -EINVAL);
	if (size < DDI_OC_SAVE_RECORDS || ddi_save_stream_read(s, header, sizeof(header)))
		return ddi_stream_fail(s, -EBADMSG);
	count = get_unaligned_le32(header + DDI_OC_SAVE_COUNT);
	if (memcmp(header, DDI_OC_SAVE_MAGIC, DDI_OC_SAVE_MAGIC_BYTES) != 0 ||
	    count > zones[0]->geo->records_per_chapter ||
	    (size - DDI_OC_SAVE_RECORDS) / sizeof(struct ddi_record) < count)
		return ddi_stream_fail(s, -EBADMSG);

	if (apply) {
		for (z = 0; z < zone_count; z++)
			ddi_open_chapter_zone_reset(zones[z]);
	}
	crc = crc32_le(~0, header, DDI_OC_SAVE_CRC);
	for (i = 0; i < count && !ret; i += n) {
		n = min_t(u32, count - i, ARRAY_SIZE(chunk));
		ret = ddi_save_stream_read(s, chunk, n * sizeof(struct ddi_record));
		if (ret)
			break;
		crc = crc32_le(crc, (const u8 *)chunk, n * sizeof(struct ddi_record));
		for (j = 0; j < n && !ret; j++) {
			u32 zone = zone_of(&chunk[j].name, zone_count);
			int stored;

			if (zone >= zone_count) {
				ret = -EINVAL;
				break;
			}
			if (!apply)
				continue;
			stored = store(zones[zone], &chunk[j].name, &chunk[j].data);
			if (stored < 0)
				lost++;
			else if (stored > 0)
				ret = -EBADMSG;
		}
	}
	if (!ret && crc != get_unaligned_le32(header + DDI_OC_SAVE_CRC))
		ret = -EBADMSG;
	if (ret) {
		for (z = 0; apply && z < zone_count; z++)
			ddi_open_chapter_zone_reset(zones[z]);
		return ddi_stream_fail(s, ret);
	}
	*vcn = get_unaligned_le64(header + DDI_OC_SAVE_VCN);
	*dropped = lost;
	return 0;
}

#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
/**
 * ddi_open_chapter_load() - Refill the zones from a saved open chapter.
 * @zones: every zone's part of the open chapter; none may be in use.
 * @zone_count: how many zones; need not be the count the chapter was saved
 *              with.
 * @zone_of: picks each record's zone among @zone_count.
 * @buffer: the saved form written by ddi_open_chapter_save().
 * @size: bytes of @buffer.
 * @vcn: set to the virtual chapter the records were collected for.
 * @dropped: set to the records that did not fit their zone.
 *
 * As ddi_open_chapter_decode(), but the whole chapter is checked before
 * the zones are changed.
 *
 * Return: 0; -EBADMSG, with the zones untouched, if the buffer is short,
 * not a saved open chapter, fails its checksum or claims more records than
 * a chapter holds, or with the zones emptied if it holds a name twice;
 * -EINVAL, zones untouched, if @zone_of picks a zone that does not exist.
 */
int ddi_open_chapter_load(struct ddi_open_chapter_zone *zones[], unsigned int zone_count,
			  ddi_zone_of_t zone_of, const u8 *buffer, size_t size, u64 *vcn,
			  u32 *dropped)
{
	struct ddi_save_stream s;
	int ret;

	ddi_save_stream_init_memory(&s, (u8 *)buffer, size, false);
	ret = ddi_open_chapter_decode(zones, zone_count, zone_of, &s, size, false, vcn,
				      dropped);
	if (ret)
		return ret;
	ddi_save_stream_init_memory(&s, (u8 *)buffer, size, false);
	return ddi_open_chapter_decode(zones, zone_count, zone_of, &s, size, true, vcn,
				       dropped);
}
#endif
