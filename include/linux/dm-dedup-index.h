/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dm-dedup-index: a persistent deduplication index.
 *
 * The index's public API: a module opens an index on a block device,
 * launches asynchronous requests (post, query, update, delete) that
 * complete through their callbacks on the index's answer thread, and saves
 * and closes it. Kernel-doc for each function is with its definition.
 */
#ifndef _LINUX_DM_DEDUP_INDEX_H
#define _LINUX_DM_DEDUP_INDEX_H

#include <linux/llist.h>
#include <linux/types.h>

#define DDI_NAME_SIZE 16
#define DDI_MAX_ZONES 16
#define DDI_MAX_READERS 16
#define DDI_DATA_SIZE 16
/* Bytes of its own that the index's user may keep in every save. */
#define DDI_CLIENT_STATE_BYTES 64
/* A sparse index keeps one name in this many, its hooks, for old chapters. */
#define DDI_SPARSE_SAMPLE_RATE 32

/* A record name: 16 bytes of a good hash of the content being indexed. */
struct ddi_name {
	u8 bytes[DDI_NAME_SIZE];
};

/* What the index remembers for a name, e.g. where the content lives. */
struct ddi_data {
	u8 bytes[DDI_DATA_SIZE];
};

/* One index entry; this is also its on-disk form in a record page. */
struct ddi_record {
	struct ddi_name name;
	struct ddi_data data;
};

/* How far the volume got resolving a request before it had to wait for I/O. */
enum ddi_volume_stage {
	/* Nothing known yet: look up the chapter index page first. */
	DDI_STAGE_START,
	/* priv.record_page holds the record page found on the index page. */
	DDI_STAGE_RECORD_PAGE_KNOWN,
	/* The record page was searched: found and old_data are final. */
	DDI_STAGE_RECORD_PAGE_SEARCHED,
	/* The chapter holds no entry for the name. */
	DDI_STAGE_ABSENT,
};

/* What a request asks of the index. */
enum ddi_request_type {
	/* Report the name's data if it is known; otherwise remember new_data. */
	DDI_POST,
	/* Look the name up; a name found in an old chapter is refreshed. */
	DDI_QUERY,
	/*
	 * Look the name up, adding and refreshing no entry; expired entries
	 * met on the way are freed, as by every lookup.
	 */
	DDI_QUERY_NO_UPDATE,
	/* Set the name's data to new_data, whether or not it was known. */
	DDI_UPDATE,
	/* Forget the name. */
	DDI_DELETE,
};

struct ddi_request;
typedef void (*ddi_request_callback_t)(struct ddi_request *request);

/**
 * struct ddi_request - One operation on the index.
 * @type: what to do; set by the caller.
 * @name: the record name; set by the caller.
 * @new_data: data to store; set by the caller for posts and updates.
 * @callback: called once when the request completes; set by the caller.
 * @status: 0 or a negative errno; set before @callback runs.
 * @found: whether the name was in the index.
 * @old_data: the data the index held for the name, if @found.
 * @priv: private to the index.
 */
struct ddi_request {
	enum ddi_request_type type;
	struct ddi_name name;
	struct ddi_data new_data;
	ddi_request_callback_t callback;
	int status;
	bool found;
	struct ddi_data old_data;
	struct {
		struct llist_node zone_node;
		struct ddi_index *index;
		struct ddi_request *next_in_read;
		u64 vcn;
		u32 zone;
		u32 record_page;
		enum ddi_volume_stage stage;
		bool requeued;
		/* The volume index named a chapter for the name. */
		bool hinted;
		/* The sparse cache named it (priv.vcn, priv.record_page). */
		bool sparse;
	} priv;
};

/**
 * enum ddi_index_opened - What an open found on the device.
 * @DDI_OPENED_FORMATTED: a blank device (or one 'format' allowed to be
 *	overwritten), formatted as a new, empty index.
 * @DDI_OPENED_LOADED: an index whose newest save was current, loaded.
 * @DDI_OPENED_REBUILT: an index whose save was stale, damaged or missing,
 *	rebuilt from its chapters (after a crash).
 * @DDI_OPENED_EMPTY: an index with no usable save and no chapter.
 */
enum ddi_index_opened {
	DDI_OPENED_FORMATTED,
	DDI_OPENED_LOADED,
	DDI_OPENED_REBUILT,
	DDI_OPENED_EMPTY,
};

/**
 * struct ddi_index_config - How to open an index.
 * @memory_mb: the RAM budget in MiB: the volume gets the largest shape
 *	whose index, with the default cache and 4 MiB of posts in flight,
 *	fits in it (see index-memory.c). Ignored when
 *	@record_pages_per_chapter is set.
 * @record_pages_per_chapter: if not 0, an explicit volume shape, with
 *	@chapters_per_volume; for small devices and tests.
 * @chapters_per_volume: see @record_pages_per_chapter.
 * @zone_count: zone threads, 1 to DDI_MAX_ZONES.
 * @reader_count: threads reading pages for queued requests, 1 to 16.
 * @cache_chapters: page cache size, in chapters' worth of record pages.
 * @format: whether a device holding something other than an index of this
 *	shape may be formatted; a blank device is always formatted.
 * @sparse: a sparse index: only the newest chapters (a twentieth) keep
 *	every name in RAM, the older ones only their hooks (a name in
 *	DDI_SPARSE_SAMPLE_RATE), so the same @memory_mb covers about ten
 *	times the window. A hook that finds an old chapter brings its index
 *	into a cache that the names after it search.
 */
struct ddi_index_config {
	unsigned int memory_mb;
	unsigned int record_pages_per_chapter;
	unsigned int chapters_per_volume;
	unsigned int zone_count;
	unsigned int reader_count;
	unsigned int cache_chapters;
	bool format;
	bool sparse;
};

/**
 * struct ddi_index_stats - What an index has done since it was opened.
 * @entries: names the volume index holds.
 * @posts_found: posts that found their name.
 * @posts_not_found: posts that added a new name.
 * @queries: queries and non-updating queries.
 * @updates: updates.
 * @deletes: deletes that found their name.
 * @requests: requests of every kind completed.
 * @chapters_written: chapters closed and written since open.
 * @chapters_failed: chapters closed but not written: the first failed
 *	write, and every chapter after it (the device is not written again).
 * @write_error: the errno of the first failed chapter write, or 0.
 * @chapter_entries_dropped: names left out of written chapters' indexes
 *	because a delta list outgrew its index page: each stays in its
 *	record page, but a lookup no longer finds it (a miss, never a wrong
 *	answer). Random names almost never do this; many in one delta list do.
 * @newest_vcn: the open chapter's virtual chapter number.
 * @cache_hits: volume page cache hits.
 * @cache_misses: volume page cache misses.
 * @pages_read: volume pages read by the reader threads.
 * @corrupt_pages: volume pages refused as corrupt or foreign.
 * @repaired_pages: damaged index pages made again from their chapter's
 *	record pages by a rebuild.
 * @read_errors: volume page reads for lookups that the device failed; the
 *	lookups waiting for them end as misses. The page is read again by
 *	the next lookup that needs it.
 * @volume_index_bytes: memory of the volume index.
 * @window_records: records the volume holds when full: how many distinct
 *	blocks the index can remember before it forgets the oldest.
 * @close_wait_ns: time the zone threads spent, summed, waiting at a chapter
 *	close for the chapter writer to finish the chapter before.
 * @false_hints: posts of new names that the volume index sent to a chapter
 *	for nothing, as another name's entry had the same tag: the volume
 *	index's false positives, each costing a chapter search.
 * @memory_bytes: RAM the index holds: volume index, page cache, open
 *	chapters and chapter writer (what "memory" budgets, less the posts
 *	of the index's user).
 * @sparse_chapters: chapters that keep only their hooks in RAM (0: dense).
 * @sparse_cache_hits: names found in a chapter of the sparse cache.
 * @sparse_cache_misses: names not in the volume index that the sparse
 *	cache did not hold either (new names, or duplicates sparse missed).
 * @sparse_chapters_loaded: chapter indexes read into the sparse cache.
 * @opened: what the open found and did.
 * @open_ms: how long the open took, a rebuild included.
 */
struct ddi_index_stats {
	u64 entries;
	u64 posts_found;
	u64 posts_not_found;
	u64 queries;
	u64 updates;
	u64 deletes;
	u64 requests;
	u64 chapters_written;
	u64 chapters_failed;
	int write_error;
	u64 chapter_entries_dropped;
	u64 newest_vcn;
	u64 cache_hits;
	u64 cache_misses;
	u64 pages_read;
	u64 corrupt_pages;
	u64 repaired_pages;
	u64 read_errors;
	u64 volume_index_bytes;
	u64 window_records;
	u64 close_wait_ns;
	u64 false_hints;
	u64 memory_bytes;
	u64 sparse_chapters;
	u64 sparse_cache_hits;
	u64 sparse_cache_misses;
	u64 sparse_chapters_loaded;
	enum ddi_index_opened opened;
	u64 open_ms;
};

/*
 * What the index's user keeps in a save, e.g. where a scan of its data
 * stands: all zero in a save made without a save hook.
 */
struct ddi_client_state {
	u8 bytes[DDI_CLIENT_STATE_BYTES];
};

/*
 * Fills in the client state of a save, called by every save while no
 * request is being processed: each request answered before it is in the
 * saved state, none answered after it is.
 */
typedef void (*ddi_save_hook_fn)(void *context, struct ddi_client_state *state);

struct block_device;
struct ddi_index;
struct ddi_index_storage;

int ddi_index_open(struct block_device *bdev, const struct ddi_index_config *config,
		   struct ddi_index **index_ptr, char **error);
void ddi_index_close(struct ddi_index *index);
void ddi_index_launch(struct ddi_index *index, struct ddi_request *request);
void ddi_index_flush(struct ddi_index *index);
int ddi_index_save(struct ddi_index *index);
int ddi_index_open_storage(struct ddi_index *index, struct block_device *bdev,
			   struct ddi_index_storage **storage_ptr);
void ddi_index_replace_storage(struct ddi_index *index, struct ddi_index_storage *storage);
void ddi_index_close_storage(struct ddi_index_storage *storage);
void ddi_index_get_stats(struct ddi_index *index, struct ddi_index_stats *stats);
int ddi_index_device_bytes(const struct ddi_index_config *config, u64 *bytes);
void ddi_index_set_save_hook(struct ddi_index *index, ddi_save_hook_fn fn, void *context);
void ddi_index_get_client_state(struct ddi_index *index, struct ddi_client_state *state);

#endif /* _LINUX_DM_DEDUP_INDEX_H */
