/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The dedup-index device-mapper target: what its parts share.
 */
#ifndef DDI_TARGET_H
#define DDI_TARGET_H

#include <linux/device-mapper.h>
#include <linux/dm-dedup-index.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/sizes.h>
#include <linux/workqueue.h>

#include "target-config.h"

/*
 * The block the target names: 4 KiB whatever the page size, as the
 * index's block numbers and the names in it are of 4 KiB blocks.
 */
#define DDI_BLOCK_SIZE SZ_4K
#define DDI_BLOCK_SECTORS (DDI_BLOCK_SIZE >> SECTOR_SHIFT)

/* Counters of what the target did with the blocks written through it. */
struct ddi_target_stats {
	/* Whole blocks of successful writes posted to the index. */
	atomic64_t blocks_indexed;
	/* Posts the index answered with an earlier block of the same name. */
	atomic64_t duplicate_advice;
	/* Advice checked by reading the advised block: same content. */
	atomic64_t verified_duplicates;
	/* Advice checked and found out of date: the block has changed since. */
	atomic64_t stale_advice;
	/*
	 * Blocks of writes not posted: the posts in flight were at their
	 * bound, or no memory could be had without waiting.
	 */
	atomic64_t blocks_skipped;
	/*
	 * Write bios whose posts are launched and not all answered yet,
	 * verification included, counted by the epoch they were launched in.
	 */
	atomic64_t posts_in_flight[2];
};

struct ddi_shared_index;

/* Where a 4 KiB block split across a bio's segments is gathered to be hashed. */
struct ddi_block_buffer {
	u8 bytes[DDI_BLOCK_SIZE];
};

struct ddi_target {
	struct dm_dev *data;
	struct dm_dev *index_dev;
	struct ddi_target_config config;
	struct ddi_shared_index *shared;
	struct ddi_index *index;
	/*
	 * A copy of the index device the index moves onto when this table is
	 * resumed; NULL once moved, or if the index already uses index_dev.
	 */
	struct ddi_index_storage *storage;
	struct ddi_target_stats stats;
	/* Reads the advised blocks when verify is on. */
	struct workqueue_struct *verify_wq;
	wait_queue_head_t posts_wait;
	/* Which of posts_in_flight new posts count in; 0 or 1. */
	unsigned int posts_epoch;
	/* Serialises the waits for posts, which flip posts_epoch. */
	struct mutex posts_wait_mutex;
	/*
	 * Bytes allocated for the posts of writes not yet fully answered,
	 * and the most there may be (post_memory_kib); a write that would
	 * go past it is not posted.
	 */
	atomic_long_t posts_bytes;
	unsigned long posts_limit;
	/* One per CPU, used with preemption off while a block is gathered. */
	struct ddi_block_buffer __percpu *gather;
};

/* Per-bio state of a write whose blocks will be posted once it succeeds. */
struct ddi_bio_context {
	struct ddi_write_posts *posts;
};

/* target-registry.c */
int ddi_target_registry_get(struct block_device *index_bdev, struct block_device *data_bdev,
			    const struct ddi_index_config *config,
			    struct ddi_shared_index **shared_ptr,
			    struct ddi_index_storage **storage_ptr, char **error);
void ddi_target_registry_move(struct ddi_shared_index *shared, struct block_device *index_bdev,
			      struct ddi_index_storage *storage);
struct ddi_index *ddi_target_registry_index(struct ddi_shared_index *shared);
void ddi_target_registry_put(struct ddi_shared_index *shared);

/* target-io.c */
struct ddi_write_posts *ddi_target_io_hash_write(struct ddi_target *target, struct dm_target *ti,
						 struct bio *bio);
void ddi_target_io_post_write(struct ddi_write_posts *posts, bool succeeded);
void ddi_target_io_wait_for_posts(struct ddi_target *target);
int ddi_target_io_query_name(struct ddi_target *target, const struct ddi_name *name, bool *found,
			     u64 *block);
size_t ddi_target_io_posts_bytes(u32 blocks);

/* target-status.c */
void ddi_target_status_emit(struct ddi_target *target, char *result, unsigned int maxlen);
int ddi_target_status_message(struct ddi_target *target, unsigned int argc, char **argv,
			      char *result, unsigned int maxlen);
int ddi_target_status_ratio(u64 written, u64 duplicates, char *buf, size_t size);

#endif /* DDI_TARGET_H */
