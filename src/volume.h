/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The chapter volume store: chapters written as a circular log on a block
 * device through dm-bufio, a page cache searched lock-free by zone threads,
 * and reader threads that fetch uncached pages for queued requests.
 */
#ifndef DDI_VOLUME_H
#define DDI_VOLUME_H

#include <linux/blkdev.h>
#include <linux/mutex.h>
#include <linux/wait.h>

#include "chapter-index.h"
#include "geometry.h"
#include "index-page-map.h"
#include "page-cache.h"
#include "radix-sort.h"
#include "record-page.h"

/* ddi_volume_search() returns this when the request waits for a page read. */
#define DDI_QUEUED 1

/* What a volume needs beyond its geometry. */
struct ddi_volume_config {
	unsigned int zone_count;
	unsigned int reader_count;
	/* Cache room, in chapters' worth of record pages. */
	unsigned int cache_chapters;
	/* Written into every page; a page with another nonce is foreign. */
	u64 nonce;
	/* Sector of the device where volume page 0 starts. */
	sector_t start;
	/*
	 * Called, under the read mutex and without sleeping, to hand a request
	 * whose page read finished back to its zone thread.
	 */
	void (*requeue)(struct ddi_request *request, void *context);
	void *requeue_context;
};

struct ddi_volume_stats {
	u64 cache_hits;
	u64 cache_misses;
	u64 pages_read;
	u64 read_queue_full_waits;
	u64 corrupt_pages;
};

/* Counters one zone thread alone writes, on their own cache line. */
struct ddi_zone_counters {
	u64 cache_hits;
	u64 cache_misses;
} ____cacheline_aligned_in_smp;

struct ddi_volume {
	struct ddi_geometry geo;
	struct ddi_volume_config config;
	struct block_device *bdev;
	struct dm_bufio_client *client;
	unsigned int reserved_buffers;

	struct ddi_radix_sorter *sorter;
	const struct ddi_record **record_pointers;
	struct ddi_index_page_map *page_map;
	struct ddi_page_cache cache;
	struct ddi_zone_counters *zone_counters;

	/* Guards the cache mapping, its slots and the read queue. */
	struct mutex read_mutex;
	/* Reader threads sleep here for queued reads. */
	wait_queue_head_t reader_wait;
	/* Zone threads sleep here while the read queue is full. */
	wait_queue_head_t queue_space_wait;
	struct task_struct **readers;
	unsigned int reader_count;

	atomic64_t pages_read;
	atomic64_t read_queue_full_waits;
	atomic64_t corrupt_pages;
};

int ddi_volume_create(const struct ddi_geometry *geo, struct block_device *bdev,
		      const struct ddi_volume_config *config,
		      struct ddi_volume **volume_ptr);
void ddi_volume_free(struct ddi_volume *volume);
int ddi_volume_replace_storage(struct ddi_volume *volume, struct block_device *bdev,
			       sector_t start);

int ddi_volume_write_chapter(struct ddi_volume *volume,
			     struct ddi_open_chapter_index *chapter_index,
			     const struct ddi_record *records, u32 record_count);
void ddi_volume_forget_chapter(struct ddi_volume *volume, u64 vcn);

int ddi_volume_search(struct ddi_volume *volume, struct ddi_request *request);
int ddi_volume_search_sync(struct ddi_volume *volume, const struct ddi_name *name,
			   u64 vcn, bool *found, struct ddi_data *data);
int ddi_volume_read_record_page(struct ddi_volume *volume, u32 chapter, u32 record_page,
				u8 *copy, struct ddi_record_page_header *header);
int ddi_volume_read_chapter_index(struct ddi_volume *volume, u64 vcn, u8 *pages,
				  u32 *last_lists);
void ddi_volume_prefetch_chapter(struct ddi_volume *volume, u32 chapter);
int ddi_volume_find_boundaries(struct ddi_volume *volume, u64 *lowest_vcn,
			       u64 *highest_vcn, bool *is_empty);
int ddi_volume_find_boundaries_known(struct ddi_volume *volume, u64 written,
				     u64 *lowest_vcn, u64 *highest_vcn, bool *is_empty);
int ddi_volume_start_readers(struct ddi_volume *volume);
void ddi_volume_stop_readers(struct ddi_volume *volume);
void ddi_volume_get_stats(struct ddi_volume *volume, struct ddi_volume_stats *stats);

#endif /* DDI_VOLUME_H */
