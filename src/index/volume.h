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
	u64 repaired_pages;
	u64 read_errors;
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

	/*
	 * Guards the cache mapping, its slots, the read queue, writing_chapter
	 * and bad_pages.
	 */
	struct mutex read_mutex;
	/*
	 * The physical chapter ddi_volume_write_chapter() is overwriting, or
	 * chapters_per_volume when none. While it is set, no page of that
	 * chapter is cached or can be: it is set before the chapter's pages
	 * are forgotten, and ddi_volume_search_validate() refuses to let a
	 * read of such a page be installed or searched. So the writer fills
	 * the chapter's dm-bufio buffers without the mutex and nobody uses
	 * what they hold meanwhile: a reader that read one before the mark
	 * may checksum it during the fill, but its read was invalidated by
	 * then and it throws the answer away (ddi_volume_page_sum_ok()).
	 */
	u32 writing_chapter;
	/*
	 * A bit per physical page found damaged: lookups that need it are
	 * misses without a read until the page's chapter is forgotten or
	 * rewritten.
	 */
	unsigned long *bad_pages;
	/*
	 * The index pages of the chapter being written, held until the whole
	 * chapter is written and then given to the cache.
	 */
	struct dm_buffer **index_buffers;
	/* Reader threads sleep here for queued reads. */
	wait_queue_head_t reader_wait;
	/* Zone threads sleep here while the read queue is full. */
	wait_queue_head_t queue_space_wait;
	struct task_struct **readers;
	unsigned int reader_count;

	atomic64_t pages_read;
	atomic64_t read_queue_full_waits;
	atomic64_t corrupt_pages;
	/* Page reads for lookups the device failed; see ddi_volume_read_failed(). */
	atomic64_t read_errors;
	/*
	 * Pages the writer found still cached as it began to overwrite them:
	 * a breach of the writing_chapter rule, counted for the tests.
	 */
	atomic64_t cached_pages_overwritten;
#if IS_ENABLED(CONFIG_KUNIT)
	/*
	 * For tests: called by ddi_volume_write_chapter() once the chapter is
	 * forgotten, before its first page is written, so a test can let
	 * readers and zones run there even on a kernel without preemption.
	 */
	void (*write_pause_hook)(struct ddi_volume *volume);
	/* For tests: an error it returns fails ddi_volume_write_chapter(). */
	int (*write_fault_hook)(struct ddi_volume *volume, u64 vcn);
#endif
	/* Damaged index pages made again from their record pages. */
	atomic64_t repaired_pages;
};

/*
 * Sleep on @wq until @condition holds, dropping the read mutex meanwhile.
 * The condition is always evaluated with the mutex held. TASK_IDLE keeps
 * idle reader threads out of the load average and the hung task detector.
 */
#define wait_with_mutex(lock, wq, condition, state)			\
({									\
	struct mutex *__held = (lock);					\
	___wait_event(wq, condition, state, 0, 0,			\
		      mutex_unlock(__held); schedule(); mutex_lock(__held)); \
})

/* A kernel thread's stack and task_struct, for the memory figures. */
#define DDI_THREAD_BYTES (THREAD_SIZE + sizeof(struct task_struct))

u64 ddi_volume_memory_bytes(const struct ddi_geometry *geo, const struct ddi_volume_config *config);
u64 ddi_volume_reserve_bytes(const struct ddi_geometry *geo,
			     const struct ddi_volume_config *config);
int ddi_volume_create(const struct ddi_geometry *geo, struct block_device *bdev,
		      const struct ddi_volume_config *config,
		      struct ddi_volume **volume_ptr);
void ddi_volume_free(struct ddi_volume *volume);
/* A dm-bufio client on a device holding a copy of the volume. */
struct ddi_volume_storage {
	struct dm_bufio_client *client;
	struct block_device *bdev;
	sector_t start;
};

int ddi_volume_open_storage(struct ddi_volume *volume, struct block_device *bdev,
			    sector_t start, struct ddi_volume_storage *storage);
void ddi_volume_close_storage(struct ddi_volume_storage *storage);
void ddi_volume_replace_storage(struct ddi_volume *volume, struct ddi_volume_storage *storage);
#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
extern bool ddi_volume_fail_next_storage;
#endif

int ddi_volume_write_chapter(struct ddi_volume *volume,
			     struct ddi_open_chapter_index *chapter_index,
			     const struct ddi_record *records, u32 record_count);
#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
void ddi_volume_forget_chapter(struct ddi_volume *volume, u64 vcn);
#endif

int ddi_volume_search(struct ddi_volume *volume, struct ddi_request *request);
bool ddi_volume_page_sum_ok(const struct ddi_volume *volume, const u8 *data, u32 physical_page);
int ddi_volume_search_validate(struct ddi_volume *volume, struct ddi_cached_page *page,
			       u32 physical_page, bool sum_ok);
void ddi_volume_read_failed(struct ddi_volume *volume, u32 physical_page, int error);
int ddi_volume_search_page(struct ddi_volume *volume, struct ddi_request *request,
			   struct ddi_cached_page *page);
int ddi_volume_search_sync(struct ddi_volume *volume, const struct ddi_name *name,
			   u64 vcn, bool *found, struct ddi_data *data);
int ddi_volume_read_record_page(struct ddi_volume *volume, u32 chapter, u32 record_page,
				u8 *copy, struct ddi_record_page_header *header);
int ddi_volume_read_chapter_index(struct ddi_volume *volume, u64 vcn, u8 *pages,
				  u32 *last_lists);
void ddi_volume_prefetch(struct ddi_volume *volume, u32 chapter, u32 first, u32 count);
#if IS_ENABLED(CONFIG_DM_DEDUP_INDEX_KUNIT_TEST)
int ddi_chapter_boundaries_find(struct ddi_volume *volume, u64 *lowest_vcn,
				u64 *highest_vcn, bool *is_empty);
#endif
int ddi_chapter_boundaries_find_known(struct ddi_volume *volume, u64 written,
				      u64 *lowest_vcn, u64 *highest_vcn, bool *is_empty);
int ddi_volume_readers_start(struct ddi_volume *volume);
void ddi_volume_readers_stop(struct ddi_volume *volume);
void ddi_volume_get_stats(struct ddi_volume *volume, struct ddi_volume_stats *stats);

#endif /* DDI_VOLUME_H */
