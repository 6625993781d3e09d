/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A generator of backup-like post sequences for the benchmarks: several
 * generations of the same blocks, each a copy of the one before with runs
 * of blocks changed and runs inserted, and the same volume with duplicates
 * drawn at random instead. It knows the exact answer for every post (new,
 * or how many posts ago the same block was posted), so a benchmark can say
 * how many duplicates an index could have found and check what it did.
 */
#ifndef DDI_BENCH_BACKUP_DATA_H
#define DDI_BENCH_BACKUP_DATA_H

#include <linux/dm-dedup-index.h>
#include <linux/types.h>

/* The distance of a post whose block was never posted before. */
#define DDI_BACKUP_DATA_NEW U32_MAX

/*
 * The most posts a data set may hold: while generating it takes 12 bytes
 * a post (two arrays kept, one scratch), so at most 192 MiB of vmalloc.
 */
#define DDI_BACKUP_DATA_MAX_POSTS (16U << 20)

/**
 * struct ddi_backup_data_config - What data to generate.
 * @blocks: blocks of generation 0, all new.
 * @generations: generations posted one after the other, at least 1.
 * @change_percent: of a generation's blocks, about this many percent are
 *	replaced by new blocks in the next one, in runs (runs may overlap,
 *	so somewhat fewer are).
 * @insert_percent: exactly this many percent (rounded down) of a
 *	generation's length are inserted as new blocks in the next one, in
 *	runs between copied blocks.
 * @mean_run: mean length of a changed run and length of an inserted run.
 * @random: the random-duplicates mode: the same posts are new or
 *	duplicates as in the backup-like data of the same config, but each
 *	duplicate repeats a uniformly random earlier block, with no locality.
 * @seed: the seed of every choice, and of the names.
 */
struct ddi_backup_data_config {
	u32 blocks;
	u32 generations;
	u32 change_percent;
	u32 insert_percent;
	u32 mean_run;
	bool random;
	u64 seed;
};

/**
 * struct ddi_backup_data - A generated post sequence.
 * @seed: the config's seed, which also picks the names.
 * @posts: posts in the sequence.
 * @blocks: distinct blocks posted; block ids run from 0 to @blocks - 1 in
 *	the order of their first post.
 * @duplicates: posts whose block was posted before: the exact count of
 *	duplicates, since distinct blocks have distinct names.
 * @changed: blocks that replaced a copied block, over all generations.
 * @inserted: blocks inserted between copied blocks, over all generations.
 * @block: per post, the block posted.
 * @distance: per post, how many posts back the same block was last
 *	posted (1 for the post just before), or DDI_BACKUP_DATA_NEW.
 */
struct ddi_backup_data {
	u64 seed;
	u32 posts;
	u32 blocks;
	u32 duplicates;
	u32 changed;
	u32 inserted;
	u32 *block;
	u32 *distance;
};

u64 ddi_backup_data_max_posts(const struct ddi_backup_data_config *config);
int ddi_backup_data_generate(const struct ddi_backup_data_config *config,
			     struct ddi_backup_data *data);
void ddi_backup_data_free(struct ddi_backup_data *data);
u32 ddi_backup_data_within(const struct ddi_backup_data *data, u64 window);
void ddi_backup_data_name(const struct ddi_backup_data *data, u32 block, struct ddi_name *name);
void ddi_backup_data_data(const struct ddi_backup_data *data, u32 block,
			  struct ddi_data *record_data);

#endif /* DDI_BENCH_BACKUP_DATA_H */
