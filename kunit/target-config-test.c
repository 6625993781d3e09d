// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the dedup-index table line parser and formatter.
 */

#include <kunit/resource.h>
#include <kunit/test.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "target-config.h"
#include "target.h"

KUNIT_DEFINE_ACTION_WRAPPER(argv_free_action, argv_free, char **);

/* Splits @line at white space, as dm does, into a vector freed with the test. */
static char **split_line(struct kunit *test, const char *line, int *argc)
{
	char **argv = argv_split(GFP_KERNEL, line, argc);

	KUNIT_ASSERT_NOT_NULL(test, argv);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, argv_free_action, argv));
	return argv;
}

static int parse_line(struct kunit *test, const char *line, struct ddi_target_config *config,
		      char **error)
{
	int argc;
	char **argv = split_line(test, line, &argc);

	return ddi_target_config_parse(config, argc, argv, error);
}

static void expect_config_eq(struct kunit *test, const struct ddi_target_config *got,
			     const struct ddi_target_config *want)
{
	KUNIT_EXPECT_STREQ(test, got->data_dev, want->data_dev);
	KUNIT_EXPECT_STREQ(test, got->index_dev, want->index_dev);
	KUNIT_EXPECT_EQ(test, got->memory_mib, want->memory_mib);
	KUNIT_EXPECT_EQ(test, got->zones, want->zones);
	KUNIT_EXPECT_EQ(test, got->readers, want->readers);
	KUNIT_EXPECT_EQ(test, got->cache_chapters, want->cache_chapters);
	KUNIT_EXPECT_EQ(test, got->post_memory_kib, want->post_memory_kib);
	KUNIT_EXPECT_EQ(test, got->scan_rate_mib, want->scan_rate_mib);
	KUNIT_EXPECT_EQ(test, got->verify, want->verify);
	KUNIT_EXPECT_EQ(test, got->format, want->format);
	KUNIT_EXPECT_EQ(test, got->sparse, want->sparse);
}

static void config_defaults(struct kunit *test)
{
	struct ddi_target_config config, want = {
		.data_dev = "/dev/a",
		.index_dev = "/dev/b",
		.memory_mib = 256,
		.zones = 1,
		.readers = 2,
		.cache_chapters = 7,
		.post_memory_kib = 4096,
	};
	char *error = NULL;

	KUNIT_ASSERT_EQ(test, 0, parse_line(test, "/dev/a /dev/b", &config, &error));
	expect_config_eq(test, &config, &want);
	KUNIT_EXPECT_NULL(test, error);

	/* An explicit empty feature group means the same. */
	KUNIT_ASSERT_EQ(test, 0, parse_line(test, "/dev/a /dev/b 0", &config, &error));
	expect_config_eq(test, &config, &want);
	KUNIT_EXPECT_NULL(test, error);
}

struct good_line {
	const char *line;
	unsigned int memory_mib;
	unsigned int zones;
	unsigned int readers;
	unsigned int cache_chapters;
	bool verify;
	bool format;
	/* 0 for the default. */
	unsigned int post_memory_kib;
	unsigned int scan_rate_mib;
	bool sparse;
};

#define GOOD(args, mem, z, r, cc, v, f)						\
	{ .line = "/dev/a /dev/b " args, .memory_mib = mem, .zones = z,		\
	  .readers = r, .cache_chapters = cc, .verify = v, .format = f }

#define GOOD_POSTS(args, kib)							\
	{ .line = "/dev/a /dev/b " args, .memory_mib = 256, .zones = 1,		\
	  .readers = 2, .cache_chapters = 7, .post_memory_kib = kib }

#define GOOD_SCAN(args, rate)							\
	{ .line = "/dev/a /dev/b " args, .memory_mib = 256, .zones = 1,		\
	  .readers = 2, .cache_chapters = 7, .scan_rate_mib = rate }

#define GOOD_SPARSE(args, mem)							\
	{ .line = "/dev/a /dev/b " args, .memory_mib = mem, .zones = 1,		\
	  .readers = 2, .cache_chapters = 7, .sparse = true }

static const struct good_line good_lines[] = {
	GOOD("2 memory 64", 64, 1, 2, 7, false, false),
	GOOD("2 memory 100", 100, 1, 2, 7, false, false),
	GOOD("2 memory 256", 256, 1, 2, 7, false, false),
	GOOD("2 memory 1536", 1536, 1, 2, 7, false, false),
	GOOD("2 memory 512", 512, 1, 2, 7, false, false),
	GOOD("2 memory 768", 768, 1, 2, 7, false, false),
	GOOD("2 memory 1024", 1024, 1, 2, 7, false, false),
	GOOD("2 memory 3072", 3072, 1, 2, 7, false, false),
	GOOD("2 memory 32768", 32768, 1, 2, 7, false, false),
	GOOD("2 zones 1", 256, 1, 2, 7, false, false),
	GOOD("2 zones 16", 256, 16, 2, 7, false, false),
	GOOD("2 readers 1", 256, 1, 1, 7, false, false),
	GOOD("2 readers 16", 256, 1, 16, 7, false, false),
	GOOD("2 cache_chapters 1", 256, 1, 2, 1, false, false),
	GOOD("2 cache_chapters 1024", 256, 1, 2, 1024, false, false),
	GOOD("1 verify", 256, 1, 2, 7, true, false),
	GOOD("1 format", 256, 1, 2, 7, false, true),
	GOOD("4 zones 4 memory 2048", 2048, 4, 2, 7, false, false),
	GOOD("3 format readers 3", 256, 1, 3, 7, false, true),
	GOOD("10 verify cache_chapters 64 format readers 8 zones 2 memory 512",
	     512, 2, 8, 64, true, true),
	GOOD_POSTS("2 post_memory_kib 64", 64),
	GOOD_POSTS("2 post_memory_kib 4096", 4096),
	GOOD_POSTS("2 post_memory_kib 1048576", 1048576),
	GOOD_POSTS("2 post_memory_kib 300", 300),
	GOOD_SCAN("2 scan_rate 0", 0),
	GOOD_SCAN("2 scan_rate 1", 1),
	GOOD_SCAN("2 scan_rate 1048576", 1048576),
	GOOD_SPARSE("1 sparse", 256),
	GOOD_SPARSE("3 memory 1024 sparse", 1024),
};

static void good_line_desc(const struct good_line *good, char *desc)
{
	strscpy(desc, good->line, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(good_line, good_lines, good_line_desc);

static void want_from_good(const struct good_line *good, struct ddi_target_config *want)
{
	*want = (struct ddi_target_config) {
		.data_dev = "/dev/a",
		.index_dev = "/dev/b",
		.memory_mib = good->memory_mib,
		.zones = good->zones,
		.readers = good->readers,
		.cache_chapters = good->cache_chapters,
		.post_memory_kib = good->post_memory_kib ?: DDI_DEFAULT_POST_MEMORY_KIB,
		.scan_rate_mib = good->scan_rate_mib,
		.verify = good->verify,
		.format = good->format,
		.sparse = good->sparse,
	};
}

static void config_parses_good_line(struct kunit *test)
{
	const struct good_line *good = test->param_value;
	struct ddi_target_config config, want;
	char *error = NULL;

	want_from_good(good, &want);
	KUNIT_ASSERT_EQ(test, 0, parse_line(test, good->line, &config, &error));
	expect_config_eq(test, &config, &want);
	KUNIT_EXPECT_NULL(test, error);
}

/* Formatting a line and parsing the result gives back the same settings. */
static void config_round_trips(struct kunit *test)
{
	const struct good_line *good = test->param_value;
	struct ddi_target_config config, again, want;
	char *error = NULL;
	char *line;
	int length;

	want_from_good(good, &want);
	line = kunit_kzalloc(test, 256, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, line);

	length = ddi_target_config_format(&want, line, 256);
	KUNIT_ASSERT_GT(test, length, 0);
	KUNIT_EXPECT_EQ(test, length, (int)strlen(line));
	KUNIT_ASSERT_EQ(test, 0, parse_line(test, line, &config, &error));
	expect_config_eq(test, &config, &want);

	/* And the line is canonical: formatting it again changes nothing. */
	line = kunit_kzalloc(test, 256, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, line);
	KUNIT_ASSERT_EQ(test, length, ddi_target_config_format(&config, line, 256));
	KUNIT_ASSERT_EQ(test, 0, parse_line(test, line, &again, &error));
	expect_config_eq(test, &again, &want);
}

struct bad_line {
	const char *line;
	const char *error;
};

#define DEVS "/dev/a /dev/b "

static const struct bad_line bad_lines[] = {
	/* The devices. */
	{ "", "requires <data_dev> <index_dev>" },
	{ "/dev/a", "requires <data_dev> <index_dev>" },
	{ "/dev/a /dev/a", "data_dev and index_dev must be different devices" },
	{ "/dev/a /dev/a 1 verify",
	  "data_dev and index_dev must be different devices" },
	/* The feature argument count. */
	{ DEVS "x", "feature argument count is not a number" },
	{ DEVS "-1", "feature argument count is not a number" },
	{ DEVS "0x2 zones 2", "feature argument count is not a number" },
	{ DEVS "verify", "feature argument count is not a number" },
	{ DEVS "1", "feature argument count exceeds the arguments given" },
	{ DEVS "3 zones 2", "feature argument count exceeds the arguments given" },
	{ DEVS "99999999999 verify",
	  "feature argument count exceeds the arguments given" },
	{ DEVS "0 verify", "more arguments than the feature argument count" },
	{ DEVS "1 zones 2", "more arguments than the feature argument count" },
	{ DEVS "2 zones 4 extra", "more arguments than the feature argument count" },
	{ DEVS "20 zones 2 readers 3 verify format a b c d e f g h i j k l m n",
	  "more feature arguments than there are options" },
	/* An explicit volume shape. */
	{ DEVS "2 record_pages 4", "record_pages and chapters must be given together" },
	{ DEVS "2 chapters 16", "record_pages and chapters must be given together" },
	{ DEVS "6 record_pages 4 chapters 16 memory 512",
	  "memory cannot be combined with record_pages and chapters" },
	{ DEVS "4 record_pages 0 chapters 16", "record_pages must be 1..1024" },
	{ DEVS "4 record_pages 1025 chapters 16", "record_pages must be 1..1024" },
	{ DEVS "4 record_pages 4 chapters 1", "chapters must be 2..32768" },
	{ DEVS "4 record_pages 4 chapters 32769", "chapters must be 2..32768" },
	{ DEVS "4 record_pages 4 chapters many", "chapters value is not a number" },
	{ DEVS "3 record_pages 4 chapters", "chapters needs a value" },
	/* Unknown options. */
	{ DEVS "1 bogus", "unknown feature argument" },
	{ DEVS "1 VERIFY", "unknown feature argument" },
	{ DEVS "2 memory_mib 512", "unknown feature argument" },
	{ DEVS "2 verify 5", "unknown feature argument" },
	/* memory */
	{ DEVS "1 memory", "memory needs a value" },
	{ DEVS "2 memory verify", "memory needs a value" },
	{ DEVS "2 memory big", "memory value is not a number" },
	{ DEVS "2 memory -256", "memory value is not a number" },
	{ DEVS "2 memory 512M", "memory value is not a number" },
	{ DEVS "2 memory 0", "memory must be 64..32768" },
	{ DEVS "2 memory 63", "memory must be 64..32768" },
	{ DEVS "2 memory 33792", "memory must be 64..32768" },
	{ DEVS "2 memory 4294967296", "memory must be 64..32768" },
	/* zones */
	{ DEVS "1 zones", "zones needs a value" },
	{ DEVS "2 zones 0", "zones must be 1..16" },
	{ DEVS "2 zones 17", "zones must be 1..16" },
	{ DEVS "2 zones 0x4", "zones value is not a number" },
	/* readers */
	{ DEVS "3 readers format 2", "readers needs a value" },
	{ DEVS "2 readers 0", "readers must be 1..16" },
	{ DEVS "2 readers 17", "readers must be 1..16" },
	{ DEVS "2 readers 1.5", "readers value is not a number" },
	/* cache_chapters */
	{ DEVS "1 cache_chapters", "cache_chapters needs a value" },
	{ DEVS "2 cache_chapters 0", "cache_chapters must be 1..1024" },
	{ DEVS "2 cache_chapters 1025", "cache_chapters must be 1..1024" },
	{ DEVS "2 cache_chapters many", "cache_chapters value is not a number" },
	/* post_memory_kib */
	{ DEVS "1 post_memory_kib", "post_memory_kib needs a value" },
	{ DEVS "2 post_memory_kib verify", "post_memory_kib needs a value" },
	{ DEVS "2 post_memory_kib 0", "post_memory_kib must be 64..1048576" },
	{ DEVS "2 post_memory_kib 63", "post_memory_kib must be 64..1048576" },
	{ DEVS "2 post_memory_kib 1048577", "post_memory_kib must be 64..1048576" },
	{ DEVS "2 post_memory_kib 4294967296", "post_memory_kib must be 64..1048576" },
	{ DEVS "2 post_memory_kib 4M", "post_memory_kib value is not a number" },
	{ DEVS "2 post_memory_kib -1", "post_memory_kib value is not a number" },
	{ DEVS "4 post_memory_kib 64 post_memory_kib 64",
	  "post_memory_kib given more than once" },
	/* scan_rate */
	{ DEVS "1 scan_rate", "scan_rate needs a value" },
	{ DEVS "2 scan_rate 1048577", "scan_rate must be 0..1048576" },
	{ DEVS "2 scan_rate 10M", "scan_rate value is not a number" },
	{ DEVS "4 scan_rate 1 scan_rate 2", "scan_rate given more than once" },
	/* Options given twice. */
	{ DEVS "4 memory 512 memory 512", "memory given more than once" },
	{ DEVS "4 zones 2 zones 3", "zones given more than once" },
	{ DEVS "4 readers 2 readers 2", "readers given more than once" },
	{ DEVS "5 cache_chapters 4 verify cache_chapters 5",
	  "cache_chapters given more than once" },
	{ DEVS "2 verify verify", "verify given more than once" },
	{ DEVS "3 format verify format", "format given more than once" },
	{ DEVS "2 sparse sparse", "sparse given more than once" },
};

static void bad_line_desc(const struct bad_line *bad, char *desc)
{
	strscpy(desc, *bad->line ? bad->line : "(empty)", KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(bad_line, bad_lines, bad_line_desc);

static void config_rejects_bad_line(struct kunit *test)
{
	const struct bad_line *bad = test->param_value;
	struct ddi_target_config config;
	char *error = NULL;

	KUNIT_EXPECT_EQ(test, -EINVAL, parse_line(test, bad->line, &config, &error));
	KUNIT_EXPECT_STREQ(test, error, bad->error);
}

/* Only settings that differ from the defaults appear, always in one order. */
static void config_formats_canonically(struct kunit *test)
{
	struct ddi_target_config config;
	char line[128];

	ddi_target_config_defaults(&config);
	config.data_dev = "254:0";
	config.index_dev = "254:16";
	KUNIT_EXPECT_EQ(test, 12, ddi_target_config_format(&config, line, sizeof(line)));
	KUNIT_EXPECT_STREQ(test, line, "254:0 254:16");

	config.format = true;
	config.cache_chapters = 9;
	config.zones = 4;
	config.verify = true;
	KUNIT_EXPECT_LT(test, 0, ddi_target_config_format(&config, line, sizeof(line)));
	KUNIT_EXPECT_STREQ(test, line, "254:0 254:16 6 zones 4 cache_chapters 9 verify format");

	/* A default value given explicitly is not repeated back. */
	config.zones = 1;
	config.memory_mib = 256;
	config.readers = 5;
	KUNIT_EXPECT_LT(test, 0, ddi_target_config_format(&config, line, sizeof(line)));
	KUNIT_EXPECT_STREQ(test, line, "254:0 254:16 6 readers 5 cache_chapters 9 verify format");

	config.post_memory_kib = 512;
	KUNIT_EXPECT_LT(test, 0, ddi_target_config_format(&config, line, sizeof(line)));
	KUNIT_EXPECT_STREQ(test, line,
			   "254:0 254:16 8 readers 5 cache_chapters 9 post_memory_kib 512 verify format");

	config.scan_rate_mib = 40;
	KUNIT_EXPECT_LT(test, 0, ddi_target_config_format(&config, line, sizeof(line)));
	KUNIT_EXPECT_STREQ(test, line,
			   "254:0 254:16 10 readers 5 cache_chapters 9 post_memory_kib 512 scan_rate 40 verify format");

	config.sparse = true;
	KUNIT_EXPECT_LT(test, 0, ddi_target_config_format(&config, line, sizeof(line)));
	KUNIT_EXPECT_STREQ(test, line,
			   "254:0 254:16 11 readers 5 cache_chapters 9 post_memory_kib 512 scan_rate 40 verify format sparse");
}

/* A volume shaped explicitly parses, prints back and parses the same. */
static void config_explicit_shape_round_trips(struct kunit *test)
{
	const char *shaped = "/dev/a /dev/b 6 chapters 64 zones 2 record_pages 8";
	struct ddi_target_config config, again;
	char line[128];
	char *error = NULL;

	KUNIT_ASSERT_EQ(test, 0, parse_line(test, shaped, &config, &error));
	KUNIT_EXPECT_EQ(test, config.record_pages, 8U);
	KUNIT_EXPECT_EQ(test, config.chapters, 64U);
	KUNIT_EXPECT_EQ(test, config.memory_mib, 256U);
	KUNIT_EXPECT_LT(test, 0, ddi_target_config_format(&config, line, sizeof(line)));
	KUNIT_EXPECT_STREQ(test, line, "/dev/a /dev/b 6 record_pages 8 chapters 64 zones 2");
	KUNIT_ASSERT_EQ(test, 0, parse_line(test, line, &again, &error));
	KUNIT_EXPECT_EQ(test, again.record_pages, 8U);
	KUNIT_EXPECT_EQ(test, again.chapters, 64U);
	KUNIT_EXPECT_EQ(test, again.zones, 2U);
}

static void config_format_reports_short_buffer(struct kunit *test)
{
	struct ddi_target_config config;
	char line[16];

	ddi_target_config_defaults(&config);
	config.data_dev = "/dev/mapper/a-long-name";
	config.index_dev = "/dev/b";
	KUNIT_EXPECT_EQ(test, -ENOSPC, ddi_target_config_format(&config, line, sizeof(line)));
	/* What fits is there and terminated, so dm sees a full buffer. */
	KUNIT_EXPECT_EQ(test, sizeof(line) - 1, strlen(line));
	KUNIT_EXPECT_EQ(test, 0, strncmp(line, "/dev/mapper/a-l", sizeof(line) - 1));
}

/*
 * The ratio is written / (written - duplicates), truncated to two
 * decimals, and right at the edges: nothing written, every block a
 * duplicate, and counts whose product with 100 does not fit in 64 bits.
 */
static void ratio_edges(struct kunit *test)
{
	static const struct {
		u64 written;
		u64 duplicates;
		const char *ratio;
	} cases[] = {
		{ 0, 0, "1.00" },
		{ 1, 0, "1.00" },
		{ 3, 1, "1.50" },
		{ 100, 50, "2.00" },
		{ 2097, 595, "1.39" },
		{ 14024, 14023, "14024.00" },
		/* Every block written was already stored: nothing to store. */
		{ 14024, 14024, "inf" },
		{ 1, 1, "inf" },
		/* Not seen in a consistent read, but never a wrapped count. */
		{ 5, 7, "inf" },
		{ U64_MAX, 0, "1.00" },
		{ U64_MAX, U64_MAX / 2, "1.99" },
		{ U64_MAX / 10, U64_MAX / 20, "1.99" },
		{ U64_MAX / 10 * 2, U64_MAX / 10, "2.00" },
	};
	char buf[24];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int length = ddi_target_status_ratio(cases[i].written, cases[i].duplicates, buf,
					      sizeof(buf));

		KUNIT_EXPECT_STREQ_MSG(test, buf, cases[i].ratio, "%llu written, %llu duplicates",
				       cases[i].written, cases[i].duplicates);
		KUNIT_EXPECT_EQ(test, length, (int)strlen(buf));
	}
}

/*
 * What a write charges against post_memory_kib is what the documentation
 * says: one small allocation for a block, under 256 bytes a block (about
 * 150 on the test kernel) but for the rounding of the last allocation,
 * growing with the blocks and never shrinking.
 */
static void posts_bytes_as_documented(struct kunit *test)
{
	size_t previous = ddi_target_io_posts_bytes(1);
	u32 blocks;

	KUNIT_EXPECT_LE(test, previous, (size_t)256);
	for (blocks = 2; blocks <= 4096; blocks++) {
		size_t bytes = ddi_target_io_posts_bytes(blocks);

		/* A last, partly filled allocation may round up by up to 4 KiB. */
		size_t most = (size_t)blocks * 256 + SZ_4K;

		KUNIT_EXPECT_GE(test, bytes, previous);
		KUNIT_EXPECT_LE_MSG(test, bytes, most, "%u blocks", blocks);
		KUNIT_EXPECT_GE(test, bytes, (size_t)blocks * 128);
		if (bytes < previous || bytes > most)
			break;
		previous = bytes;
	}
	kunit_info(test, "posts of 1, 3, 24 and 256 blocks: %zu, %zu, %zu and %zu bytes",
		   ddi_target_io_posts_bytes(1), ddi_target_io_posts_bytes(3),
		   ddi_target_io_posts_bytes(24), ddi_target_io_posts_bytes(256));
	/* The default bound holds the posts of 64 writes of 1 MiB at least. */
	KUNIT_EXPECT_GE(test, DDI_DEFAULT_POST_MEMORY_KIB * SZ_1K / ddi_target_io_posts_bytes(256),
			(size_t)64);
}

static struct kunit_case target_config_cases[] = {
	KUNIT_CASE(config_defaults),
	KUNIT_CASE_PARAM(config_parses_good_line, good_line_gen_params),
	KUNIT_CASE_PARAM(config_round_trips, good_line_gen_params),
	KUNIT_CASE_PARAM(config_rejects_bad_line, bad_line_gen_params),
	KUNIT_CASE(config_formats_canonically),
	KUNIT_CASE(config_format_reports_short_buffer),
	KUNIT_CASE(config_explicit_shape_round_trips),
	KUNIT_CASE(ratio_edges),
	KUNIT_CASE(posts_bytes_as_documented),
	{}
};

static struct kunit_suite target_config_suite = {
	.name = "dm_dedup_index_target_config",
	.test_cases = target_config_cases,
};

kunit_test_suite(target_config_suite);
