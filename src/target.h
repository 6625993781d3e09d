/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The dedup-index device-mapper target: what its parts share.
 */
#ifndef DDI_TARGET_H
#define DDI_TARGET_H

#include <linux/device-mapper.h>
#include <linux/dm-dedup-index.h>
#include <linux/mutex.h>
#include <linux/workqueue.h>

#include "target-config.h"

#define DDI_BLOCK_SECTORS (4096 >> SECTOR_SHIFT)

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
	/* Blocks of writes not posted: no memory for the requests. */
	atomic64_t blocks_skipped;
	/*
	 * Write bios whose posts are launched and not all answered yet,
	 * verification included, counted by the epoch they were launched in.
	 */
	atomic64_t posts_in_flight[2];
};

struct ddi_shared_index;

struct ddi_target {
	struct dm_dev *data;
	struct dm_dev *index_dev;
	struct ddi_target_config config;
	struct ddi_shared_index *shared;
	struct ddi_index *index;
	struct ddi_target_stats stats;
	/* Reads the advised blocks when verify is on. */
	struct workqueue_struct *verify_wq;
	wait_queue_head_t posts_wait;
	/* Which of posts_in_flight new posts count in; 0 or 1. */
	unsigned int posts_epoch;
	/* Serialises the waits for posts, which flip posts_epoch. */
	struct mutex posts_wait_mutex;
};

/* Per-bio state of a write whose blocks will be posted once it succeeds. */
struct ddi_bio_context {
	struct ddi_write_posts *posts;
};

int ddi_target_register(void);
void ddi_target_unregister(void);

/* target-registry.c */
int ddi_get_shared_index(struct block_device *index_bdev, struct block_device *data_bdev,
			 const struct ddi_index_config *config,
			 struct ddi_shared_index **shared_ptr, char **error);
struct ddi_index *ddi_shared_index(struct ddi_shared_index *shared);
void ddi_put_shared_index(struct ddi_shared_index *shared);

/* target-io.c */
struct ddi_write_posts *ddi_hash_write(struct ddi_target *target, struct dm_target *ti,
				       struct bio *bio);
void ddi_post_write(struct ddi_write_posts *posts, bool succeeded);
void ddi_wait_for_posts(struct ddi_target *target);
int ddi_query_name(struct ddi_target *target, const struct ddi_name *name, bool *found,
		   u64 *block);

/* target-status.c */
void ddi_target_emit_status(struct ddi_target *target, char *result, unsigned int maxlen);
int ddi_target_message(struct ddi_target *target, unsigned int argc, char **argv,
		       char *result, unsigned int maxlen);

#endif /* DDI_TARGET_H */
