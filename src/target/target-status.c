// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the target reports: its status line and its messages ("stats",
 * "query <name>", "save"), and where "scan" goes.
 */

#include <linux/device-mapper.h>
#include <linux/hex.h>
#include <linux/kernel.h>
#include <linux/math64.h>

#include "target.h"

#define DM_MSG_PREFIX "dedup-index"

struct target_counts {
	struct ddi_index_stats index;
	u64 indexed;
	u64 advice;
	u64 verified;
	u64 stale;
	u64 verify_reads;
	u64 verify_read_bytes;
	u64 skipped;
	unsigned long post_bytes;
	/* What the table holds, part by part, and in all (see emit_stats()). */
	u64 post_limit;
	unsigned long verify_bytes;
	unsigned long scan_bytes;
	unsigned long io_bytes;
	u64 memory;
	/* Blocks written per block stored if every duplicate were shared. */
	char ratio[24];
	const char *state;
	struct ddi_scan_progress scan;
	/* Of the data scanned alone. */
	char scan_ratio[24];
};

/*
 * How far the index can be trusted, as dm-writecache reports its error:
 * "failed" once a chapter write failed (the index answers from memory and
 * writes nothing more to its device until a reload), "degraded" once pages
 * were found damaged or could not be read (their names are missed), else
 * "ok".
 */
static const char *index_state(const struct ddi_index_stats *stats)
{
	if (stats->write_error)
		return "failed";
	if (stats->corrupt_pages || stats->read_errors)
		return "degraded";
	return "ok";
}

/**
 * ddi_target_status_ratio() - Print the dedupe ratio: blocks written per block
 * that would have to be stored if every duplicate were shared.
 * @written: blocks written (posted).
 * @duplicates: of those, the duplicates of blocks already stored.
 * @buf: where to print it.
 * @size: the size of @buf.
 *
 * Two decimals, truncated. Nothing written is "1.00"; every block written
 * a duplicate (nothing to store) is "inf".
 *
 * Return: the length printed.
 */
int ddi_target_status_ratio(u64 written, u64 duplicates, char *buf, size_t size)
{
	u64 x100;

	if (!written)
		return scnprintf(buf, size, "1.00");
	if (duplicates >= written)
		return scnprintf(buf, size, "inf");
	/* 128-bit intermediate: written x 100 may not fit in 64 bits. */
	x100 = mul_u64_u64_div_u64(written, 100, written - duplicates);
	return scnprintf(buf, size, "%llu.%02llu", x100 / 100, x100 % 100);
}

/* The words of the stats message for what the last open did. */
static const char *open_kind(enum ddi_index_opened opened)
{
	switch (opened) {
	case DDI_OPENED_FORMATTED:
		return "format";
	case DDI_OPENED_LOADED:
		return "load";
	case DDI_OPENED_REBUILT:
		return "rebuild";
	case DDI_OPENED_EMPTY:
		return "empty";
	}
	return "unknown";
}

static void gather(struct ddi_target *target, struct target_counts *c)
{
	const struct ddi_target_stats *stats = &target->stats;

	ddi_index_get_stats(target->index, &c->index);
	/*
	 * A block is counted indexed before it is posted, so before any
	 * advice about it: reading the advice first never finds more
	 * duplicates than blocks.
	 */
	c->advice = atomic64_read(&stats->duplicate_advice);
	c->verified = atomic64_read(&stats->verified_duplicates);
	c->stale = atomic64_read(&stats->stale_advice);
	c->verify_reads = atomic64_read(&stats->verify_reads);
	c->verify_read_bytes = atomic64_read(&stats->verify_read_bytes);
	/*
	 * Pairs with the full barrier of the llist_add() that queues a post
	 * (ddi_index_launch()) after blocks_indexed was raised for it.
	 */
	smp_rmb();
	c->indexed = atomic64_read(&stats->blocks_indexed);
	c->skipped = atomic64_read(&stats->blocks_skipped);
	c->post_bytes = atomic_long_read(&target->posts_bytes);
	c->post_limit = (u64)target->config.post_memory_kib << 10;
	c->verify_bytes = ddi_target_io_verify_memory_bytes(target);
	c->scan_bytes = ddi_target_scan_memory_bytes(target);
	c->io_bytes = ddi_target_io_memory_bytes(target);
	c->memory = c->index.memory_bytes + c->post_limit + c->verify_bytes + c->scan_bytes +
		    c->io_bytes;
	/* With verify on, only verified duplicates count; advice may be stale. */
	ddi_target_status_ratio(c->indexed, target->config.verify ? c->verified : c->advice,
				c->ratio, sizeof(c->ratio));
	c->state = index_state(&c->index);
	ddi_scan_state_get(target->scan_state, &c->scan);
	ddi_target_status_ratio(c->scan.posted, c->scan.duplicates, c->scan_ratio,
				sizeof(c->scan_ratio));
}

/**
 * ddi_target_status_emit() - The status line, fields in a fixed order.
 * @target: the target.
 * @result: where dm wants the line.
 * @maxlen: its size.
 *
 * blocks_indexed duplicate_advice verified_duplicates stale_advice
 * index_entries chapters_written cache_hits cache_misses pages_read
 * dedupe_ratio state scan_state scan_blocks_done/scan_blocks_total
 */
void ddi_target_status_emit(struct ddi_target *target, char *result, unsigned int maxlen)
{
	struct target_counts c;
	unsigned int sz = 0;

	gather(target, &c);
	DMEMIT("%llu %llu %llu %llu %llu %llu %llu %llu %llu %s %s",
	       c.indexed, c.advice, c.verified, c.stale, c.index.entries,
	       c.index.chapters_written, c.index.cache_hits, c.index.cache_misses,
	       c.index.pages_read, c.ratio, c.state);
	DMEMIT(" %s %llu/%llu", ddi_scan_phase_name(c.scan.phase), c.scan.done - c.scan.first,
	       c.scan.end - c.scan.first);
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
	DMEMIT("corrupt_pages=%llu\nrepaired_pages=%llu\nvolume_index_bytes=%llu\n",
	       c.index.corrupt_pages, c.index.repaired_pages, c.index.volume_index_bytes);
	DMEMIT("dedupe_ratio=%s\npost_memory_bytes=%lu\n", c.ratio, c.post_bytes);
	DMEMIT("state=%s\nchapters_failed=%llu\nwrite_error=%d\n", c.state,
	       c.index.chapters_failed, c.index.write_error);
	DMEMIT("chapter_entries_dropped=%llu\nread_errors=%llu\n",
	       c.index.chapter_entries_dropped, c.index.read_errors);
	DMEMIT("last_open=%s\nlast_open_ms=%llu\n", open_kind(c.index.opened),
	       c.index.open_ms);
	DMEMIT("window_records=%llu\nwindow_gib=%llu\n", c.index.window_records,
	       (c.index.window_records * DDI_BLOCK_SIZE) >> 30);
	/*
	 * All the table holds, or may hold at once: the index (which "memory"
	 * budgets, with the posts' bound), the most its posts and the reads
	 * of verify may take, the scanner while there is one, and the write
	 * path's buffers. The parts, printed next, add up to it.
	 */
	DMEMIT("memory_bytes=%llu\nindex_memory_bytes=%llu\nfalse_hints=%llu\n",
	       c.memory, c.index.memory_bytes, c.index.false_hints);
	DMEMIT("post_memory_limit_bytes=%llu\nverify_memory_bytes=%lu\n", c.post_limit,
	       c.verify_bytes);
	DMEMIT("scan_memory_bytes=%lu\nio_memory_bytes=%lu\n", c.scan_bytes, c.io_bytes);
	DMEMIT("verify_reads=%llu\nverify_read_bytes=%llu\n", c.verify_reads,
	       c.verify_read_bytes);
	DMEMIT("sparse_chapters=%llu\nsparse_cache_hits=%llu\n", c.index.sparse_chapters,
	       c.index.sparse_cache_hits);
	DMEMIT("sparse_cache_misses=%llu\nsparse_chapters_loaded=%llu\n",
	       c.index.sparse_cache_misses, c.index.sparse_chapters_loaded);
	DMEMIT("scan_state=%s\nscan_first=%llu\nscan_end=%llu\nscan_position=%llu\n",
	       ddi_scan_phase_name(c.scan.phase), c.scan.first, c.scan.end, c.scan.done);
	DMEMIT("scan_blocks_done=%llu\nscan_blocks_total=%llu\nscan_blocks_posted=%llu\n",
	       c.scan.done - c.scan.first, c.scan.end - c.scan.first, c.scan.posted);
	DMEMIT("scan_blocks_written=%llu\nscan_duplicates=%llu\nscan_ratio=%s\n",
	       c.scan.written, c.scan.duplicates, c.scan_ratio);
	DMEMIT("scan_error=%d\n", c.scan.error);
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
	ret = ddi_target_io_query_name(target, &name, &found, &block);
	if (ret)
		return ret;
	if (found)
		DMEMIT("found block=%llu\n", block);
	else
		DMEMIT("not found\n");
	return 0;
}

/**
 * ddi_target_status_message() - Handle "dmsetup message".
 * @target: the target.
 * @argc: argument count.
 * @argv: arguments.
 * @result: room for the answer.
 * @maxlen: its size.
 *
 * Return: 0, 1 if @result holds an answer, or a negative errno.
 */
int ddi_target_status_message(struct ddi_target *target, unsigned int argc, char **argv,
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
		ddi_target_io_wait_for_posts(target);
		return ddi_index_save(target->index);
	}
	if (argc >= 1 && !strcasecmp(argv[0], "scan"))
		return ddi_target_scan_message(target, argc, argv);
	DMWARN("unknown message; expected stats, query <name>, save or scan");
	return -EINVAL;
}
