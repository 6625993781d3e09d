// SPDX-License-Identifier: GPL-2.0-only
/*
 * Parsing and formatting of the dedup-index table line:
 *
 *   <data_dev> <index_dev> [<#feature args> <arg>...]
 *
 * with the feature arguments "memory <MiB>", "zones <N>", "readers <N>",
 * "cache_chapters <N>", "post_memory_kib <KiB>", "scan_rate <MiB/s>",
 * "verify", "format" and "sparse" in any order. Nothing here
 * touches a device or a dm_target, so the KUnit suite can drive it directly.
 */

#include <linux/device-mapper.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/seq_buf.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/stringify.h>

#include "target-config.h"

/*
 * One feature argument. Each carries its own error texts, so a rejected
 * line says exactly what was wrong with which option. dm logs them after
 * the target's name ("dedup-index: zones must be 1..16"), so they do not
 * repeat it.
 */
struct ddi_option {
	const char *keyword;
	/* Of the bool (flags) or unsigned int (values) in the config. */
	size_t offset;
	bool is_flag;
	unsigned int min;
	unsigned int max;
	/* Values in min..max that are still not allowed; may be NULL. */
	bool (*allowed)(unsigned int value);
	char *range_error;
	char *missing_error;
	char *nan_error;
	char *duplicate_error;
};

#define DDI_VALUE_OPTION(key, field, lo, hi, check, range)			\
	{									\
		.keyword = #key,						\
		.offset = offsetof(struct ddi_target_config, field),		\
		.min = lo,							\
		.max = hi,							\
		.allowed = check,						\
		.range_error = #key " must be " range,				\
		.missing_error = #key " needs a value",				\
		.nan_error = #key " value is not a number",			\
		.duplicate_error = #key " given more than once",		\
	}

/* A value option whose only rule is its range, which the error states. */
#define DDI_RANGE_OPTION(key, field, lo, hi)					\
	DDI_VALUE_OPTION(key, field, lo, hi, NULL, __stringify(lo) ".." __stringify(hi))

#define DDI_FLAG_OPTION(key, field)						\
	{									\
		.keyword = #key,						\
		.offset = offsetof(struct ddi_target_config, field),		\
		.is_flag = true,						\
		.duplicate_error = #key " given more than once",		\
	}

/* In the order the formatter emits them. */
static const struct ddi_option options[] = {
	/* The RAM budget in MiB; the index picks the largest shape it holds. */
	DDI_RANGE_OPTION(memory, memory_mib, DDI_MIN_MEMORY_MIB, DDI_MAX_MEMORY_MIB),
	DDI_RANGE_OPTION(record_pages, record_pages, 1, DDI_MAX_RECORD_PAGES),
	DDI_RANGE_OPTION(chapters, chapters, 2, DDI_MAX_CHAPTERS),
	DDI_RANGE_OPTION(zones, zones, 1, DDI_MAX_ZONES),
	DDI_RANGE_OPTION(readers, readers, 1, DDI_MAX_READERS),
	DDI_RANGE_OPTION(cache_chapters, cache_chapters, 1, DDI_MAX_CACHE_CHAPTERS),
	DDI_RANGE_OPTION(post_memory_kib, post_memory_kib, DDI_MIN_POST_MEMORY_KIB,
			 DDI_MAX_POST_MEMORY_KIB),
	DDI_RANGE_OPTION(scan_rate, scan_rate_mib, 0, DDI_MAX_SCAN_RATE_MIB),
	DDI_FLAG_OPTION(verify, verify),
	DDI_FLAG_OPTION(format, format),
	DDI_FLAG_OPTION(sparse, sparse),
};

static const struct ddi_option *find_option(const char *keyword)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(options); i++) {
		if (!strcmp(keyword, options[i].keyword))
			return &options[i];
	}
	return NULL;
}

/* Options name their field by offset so one table drives parse and format. */
static unsigned int get_value(const struct ddi_target_config *config,
			      const struct ddi_option *option)
{
	return *(const unsigned int *)((const char *)config + option->offset);
}

static bool get_flag(const struct ddi_target_config *config, const struct ddi_option *option)
{
	return *(const bool *)((const char *)config + option->offset);
}

static void set_value(struct ddi_target_config *config, const struct ddi_option *option,
		      unsigned int value)
{
	*(unsigned int *)((char *)config + option->offset) = value;
}

static void set_flag(struct ddi_target_config *config, const struct ddi_option *option)
{
	*(bool *)((char *)config + option->offset) = true;
}

/* True if the line must mention @option to give this configuration. */
static bool option_differs(const struct ddi_target_config *config,
			   const struct ddi_option *option)
{
	struct ddi_target_config defaults;

	ddi_target_config_defaults(&defaults);
	if (option->is_flag)
		return get_flag(config, option) != get_flag(&defaults, option);
	return get_value(config, option) != get_value(&defaults, option);
}

/* The most feature arguments a line can have: each option once. */
static unsigned int max_feature_args(void)
{
	unsigned int i, count = 0;

	for (i = 0; i < ARRAY_SIZE(options); i++)
		count += options[i].is_flag ? 1 : 2;
	return count;
}

/**
 * ddi_target_config_defaults() - Fill in the configuration of a line with
 * no feature arguments.
 * @config: the configuration to initialise; its devices become NULL.
 */
void ddi_target_config_defaults(struct ddi_target_config *config)
{
	*config = (struct ddi_target_config) {
		.memory_mib = DDI_DEFAULT_MEMORY_MIB,
		.zones = DDI_DEFAULT_ZONES,
		.readers = DDI_DEFAULT_READERS,
		.cache_chapters = DDI_DEFAULT_CACHE_CHAPTERS,
		.post_memory_kib = DDI_DEFAULT_POST_MEMORY_KIB,
	};
}

/* Reads the value after a value option's keyword into the config. */
static int parse_value(struct ddi_target_config *config, const struct ddi_option *option,
		       struct dm_arg_set *args, char **error)
{
	unsigned int value;
	int r;

	/*
	 * "2 memory verify" is a forgotten value, not a strange one: say so
	 * rather than call "verify" a bad number.
	 */
	if (!args->argc || find_option(args->argv[0])) {
		*error = option->missing_error;
		return -EINVAL;
	}

	r = kstrtouint(dm_shift_arg(args), 10, &value);
	if (r == -ERANGE || (!r && (value < option->min || value > option->max ||
				    (option->allowed && !option->allowed(value))))) {
		*error = option->range_error;
		return -EINVAL;
	}
	if (r) {
		*error = option->nan_error;
		return -EINVAL;
	}

	set_value(config, option, value);
	return 0;
}

/* Checks that the count before the feature arguments is the number given. */
static int parse_feature_count(struct dm_arg_set *args, char **error)
{
	struct dm_arg count_arg = {
		.min = 0,
		.max = max_feature_args(),
		.error = "more feature arguments than there are options",
	};
	unsigned int count;
	int r;

	/*
	 * dm_read_arg_group() has one error text for every way the count can
	 * be wrong; tell them apart first so the user learns which it was.
	 */
	r = kstrtouint(args->argv[0], 10, &count);
	if (r == -EINVAL) {
		*error = "feature argument count is not a number";
		return -EINVAL;
	}
	if (r == -ERANGE || count > args->argc - 1) {
		*error = "feature argument count exceeds the arguments given";
		return -EINVAL;
	}
	if (count < args->argc - 1) {
		*error = "more arguments than the feature argument count";
		return -EINVAL;
	}
	return dm_read_arg_group(&count_arg, args, &count, error);
}

/**
 * ddi_target_config_parse() - Parse the arguments of a dedup-index table line.
 * @config: filled in with the line's settings, defaults where it has none.
 * @argc: the number of arguments.
 * @argv: the arguments, as a target constructor receives them.
 * @error: on failure, set to a message naming the problem.
 *
 * Context: @config keeps pointers into @argv for the device names.
 * Return: 0, or -EINVAL if the line is malformed.
 */
int ddi_target_config_parse(struct ddi_target_config *config, unsigned int argc,
			    char **argv, char **error)
{
	struct dm_arg_set args = { .argc = argc, .argv = argv };
	unsigned long seen = 0;
	const char *keyword;
	int r;

	ddi_target_config_defaults(config);
	if (argc < 2) {
		*error = "requires <data_dev> <index_dev>";
		return -EINVAL;
	}
	config->data_dev = dm_shift_arg(&args);
	config->index_dev = dm_shift_arg(&args);
	/* The constructor catches two names for one device; this is cheaper. */
	if (!strcmp(config->data_dev, config->index_dev)) {
		*error = "data_dev and index_dev must be different devices";
		return -EINVAL;
	}
	if (!args.argc)
		return 0;

	r = parse_feature_count(&args, error);
	if (r)
		return r;

	while ((keyword = dm_shift_arg(&args))) {
		const struct ddi_option *option = find_option(keyword);
		unsigned long bit;

		if (!option) {
			*error = "unknown feature argument";
			return -EINVAL;
		}
		bit = BIT(option - options);
		if (seen & bit) {
			*error = option->duplicate_error;
			return -EINVAL;
		}
		seen |= bit;

		if (option->is_flag) {
			set_flag(config, option);
			continue;
		}
		r = parse_value(config, option, &args, error);
		if (r)
			return r;
	}

	/* An explicit shape takes both numbers, and replaces the memory size. */
	if (!config->record_pages != !config->chapters) {
		*error = "record_pages and chapters must be given together";
		return -EINVAL;
	}
	if (config->record_pages && (seen & BIT(find_option("memory") - options))) {
		*error = "memory cannot be combined with record_pages and chapters";
		return -EINVAL;
	}
	return 0;
}

/**
 * ddi_target_config_format() - Write a configuration as table line arguments.
 * @config: the configuration; its device names are written as they are.
 * @buf: where to write the NUL-terminated line.
 * @size: the size of @buf.
 *
 * Only options that differ from their defaults are written, in a fixed
 * order, so parsing the result gives back @config.
 *
 * Return: the length of the line, or -ENOSPC if it did not fit, in which
 * case @buf holds as much of it as fits.
 */
int ddi_target_config_format(const struct ddi_target_config *config, char *buf,
			     size_t size)
{
	const struct ddi_option *option;
	unsigned int count = 0;
	struct seq_buf line;

	if (!size)
		return -ENOSPC;
	for (option = options; option < options + ARRAY_SIZE(options); option++) {
		if (option_differs(config, option))
			count += option->is_flag ? 1 : 2;
	}

	seq_buf_init(&line, buf, size);
	seq_buf_printf(&line, "%s %s", config->data_dev, config->index_dev);
	if (count)
		seq_buf_printf(&line, " %u", count);
	for (option = options; option < options + ARRAY_SIZE(options); option++) {
		if (!option_differs(config, option))
			continue;
		if (option->is_flag)
			seq_buf_printf(&line, " %s", option->keyword);
		else
			seq_buf_printf(&line, " %s %u", option->keyword,
				       get_value(config, option));
	}

	if (seq_buf_has_overflowed(&line))
		return -ENOSPC;
	return seq_buf_used(&line);
}
