/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Record pages: up to 127 records sorted by name and laid out as a binary
 * search tree in heap order (the children of node n are 2n+1 and 2n+2), so a
 * lookup walks the page in place. The last 32 bytes are the page header.
 */
#ifndef DDI_RECORD_PAGE_H
#define DDI_RECORD_PAGE_H

#include "geometry.h"
#include "radix-sort.h"

struct ddi_record_page_header {
	u64 vcn;
	u32 record_page;	/* number within the chapter */
	u32 count;
};

/*
 * Encode @count records (in any order) into @page, stamped with @nonce, the
 * virtual chapter @vcn and its number @record_page within the chapter.
 * @scratch holds records_per_page pointers; @sorter sorts that many keys.
 */
int ddi_record_page_encode(u8 *page, const struct ddi_record *records, u32 count,
			   const struct ddi_record **scratch,
			   struct ddi_radix_sorter *sorter, u64 nonce, u64 vcn,
			   u32 record_page);
/* The checksum alone, and the rest of validate() for a page whose sum is good. */
bool ddi_record_page_sum_ok(const u8 *page);
int ddi_record_page_parse(const u8 *page, u64 nonce, struct ddi_record_page_header *header);
/* Check magic, @nonce and checksum; -EBADMSG if the page is not ours or damaged. */
int ddi_record_page_validate(const u8 *page, u64 nonce,
			     struct ddi_record_page_header *header);
/* Search a validated page. Fills @data (if not NULL) when found. */
bool ddi_record_page_search(const u8 *page, const struct ddi_name *name,
			    struct ddi_data *data);

#endif /* DDI_RECORD_PAGE_H */
