// SPDX-License-Identifier: GPL-2.0-only
/*
 * Backup-like data for the benchmarks (see backup-data.h): generation 0 is
 * new blocks, and each later generation copies the one before in order,
 * with runs of blocks replaced by new ones and runs of new blocks
 * inserted, as a nightly backup of a slowly changing disk would be. A
 * block is only an id; its record name is a bijective mix of the id, so
 * names look random and never clash. For every post the generator works
 * out how many posts ago its block was posted last, which is what an
 * index with a window of W records needs to find it: a post whose block
 * was posted at most W posts ago is a duplicate an index of window W can
 * find. (That counts posts, not records: a post found in the chapter
 * still open adds no record, so an index's window in posts is, if
 * anything, longer than its window in records.)
 */

#include <linux/errno.h>
#include <linux/math.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/prandom.h>
#include <linux/string.h>
#include <linux/unaligned.h>
#include <linux/vmalloc.h>

#include "backup-data.h"
#include "mix64.h"

/* A number below @n, with no modulo bias worth the name for n < 2^32. */
static u32 below(struct rnd_state *rnd, u32 n)
{
	return ((u64)prandom_u32_state(rnd) * n) >> 32;
}

/*
 * Selection sampling: true with probability @wanted / @left. Asked once for
 * each of @left candidates in turn, with @wanted lowered at every yes, it
 * says yes exactly @wanted times, every set of candidates alike likely.
 */
static bool pick(struct rnd_state *rnd, u32 wanted, u32 left)
{
	return below(rnd, left) < wanted;
}

static u64 inserted_blocks(const struct ddi_backup_data_config *config, u64 length)
{
	return div_u64(length * config->insert_percent, 100);
}

/**
 * ddi_backup_data_max_posts() - The posts a config generates.
 * @config: the data wanted.
 *
 * Inserts are an exact share of each generation, so the lengths are known
 * before any choice is made, and the arrays can be allocated once.
 *
 * Return: the posts, or U64_MAX if they would exceed
 * DDI_BACKUP_DATA_MAX_POSTS.
 */
u64 ddi_backup_data_max_posts(const struct ddi_backup_data_config *config)
{
	u64 length = config->blocks, total = 0;
	u32 g;

	for (g = 0; g < config->generations; g++) {
		total += length;
		if (total > DDI_BACKUP_DATA_MAX_POSTS)
			return U64_MAX;
		length += inserted_blocks(config, length);
	}
	return total;
}

/* Append the next generation, made from the @length posts at @prev. */
static u32 next_generation(const struct ddi_backup_data_config *config,
			   struct ddi_backup_data *data, struct rnd_state *rnd,
			   u32 prev, u32 length, u32 pos)
{
	u32 insert_left = inserted_blocks(config, length);
	u32 insert_runs = DIV_ROUND_UP(insert_left, config->mean_run);
	u32 change_runs = DIV_ROUND_UP(div_u64((u64)length * config->change_percent, 100),
				       config->mean_run);
	u32 changing = 0, j, n;

	/* Gap j comes before copied block j; gap @length is after the last. */
	for (j = 0; j <= length; j++) {
		if (insert_runs && pick(rnd, insert_runs, length + 1 - j)) {
			/* Equal shares: the runs add up to exactly insert_left. */
			n = DIV_ROUND_UP(insert_left, insert_runs);
			insert_left -= n;
			insert_runs--;
			data->inserted += n;
			while (n--)
				data->block[pos++] = data->blocks++;
		}
		if (j == length)
			break;
		if (change_runs && pick(rnd, change_runs, length - j)) {
			change_runs--;
			/* 1 to 2 * mean_run - 1 blocks: mean_run on average. */
			changing = max(changing, 1 + below(rnd, 2 * config->mean_run - 1));
		}
		if (changing) {
			changing--;
			data->changed++;
			data->block[pos++] = data->blocks++;
		} else {
			data->block[pos++] = data->block[prev + j];
		}
	}
	return pos;
}

/*
 * The random-duplicates mode: keep which posts are new (a new post's block
 * is the next id) and give each duplicate a uniformly random block among
 * those posted before it.
 */
static void randomize_duplicates(struct ddi_backup_data *data, struct rnd_state *rnd)
{
	u32 seen = 0, i;

	for (i = 0; i < data->posts; i++) {
		if (data->block[i] == seen)
			seen++;
		else
			data->block[i] = below(rnd, seen);
	}
}

/*
 * Each post's distance to the last post of its block, from a table of
 * where each block was last posted, and the exact duplicate count.
 */
static void count_distances(struct ddi_backup_data *data, u32 *last)
{
	u32 i;

	memset(last, 0xff, (size_t)data->blocks * sizeof(*last));
	data->duplicates = 0;
	for (i = 0; i < data->posts; i++) {
		u32 b = data->block[i];

		if (last[b] == DDI_BACKUP_DATA_NEW) {
			data->distance[i] = DDI_BACKUP_DATA_NEW;
		} else {
			data->distance[i] = i - last[b];
			data->duplicates++;
		}
		last[b] = i;
	}
}

/**
 * ddi_backup_data_generate() - Generate a post sequence.
 * @config: the data wanted.
 * @data: filled in; free it with ddi_backup_data_free(), also on failure.
 *
 * Memory is bounded by the config: two arrays of ddi_backup_data_max_posts()
 * u32s are kept, and one more is used while counting distances (a block
 * is posted at least once, so there are no more blocks than posts).
 *
 * Return: 0; -EINVAL for a config without blocks, generations or runs,
 * or with a percentage over 100; -E2BIG for more than
 * DDI_BACKUP_DATA_MAX_POSTS posts; -ENOMEM.
 */
int ddi_backup_data_generate(const struct ddi_backup_data_config *config,
			     struct ddi_backup_data *data)
{
	u32 prev = 0, length = config->blocks, pos, g;
	struct rnd_state rnd;
	u64 posts;
	u32 *last;

	memset(data, 0, sizeof(*data));
	if (!config->blocks || !config->generations || !config->mean_run ||
	    config->mean_run > U32_MAX / 2 || config->change_percent > 100 ||
	    config->insert_percent > 100)
		return -EINVAL;
	posts = ddi_backup_data_max_posts(config);
	if (posts == U64_MAX)
		return -E2BIG;
	data->seed = config->seed;
	data->block = vmalloc_array(posts, sizeof(*data->block));
	data->distance = vmalloc_array(posts, sizeof(*data->distance));
	last = vmalloc_array(posts, sizeof(*last));
	if (!data->block || !data->distance || !last) {
		vfree(last);
		return -ENOMEM;
	}

	prandom_seed_state(&rnd, config->seed);
	for (pos = 0; pos < length; pos++)
		data->block[pos] = pos;
	data->blocks = length;
	for (g = 1; g < config->generations; g++) {
		u32 start = pos;

		pos = next_generation(config, data, &rnd, prev, length, pos);
		prev = start;
		length = pos - start;
	}
	data->posts = pos;
	/* The arrays were sized by the same arithmetic. */
	if (WARN_ON(data->posts != posts)) {
		vfree(last);
		return -EINVAL;
	}
	if (config->random)
		randomize_duplicates(data, &rnd);
	count_distances(data, last);
	vfree(last);
	return 0;
}

/**
 * ddi_backup_data_free() - Free a post sequence's arrays.
 * @data: the data; may be freed twice, or after a failed generate.
 */
void ddi_backup_data_free(struct ddi_backup_data *data)
{
	vfree(data->block);
	vfree(data->distance);
	data->block = NULL;
	data->distance = NULL;
}

/**
 * ddi_backup_data_within() - Duplicates an index with a window could find.
 * @data: the data.
 * @window: the window, in posts.
 *
 * Return: the posts whose block was last posted at most @window posts
 * before them.
 */
u32 ddi_backup_data_within(const struct ddi_backup_data *data, u64 window)
{
	u32 count = 0, i;

	for (i = 0; i < data->posts; i++)
		count += data->distance[i] != DDI_BACKUP_DATA_NEW && data->distance[i] <= window;
	return count;
}

/**
 * ddi_backup_data_name() - The record name of a block.
 * @data: the data, whose seed picks the names.
 * @block: the block id.
 * @name: set to the name: its first eight bytes are a bijective mix of
 *	the id, so two blocks never share a name; the other eight are a mix
 *	of those, so every byte looks random (hooks and zones spread evenly).
 */
void ddi_backup_data_name(const struct ddi_backup_data *data, u32 block, struct ddi_name *name)
{
	u64 low = ddi_mix64(block ^ data->seed);

	put_unaligned_le64(low, &name->bytes[0]);
	put_unaligned_le64(ddi_mix64(low ^ 0x9e3779b97f4a7c15ULL), &name->bytes[8]);
}

/**
 * ddi_backup_data_data() - The data every post of a block carries.
 * @data: the data.
 * @block: the block id.
 * @record_data: set to the id and its complement (never all zero) and the
 *	seed, so that a found post's answer shows whose data it is.
 */
void ddi_backup_data_data(const struct ddi_backup_data *data, u32 block,
			  struct ddi_data *record_data)
{
	put_unaligned_le32(block, &record_data->bytes[0]);
	put_unaligned_le32(~block, &record_data->bytes[4]);
	put_unaligned_le64(data->seed, &record_data->bytes[8]);
}
