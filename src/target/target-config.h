/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The dedup-index table line: its parsed form, the parser and the formatter
 * that turns it back into a line for "dmsetup table".
 */
#ifndef DDI_TARGET_CONFIG_H
#define DDI_TARGET_CONFIG_H

#include <linux/dm-dedup-index.h>
#include <linux/types.h>

/*
 * Literal #defines, not an enum, so the parser's error texts are built
 * from the same numbers (__stringify) that it checks against.
 */
#define DDI_DEFAULT_MEMORY_MIB 256
#define DDI_MIN_MEMORY_MIB 64
#define DDI_MAX_MEMORY_MIB 32768
#define DDI_MAX_RECORD_PAGES 1024
#define DDI_MAX_CHAPTERS 32768
#define DDI_DEFAULT_ZONES 1
#define DDI_DEFAULT_READERS 2
#define DDI_DEFAULT_CACHE_CHAPTERS 7
#define DDI_MAX_CACHE_CHAPTERS 1024
/* The memory of posts in flight, in KiB: see ddi_target_io_posts_bytes(). */
#define DDI_DEFAULT_POST_MEMORY_KIB 4096
#define DDI_MIN_POST_MEMORY_KIB 64
#define DDI_MAX_POST_MEMORY_KIB 1048576
/* The most a scan may read, in MiB/s; 0, the default, sets no cap. */
#define DDI_MAX_SCAN_RATE_MIB 1048576

/**
 * struct ddi_target_config - What a dedup-index table line asks for.
 * @data_dev: path or major:minor of the device I/O is remapped to.
 * @index_dev: path or major:minor of the device holding the index.
 * @memory_mib: memory for the index, in MiB; sets the volume size.
 * @record_pages: if not 0, record pages per chapter of an explicitly
 *	shaped volume (with @chapters), in place of @memory_mib.
 * @chapters: chapters of that volume.
 * @zones: index zones, each served by its own thread.
 * @readers: threads reading pages into the page cache.
 * @cache_chapters: chapters' worth of pages the page cache may hold.
 * @post_memory_kib: the most memory the posts of writes not yet answered
 *	may take, in KiB; a write that would need more is not posted.
 * @scan_rate_mib: the most a scan of the data device reads, in MiB/s;
 *	0 for no cap.
 * @verify: read the block the index advises and compare it before
 *	counting a write as a duplicate.
 * @format: allow formatting an index_dev that holds something other
 *	than an index of this shape; a blank one is always formatted.
 * @sparse: a sparse index: about ten times the window in the same memory,
 *	finding the duplicates that come in runs (backups, copies).
 *
 * The parser points @data_dev and @index_dev into the argument vector it
 * was given, so they are only valid while that vector is.
 */
struct ddi_target_config {
	const char *data_dev;
	const char *index_dev;
	unsigned int memory_mib;
	unsigned int record_pages;
	unsigned int chapters;
	unsigned int zones;
	unsigned int readers;
	unsigned int cache_chapters;
	unsigned int post_memory_kib;
	unsigned int scan_rate_mib;
	bool verify;
	bool format;
	bool sparse;
};

void ddi_target_config_defaults(struct ddi_target_config *config);
int ddi_target_config_parse(struct ddi_target_config *config, unsigned int argc,
			    char **argv, char **error);
int ddi_target_config_format(const struct ddi_target_config *config, char *buf,
			     size_t size);

#endif /* DDI_TARGET_CONFIG_H */
