/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The index page map: for every chapter, the last delta list held by each of
 * its index pages (the last page's is implied), so a lookup reads only the
 * one index page that can hold a name's list.
 */
#ifndef DDI_INDEX_PAGE_MAP_H
#define DDI_INDEX_PAGE_MAP_H

#include "geometry.h"

struct ddi_index_page_map {
	const struct ddi_geometry *geo;
	/* Virtual chapter of the latest update: saved, and checked on load. */
	u64 last_update;
	u32 entries_per_chapter;
	u16 *entries;
};

size_t ddi_index_page_map_memory_bytes(const struct ddi_geometry *geo);
int ddi_index_page_map_create(const struct ddi_geometry *geo,
			      struct ddi_index_page_map **map_ptr);
void ddi_index_page_map_free(struct ddi_index_page_map *map);
void ddi_index_page_map_update(struct ddi_index_page_map *map, u64 vcn, u32 chapter,
			       u32 index_page, u32 last_list);
u32 ddi_index_page_map_find(const struct ddi_index_page_map *map,
			    const struct ddi_name *name, u32 chapter);
void ddi_index_page_map_bounds(const struct ddi_index_page_map *map, u32 chapter,
			       u32 index_page, u32 *lowest_list, u32 *highest_list);
size_t ddi_index_page_map_save_size(const struct ddi_geometry *geo);
struct ddi_save_stream;
int ddi_index_page_map_encode(const struct ddi_index_page_map *map, struct ddi_save_stream *s);
int ddi_index_page_map_decode(struct ddi_index_page_map *map, struct ddi_save_stream *s,
			      bool apply);
/* Both return -EBADMSG for a bad magic or a buffer shorter than the save size. */
#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
int ddi_index_page_map_save(const struct ddi_index_page_map *map, u8 *buf, size_t len);
int ddi_index_page_map_load(struct ddi_index_page_map *map, const u8 *buf, size_t len);
#endif

#endif /* DDI_INDEX_PAGE_MAP_H */
