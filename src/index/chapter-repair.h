/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Repairing a chapter's damaged index pages from its record pages, which
 * hold every name the index pages list: done while the index is rebuilt,
 * when nothing else uses the volume.
 */
#ifndef DDI_CHAPTER_REPAIR_H
#define DDI_CHAPTER_REPAIR_H

#include "volume.h"

struct ddi_chapter_repair;

int ddi_chapter_repair_create(const struct ddi_geometry *geo,
			      struct ddi_chapter_repair **repair_ptr);
void ddi_chapter_repair_free(struct ddi_chapter_repair *repair);
/* Start collecting the names of virtual chapter @vcn. */
void ddi_chapter_repair_reset(struct ddi_chapter_repair *repair, u64 vcn);
/* Note that record page @record_page of the chapter holds @name. */
int ddi_chapter_repair_add(struct ddi_chapter_repair *repair, const struct ddi_name *name,
			   u32 record_page);
int ddi_chapter_repair_run(struct ddi_chapter_repair *repair, struct ddi_volume *volume,
			   u32 first_page, u32 end_page, u32 first_list, u32 end_list);
int ddi_chapter_repair_flush(struct ddi_volume *volume);

#endif /* DDI_CHAPTER_REPAIR_H */
