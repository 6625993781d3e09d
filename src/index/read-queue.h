/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The read queue of the page cache: page reads waiting for a reader thread
 * (read-queue.c). Its entries live in struct ddi_page_cache.
 */
#ifndef DDI_READ_QUEUE_H
#define DDI_READ_QUEUE_H

#include <linux/types.h>

struct ddi_page_cache;
struct ddi_request;

enum {
	/* Entries in the ring; one is always kept free. */
	DDI_READ_QUEUE_SIZE = 4096,
};

/* A page read waiting for a reader thread, with every request wanting it. */
struct ddi_queued_read {
	u32 physical_page;
	/* The page's chapter was forgotten: requeue its requests unread. */
	bool invalid;
	/* A reader thread is working on this entry. */
	bool reserved;
	struct ddi_request *first_request;
	struct ddi_request *last_request;
};

bool ddi_read_queue_add(struct ddi_page_cache *cache, struct ddi_request *request,
			u32 physical_page);
bool ddi_read_queue_has_work(const struct ddi_page_cache *cache);
struct ddi_queued_read *ddi_read_queue_reserve(struct ddi_page_cache *cache);
void ddi_read_queue_release(struct ddi_page_cache *cache, struct ddi_queued_read *entry);

#endif /* DDI_READ_QUEUE_H */
