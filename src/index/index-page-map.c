// SPDX-License-Identifier: GPL-2.0-only
/*
 * The index page map. For chapter c, entry c * entries_per_chapter + p
 * counts the delta lists held by index pages 0..p, which is also the first
 * list of page p + 1. The chapter's last page needs no entry: it ends at the
 * geometry's last list. Pages may hold no list at all, so a page's list
 * range can be empty (highest == lowest - 1, in u32 arithmetic).
 *
 * Saved form, little-endian: magic, last-update chapter, chapter count and
 * entries per chapter (so a map of another geometry is refused), entries.
 */

#include <linux/errno.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/unaligned.h>

#include "table-alloc.h"
#include "index-page-map.h"
#include "save-stream.h"

static const u8 page_map_magic[8] = "DDIIPM01";

enum {
	MAP_HEADER_BYTES = sizeof(page_map_magic) + sizeof(u64) + 2 * sizeof(u32),
};

/**
 * ddi_index_page_map_memory_bytes() - RAM an index page map takes.
 * @geo: the volume geometry.
 *
 * Return: the bytes ddi_index_page_map_create() allocates.
 */
size_t ddi_index_page_map_memory_bytes(const struct ddi_geometry *geo)
{
	size_t entries = (size_t)(geo->index_pages_per_chapter - 1) * geo->chapters_per_volume;

	return kmalloc_size_roundup(sizeof(struct ddi_index_page_map)) +
	       ddi_table_bytes(max_t(size_t, entries, 1) * sizeof(u16));
}

/**
 * ddi_index_page_map_create() - Make an empty index page map.
 * @geo: the volume geometry; must outlive the map.
 * @map_ptr: set to the new map.
 *
 * Return: 0, or -ENOMEM.
 */
int ddi_index_page_map_create(const struct ddi_geometry *geo,
			      struct ddi_index_page_map **map_ptr)
{
	struct ddi_index_page_map *map;
	size_t entries;

	map = kzalloc(sizeof(*map), GFP_KERNEL);
	if (!map)
		return -ENOMEM;
	map->geo = geo;
	map->entries_per_chapter = geo->index_pages_per_chapter - 1;
	entries = (size_t)map->entries_per_chapter * geo->chapters_per_volume;
	/* A one-page chapter index needs no entries; keep a valid pointer anyway. */
	map->entries = ddi_table_calloc(max_t(size_t, entries, 1), sizeof(u16));
	if (!map->entries) {
		kfree(map);
		return -ENOMEM;
	}
	*map_ptr = map;
	return 0;
}

/**
 * ddi_index_page_map_free() - Free an index page map.
 * @map: the map; may be NULL.
 */
void ddi_index_page_map_free(struct ddi_index_page_map *map)
{
	if (!map)
		return;
	kvfree(map->entries);
	kfree(map);
}

static u16 *chapter_entries(const struct ddi_index_page_map *map, u32 chapter)
{
	return map->entries + (size_t)chapter * map->entries_per_chapter;
}

/**
 * ddi_index_page_map_update() - Record the lists an index page was given.
 * @map: the map.
 * @vcn: the virtual chapter being written.
 * @chapter: its physical chapter.
 * @index_page: the index page within the chapter.
 * @last_list: the last list on the page; U32_MAX (-1) when the chapter's
 *	pages so far hold no list at all.
 *
 * Pages must be updated in order within a chapter, as they are packed.
 */
void ddi_index_page_map_update(struct ddi_index_page_map *map, u64 vcn, u32 chapter,
			       u32 index_page, u32 last_list)
{
	map->last_update = vcn;
	if (index_page >= map->entries_per_chapter)
		return;
	/* Stored as a count: last_list + 1 wraps -1 to 0 lists. */
	chapter_entries(map, chapter)[index_page] = last_list + 1;
}

/**
 * ddi_index_page_map_find() - Which index page holds a name's delta list.
 * @map: the map.
 * @name: the record name.
 * @chapter: the physical chapter.
 *
 * Return: the index page number within the chapter.
 */
u32 ddi_index_page_map_find(const struct ddi_index_page_map *map,
			    const struct ddi_name *name, u32 chapter)
{
	const u16 *entries = chapter_entries(map, chapter);
	u32 list = ddi_geometry_delta_list(map->geo, name);
	u32 low = 0, high = map->entries_per_chapter;

	/*
	 * The first page whose cumulative list count exceeds @list holds it;
	 * past every entry it is the last page. Counts never decrease, so
	 * a binary search for that bound finds it.
	 */
	while (low < high) {
		u32 middle = low + (high - low) / 2;

		if (list < entries[middle])
			high = middle;
		else
			low = middle + 1;
	}
	return low;
}

/**
 * ddi_index_page_map_bounds() - The delta lists an index page holds.
 * @map: the map.
 * @chapter: the physical chapter.
 * @index_page: the index page within the chapter.
 * @lowest_list: set to its first list.
 * @highest_list: set to its last list; lowest - 1 if it holds none.
 */
void ddi_index_page_map_bounds(const struct ddi_index_page_map *map, u32 chapter,
			       u32 index_page, u32 *lowest_list, u32 *highest_list)
{
	const u16 *entries = chapter_entries(map, chapter);
	u32 end;

	*lowest_list = index_page == 0 ? 0 : entries[index_page - 1];
	end = index_page < map->entries_per_chapter ? entries[index_page] :
						     map->geo->delta_lists_per_chapter;
	*highest_list = end - 1;
}

/**
 * ddi_index_page_map_save_size() - Bytes a saved map of this geometry takes.
 * @geo: the volume geometry.
 *
 * Return: the size in bytes.
 */
size_t ddi_index_page_map_save_size(const struct ddi_geometry *geo)
{
	return MAP_HEADER_BYTES + sizeof(u16) * (size_t)(geo->index_pages_per_chapter - 1) *
				  geo->chapters_per_volume;
}

/**
 * ddi_index_page_map_encode() - Write the map into a save stream.
 * @map: the map.
 * @s: the stream; ddi_index_page_map_save_size() bytes are written.
 *
 * Return: 0 or the stream's error.
 */
int ddi_index_page_map_encode(const struct ddi_index_page_map *map, struct ddi_save_stream *s)
{
	size_t count = (size_t)map->entries_per_chapter * map->geo->chapters_per_volume;
	u8 chunk[DDI_STREAM_CHUNK_BYTES];
	size_t i, used;

	memcpy(chunk, page_map_magic, sizeof(page_map_magic));
	put_unaligned_le64(map->last_update, chunk + 8);
	put_unaligned_le32(map->geo->chapters_per_volume, chunk + 16);
	put_unaligned_le32(map->entries_per_chapter, chunk + 20);
	ddi_save_stream_write(s, chunk, MAP_HEADER_BYTES);
	for (i = 0, used = 0; i < count; i++) {
		put_unaligned_le16(map->entries[i], chunk + used);
		used += sizeof(u16);
		if (used == sizeof(chunk) || i + 1 == count) {
			ddi_save_stream_write(s, chunk, used);
			used = 0;
		}
	}
	return s->error;
}

/**
 * ddi_index_page_map_decode() - Read a map from a save stream.
 * @map: the map, made for the geometry the map was saved with.
 * @s: the stream, at the map's first byte.
 * @apply: whether to change @map, or only check what is read.
 *
 * A chapter's counts must rise (or stay, for empty pages) and never pass
 * the chapter's list count; anything else would send lookups to wrong
 * pages or past the end. Entries are checked as they are read, so with
 * @apply a refused map is left partly loaded.
 *
 * Return: 0; -EBADMSG for a bad magic, another geometry, entries out of
 * range or a stream too short; or the stream's error.
 */
int ddi_index_page_map_decode(struct ddi_index_page_map *map, struct ddi_save_stream *s,
			      bool apply)
{
	size_t count = (size_t)map->entries_per_chapter * map->geo->chapters_per_volume;
	u32 lists = map->geo->delta_lists_per_chapter;
	u8 chunk[DDI_STREAM_CHUNK_BYTES];
	u32 in_chapter = 0;
	u16 previous = 0;
	size_t i, n, j;

	if (ddi_save_stream_read(s, chunk, MAP_HEADER_BYTES))
		return s->error;
	if (memcmp(chunk, page_map_magic, sizeof(page_map_magic)) != 0 ||
	    get_unaligned_le32(chunk + 16) != map->geo->chapters_per_volume ||
	    get_unaligned_le32(chunk + 20) != map->entries_per_chapter)
		return ddi_stream_fail(s, -EBADMSG);
	if (apply)
		map->last_update = get_unaligned_le64(chunk + 8);

	for (i = 0; i < count; i += n) {
		n = min_t(size_t, count - i, sizeof(chunk) / sizeof(u16));
		if (ddi_save_stream_read(s, chunk, n * sizeof(u16)))
			return s->error;
		for (j = 0; j < n; j++) {
			u16 entry = get_unaligned_le16(chunk + j * sizeof(u16));

			if (in_chapter == 0)
				previous = 0;
			if (entry < previous || entry > lists)
				return ddi_stream_fail(s, -EBADMSG);
			previous = entry;
			if (++in_chapter == map->entries_per_chapter)
				in_chapter = 0;
			if (apply)
				map->entries[i + j] = entry;
		}
	}
	return 0;
}

/* KUnit only: entry points the tests use and the index does not. */
#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
/**
 * ddi_index_page_map_save() - Write the map into a buffer.
 * @map: the map.
 * @buf: the buffer.
 * @len: its length; at least ddi_index_page_map_save_size().
 *
 * Return: 0, or -EBADMSG if @buf is too short.
 */
int ddi_index_page_map_save(const struct ddi_index_page_map *map, u8 *buf, size_t len)
{
	struct ddi_save_stream s;

	if (len < ddi_index_page_map_save_size(map->geo))
		return -EBADMSG;
	ddi_save_stream_init_memory(&s, buf, len, true);
	return ddi_index_page_map_encode(map, &s);
}

/**
 * ddi_index_page_map_load() - Read a saved map back from a buffer.
 * @map: the map, made for the geometry the map was saved with.
 * @buf: the saved bytes.
 * @len: their length.
 *
 * The map is left unchanged unless the whole saved map checks out.
 *
 * Return: 0, or -EBADMSG for a bad magic, a short buffer, another
 * geometry, or entries out of range.
 */
int ddi_index_page_map_load(struct ddi_index_page_map *map, const u8 *buf, size_t len)
{
	struct ddi_save_stream s;
	int ret;

	if (len < ddi_index_page_map_save_size(map->geo))
		return -EBADMSG;
	ddi_save_stream_init_memory(&s, (u8 *)buf, len, false);
	ret = ddi_index_page_map_decode(map, &s, false);
	if (ret)
		return ret;
	ddi_save_stream_init_memory(&s, (u8 *)buf, len, false);
	return ddi_index_page_map_decode(map, &s, true);
}
#endif
