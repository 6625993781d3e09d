// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the target reports: its status line and its messages ("stats",
 * "query <name>", "save").
 */

#include <linux/device-mapper.h>
#include <linux/hex.h>
#include <linux/kernel.h>

#include "target.h"

#define DM_MSG_PREFIX "dedup-index"

struct target_counts {
	struct ddi_index_stats index;
	u64 indexed;
	u64 advice;
	u64 verified;
	u64 stale;
	u64 skipped;
	/* Blocks written per block stored if every advised duplicate were shared, x100. */
	u64 ratio_x100;
};

static void gather(struct ddi_target *target, struct target_counts *c)
{
	const struct ddi_target_stats *stats = &target->stats;
	u64 unique;

	ddi_index_get_stats(target->index, &c->index);
	c->indexed = atomic64_read(&stats->blocks_indexed);
	c->advice = atomic64_read(&stats->duplicate_advice);
	c->verified = atomic64_read(&stats->verified_duplicates);
	c->stale = atomic64_read(&stats->stale_advice);
	c->skipped = atomic64_read(&stats->blocks_skipped);
	/* With verify on, only verified duplicates count; advice may be stale. */
	unique = c->indexed - (target->config.verify ? c->verified : c->advice);
	c->ratio_x100 = unique ? div64_u64(c->indexed * 100, unique) : 100;
}

/**
 * ddi_target_emit_status() - The status line, fields in a fixed order.
 * @target: the target.
 * @result: where dm wants the line.
 * @maxlen: its size.
 *
 * blocks_indexed duplicate_advice verified_duplicates stale_advice
 * index_entries chapters_written cache_hits cache_misses pages_read
 * dedupe_ratio
 */
void ddi_target_emit_status(struct ddi_target *target, char *result, unsigned int maxlen)
{
	struct target_counts c;
	unsigned int sz = 0;

	gather(target, &c);
	DMEMIT("%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu.%02llu",
	       c.indexed, c.advice, c.verified, c.stale, c.index.entries,
	       c.index.chapters_written, c.index.cache_hits, c.index.cache_misses,
	       c.index.pages_read, c.ratio_x100 / 100, c.ratio_x100 % 100);
}

static void emit_stats(struct ddi_target *target, char *result, unsigned int maxlen)
{
	struct target_counts c;
	unsigned int sz = 0;

	gather(target, &c);
	DMEMIT("blocks_indexed=%llu\nduplicate_advice=%llu\nverified_duplicates=%llu\n",
	       c.indexed, c.advice, c.verified);
	DMEMIT("stale_advice=%llu\nblocks_skipped=%llu\nindex_entries=%llu\n",
	       c.stale, c.skipped, c.index.entries);
	DMEMIT("posts_found=%llu\nposts_not_found=%llu\nchapters_written=%llu\n",
	       c.index.posts_found, c.index.posts_not_found, c.index.chapters_written);
	DMEMIT("open_chapter=%llu\ncache_hits=%llu\ncache_misses=%llu\npages_read=%llu\n",
	       c.index.newest_vcn, c.index.cache_hits, c.index.cache_misses,
	       c.index.pages_read);
	DMEMIT("corrupt_pages=%llu\nvolume_index_bytes=%llu\ndedupe_ratio=%llu.%02llu\n",
	       c.index.corrupt_pages, c.index.volume_index_bytes, c.ratio_x100 / 100,
	       c.ratio_x100 % 100);
}

static int query_message(struct ddi_target *target, const char *hex, char *result,
			 unsigned int maxlen)
{
	struct ddi_name name;
	unsigned int sz = 0;
	bool found;
	u64 block;
	int ret;

	if (strlen(hex) != 2 * DDI_NAME_SIZE || hex2bin(name.bytes, hex, DDI_NAME_SIZE)) {
		DMWARN("a query needs a name of 32 hex digits");
		return -EINVAL;
	}
	ret = ddi_query_name(target, &name, &found, &block);
	if (ret)
		return ret;
	if (found)
		DMEMIT("found block=%llu\n", block);
	else
		DMEMIT("not found\n");
	return 0;
}

/**
 * ddi_target_message() - Handle "dmsetup message".
 * @target: the target.
 * @argc: argument count.
 * @argv: arguments.
 * @result: room for the answer.
 * @maxlen: its size.
 *
 * Return: 0, 1 if @result holds an answer, or a negative errno.
 */
int ddi_target_message(struct ddi_target *target, unsigned int argc, char **argv,
		       char *result, unsigned int maxlen)
{
	int ret;

	if (argc == 1 && !strcasecmp(argv[0], "stats")) {
		emit_stats(target, result, maxlen);
		return 1;
	}
	if (argc == 2 && !strcasecmp(argv[0], "query")) {
		ret = query_message(target, argv[1], result, maxlen);
		return ret ? ret : 1;
	}
	if (argc == 1 && !strcasecmp(argv[0], "save")) {
		ddi_wait_for_posts(target);
		return ddi_index_save(target->index);
	}
	DMWARN("unknown message; expected stats, query <name> or save");
	return -EINVAL;
}
