/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Chapter index pages: for each name in a closed chapter, which record page
 * holds it. Names are split into delta lists by their bits; each list keeps
 * its keys sorted and stores the gaps between them Rice-coded, followed by
 * the record page number, and lists are packed into index pages in order.
 */
#ifndef DDI_CHAPTER_INDEX_H
#define DDI_CHAPTER_INDEX_H

#include "geometry.h"

/* Returned as the record page of a name the chapter index does not hold. */
#define DDI_NO_RECORD_PAGE U32_MAX

/* The chapter index being built for a chapter about to be written. */
struct ddi_open_chapter_index;

size_t ddi_open_chapter_index_memory_bytes(const struct ddi_geometry *geo);
int ddi_open_chapter_index_create(const struct ddi_geometry *geo,
				  struct ddi_open_chapter_index **oci_ptr);
void ddi_open_chapter_index_free(struct ddi_open_chapter_index *oci);
/* Empty the index and start collecting for virtual chapter @vcn. */
void ddi_open_chapter_index_reset(struct ddi_open_chapter_index *oci, u64 vcn);
u64 ddi_open_chapter_index_vcn(const struct ddi_open_chapter_index *oci);
/* Record that @name lives on record page @record_page of the chapter. */
int ddi_open_chapter_index_put(struct ddi_open_chapter_index *oci,
			       const struct ddi_name *name, u32 record_page);
/*
 * Pack the lists from @first_list on into one index page of @page (the
 * page's full bytes_per_page) stamped with @nonce. The last page of a chapter
 * must take every remaining list; entries that cannot fit are dropped and
 * counted. Sets *@lists_packed (0 is allowed when a page holds no list).
 */
int ddi_open_chapter_index_pack_page(struct ddi_open_chapter_index *oci, u8 *page,
				     u64 nonce, u32 first_list, bool last_page,
				     u32 *lists_packed);
/* Entries dropped because their lists did not fit the chapter's pages. */
u32 ddi_open_chapter_index_dropped(const struct ddi_open_chapter_index *oci);

/* A chapter index page read back from disk, checked and decoded. */
struct ddi_index_page {
	const u8 *data;
	u64 vcn;
	u32 lowest_list;
	/* lowest_list - 1 (in u32 arithmetic) on a page that holds no list. */
	u32 highest_list;
	u32 entry_count;
	/* Bits the coded lists take, for reporting how dense the coding is. */
	u32 coded_bits;
};

/*
 * Check a page's magic, @nonce, checksum and internal ranges and decode its
 * header. Returns -EBADMSG, leaving @ip unusable, for anything wrong.
 */
int ddi_chapter_index_page_init(struct ddi_index_page *ip, const struct ddi_geometry *geo,
				const u8 *data, u64 nonce);
/* The checksum alone, and the rest of init() for a page whose sum is good. */
bool ddi_chapter_index_page_sum_ok(const u8 *data, const struct ddi_geometry *geo);
int ddi_chapter_index_page_parse(struct ddi_index_page *ip, const struct ddi_geometry *geo,
				 const u8 *data, u64 nonce);
/*
 * Find the record page for @name. Sets *@record_page to DDI_NO_RECORD_PAGE
 * if the page has no entry for it; -EBADMSG if the name's list is not on this
 * page or its coding runs out of bounds.
 */
int ddi_chapter_index_page_search(const struct ddi_index_page *ip, const struct ddi_geometry *geo,
				  const struct ddi_name *name, u32 *record_page);
/* Call @visit with the list and address of every entry of the page. */
u32 ddi_chapter_index_page_walk(const struct ddi_index_page *ip, const struct ddi_geometry *geo,
				void (*visit)(void *context, u32 list, u64 address), void *context);

#endif /* DDI_CHAPTER_INDEX_H */
