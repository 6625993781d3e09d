// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fuzzing the on-disk format: a small index is built on a RAM disk and
 * saved twice, its image kept in memory, and then, mutation after
 * mutation, one structure of the image is damaged or crafted and the index
 * opened and searched. The structures: the superblock, both save slots
 * (their headers and each section: index page map, open chapter, volume
 * index), the volume's header page, chapter index pages and record pages.
 * The mutations: bit flips, byte overwrites, zeroed tails (truncations)
 * and extreme values in the length, count, shift and offset fields; half
 * of them are stamped with valid checksums, so that they reach the code
 * behind the checksums. Every open must load, rebuild or fail with an
 * error, never crash or trip KASAN, never format (unless block 0 was
 * zeroed: a blank device is formatted, as documented), never answer wrong:
 * a name found must come back with the data posted for it.
 *
 * Forged mutations of record pages and of the saved open chapter touch
 * names and header fields only: a record's data changed under a valid
 * checksum is indistinguishable from the real thing.
 *
 * Module parameters (dm_dedup_index.fuzz_* on the kernel command line,
 * e.g. through kunit.py --kernel_args) choose the seed, the number of
 * mutations and the first one, to replay a failure: each mutation draws
 * from its own generator, seeded from the seed and its number.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/crc32.h>
#include <linux/delay.h>
#include <linux/dm-bufio.h>
#include <linux/moduleparam.h>
#include <linux/random.h>
#include <linux/rcupdate.h>
#include <linux/unaligned.h>
#include <linux/vmalloc.h>

#if IS_ENABLED(CONFIG_TRACEPOINTS)
#include <trace/events/kmem.h>
#include <trace/events/vmalloc.h>
#endif

#include "chapter-index-layout.h"
#include "index.h"
#include "test-util.h"

static unsigned long long fuzz_seed;
module_param(fuzz_seed, ullong, 0444);
MODULE_PARM_DESC(fuzz_seed, "ddi-fuzz KUnit suite: seed (0: that of test_seed)");
static unsigned int fuzz_iterations;
module_param(fuzz_iterations, uint, 0444);
MODULE_PARM_DESC(fuzz_iterations, "ddi-fuzz KUnit suite: mutations to run (0: default)");
static unsigned int fuzz_first;
module_param(fuzz_first, uint, 0444);
MODULE_PARM_DESC(fuzz_first, "ddi-fuzz KUnit suite: number of the first mutation");

enum {
	FUZZ_DISK = 0,
	FUZZ_DISK_BYTES = 32 << 20,
	FUZZ_RECORD_PAGES = 4,
	FUZZ_CHAPTERS = 16,
	FUZZ_ZONES = 2,
	/* Enough chapters to wrap the volume. */
	FUZZ_CHAPTERS_POSTED = FUZZ_CHAPTERS + 3,
	/* Posted between the two saves, so the slots differ. */
	FUZZ_BETWEEN_SAVES = 40,
	FUZZ_QUERIES = 24,
	FUZZ_STRANGERS = 2,
	BLOCK = DDI_BLOCK_BYTES,
	/* The save header's fields (see layout.c). */
	SAVE_SEQUENCE = 16,
	SAVE_OPEN_VCN = 24,
	SAVE_SECTION_BYTES = 32,
	SAVE_PAYLOAD_CRC = SAVE_SECTION_BYTES + 8 * DDI_SAVE_SECTIONS,
	/* Record page header fields (see record-page.c). */
	RP_HEADER = DDI_RECORDS_PER_PAGE * DDI_BYTES_PER_RECORD,
	RP_CRC = BLOCK - 4,
	/* Volume index section header (see volume-index-save.c). */
	VI_HEADER_BYTES = 40,
	VI_PART_HEADER_BYTES = 72,
};

/*
 * A default small enough for make check: a few thousand mutations on UML,
 * fewer on x86_64, whose qemu is slower.
 */
#define FUZZ_DEFAULT_ITERATIONS (IS_ENABLED(CONFIG_UML) ? 2000 : 200)

enum fuzz_target {
	T_SUPER,
	T_SAVE_HEADER,
	T_PAGE_MAP,
	T_OPEN_CHAPTER,
	T_VOLUME_INDEX,
	T_VOLUME_HEADER,
	T_INDEX_PAGE,
	T_RECORD_PAGE,
	T_COUNT,
};

static const char *const target_names[T_COUNT] = {
	"superblock", "save header", "page map", "open chapter", "volume index",
	"volume header", "index page", "record page",
};

enum fuzz_op { OP_FLIP, OP_OVERWRITE, OP_TRUNCATE, OP_EXTREME, OP_COUNT };

static const char *const op_names[OP_COUNT] = { "flip", "overwrite", "truncate", "extreme" };

/* A field a mutation may set to an extreme value: offset and width. */
struct fuzz_field {
	u32 offset;
	u8 width;
};

static const struct fuzz_field super_fields[] = {
	{ 8, 4 }, { 12, 4 }, { 16, 4 }, { 20, 4 }, { 24, 8 }, { 32, 8 }, { 40, 8 }, { 48, 8 },
};

static const struct fuzz_field save_header_fields[] = {
	{ SAVE_SEQUENCE, 8 }, { SAVE_OPEN_VCN, 8 }, { SAVE_SECTION_BYTES, 8 },
	{ SAVE_SECTION_BYTES + 8, 8 }, { SAVE_SECTION_BYTES + 16, 8 }, { SAVE_PAYLOAD_CRC, 4 },
};

static const struct fuzz_field page_map_fields[] = {
	{ 8, 8 }, { 16, 4 }, { 20, 4 }, { 24, 2 }, { 26, 2 }, { 40, 2 },
};

static const struct fuzz_field open_chapter_fields[] = {
	{ DDI_OC_SAVE_VCN, 8 }, { DDI_OC_SAVE_COUNT, 4 }, { DDI_OC_SAVE_CRC, 4 },
};

/* The index header, then zone part 0's header (at VI_HEADER_BYTES). */
static const struct fuzz_field volume_index_fields[] = {
	{ 4, 4 }, { 8, 4 }, { 12, 4 }, { 16, 8 }, { 24, 8 },
	{ VI_HEADER_BYTES + 4, 4 }, { VI_HEADER_BYTES + 8, 4 }, { VI_HEADER_BYTES + 12, 4 },
	{ VI_HEADER_BYTES + 16, 4 }, { VI_HEADER_BYTES + 20, 4 }, { VI_HEADER_BYTES + 24, 4 },
	{ VI_HEADER_BYTES + 28, 4 }, { VI_HEADER_BYTES + 32, 8 }, { VI_HEADER_BYTES + 40, 8 },
	{ VI_HEADER_BYTES + 48, 8 }, { VI_HEADER_BYTES + 56, 8 }, { VI_HEADER_BYTES + 64, 4 },
	{ VI_HEADER_BYTES + 68, 4 }, { VI_HEADER_BYTES + 72, 4 },
};

static const struct fuzz_field index_page_fields[] = {
	{ DDI_CI_VCN, 8 }, { DDI_CI_NONCE, 8 }, { DDI_CI_LOWEST, 4 }, { DDI_CI_HIGHEST, 4 },
	{ DDI_CI_ENTRIES, 4 }, { DDI_CI_OFFSETS, 2 }, { DDI_CI_OFFSETS + 2, 2 },
	{ DDI_CI_OFFSETS + 4, 2 }, { DDI_CI_OFFSETS + 64, 2 },
};

static const struct fuzz_field record_page_fields[] = {
	{ RP_HEADER + 8, 8 }, { RP_HEADER + 16, 8 }, { RP_HEADER + 24, 2 }, { RP_HEADER + 26, 2 },
};

struct fuzz_region {
	/* Byte range of the structure in the image. */
	u64 start;
	u64 length;
	int slot;
	/* The physical volume page, for chapter pages. */
	u32 page;
};

struct fuzz_sync {
	struct ddi_request request;
	struct completion done;
};

struct fuzz_state {
	struct kunit *test;
	struct ddi_test_disk *disk;
	struct dm_bufio_client *client;
	struct ddi_index_config config;
	struct ddi_index_layout layout;
	struct ddi_geometry geo;
	u64 image_bytes;
	/* The saved index, and the image the mutations are made in. */
	u8 *golden;
	u8 *work;
	struct ddi_record *records;
	u32 record_count;
	/* Section offsets in each slot, from its header. */
	u64 section_start[DDI_SAVE_SLOTS][DDI_SAVE_SECTIONS];
	u64 section_bytes[DDI_SAVE_SLOTS][DDI_SAVE_SECTIONS];
	/* Counters for the summary. */
	u32 opened[4];
	u32 refused;
	u32 refusals[7];
	u32 by_target[T_COUNT];
	u32 wrong;
	u32 found;
	/* The allocation bound, and the largest allocation seen. */
	bool watching;
	unsigned long bound;
	unsigned long largest;
};

/*
 * The largest single allocation asked for while an open and its searches
 * run, seen through the kmalloc and vmap tracepoints (kunit builds are
 * built in, so the tracepoints are at hand). The suite's bound: no
 * allocation above the largest the intact image's open makes or a save
 * slot's size, whichever is more; a crafted length must not choose more.
 * Allocations vmalloc refuses outright as larger than RAM are not seen.
 */
static bool fuzz_watching;
static atomic_long_t fuzz_largest;

#if IS_ENABLED(CONFIG_TRACEPOINTS)
static void note_size(unsigned long size)
{
	long seen = atomic_long_read(&fuzz_largest);

	while ((long)size > seen &&
	       !atomic_long_try_cmpxchg(&fuzz_largest, &seen, (long)size))
		;
}

static void fuzz_kmalloc_probe(void *data, unsigned long call_site, const void *ptr,
			       size_t bytes_req, size_t bytes_alloc, gfp_t gfp_flags, int node)
{
	if (READ_ONCE(fuzz_watching))
		note_size(bytes_req);
}

static void fuzz_vmap_probe(void *data, unsigned long addr, unsigned long size,
			    unsigned long align, unsigned long vstart, unsigned long vend,
			    int failed)
{
	if (READ_ONCE(fuzz_watching))
		note_size(size);
}

static void unwatch(void *arg)
{
	unregister_trace_kmalloc(fuzz_kmalloc_probe, NULL);
	unregister_trace_alloc_vmap_area(fuzz_vmap_probe, NULL);
	tracepoint_synchronize_unregister();
}

static bool watch_allocations(struct kunit *test)
{
	if (register_trace_kmalloc(fuzz_kmalloc_probe, NULL))
		return false;
	if (register_trace_alloc_vmap_area(fuzz_vmap_probe, NULL)) {
		unregister_trace_kmalloc(fuzz_kmalloc_probe, NULL);
		return false;
	}
	return !kunit_add_action_or_reset(test, unwatch, NULL);
}
#else
static bool watch_allocations(struct kunit *test)
{
	return false;
}
#endif

static void watch_start(void)
{
	atomic_long_set(&fuzz_largest, 0);
	WRITE_ONCE(fuzz_watching, true);
}

static unsigned long watch_stop(void)
{
	WRITE_ONCE(fuzz_watching, false);
	return atomic_long_read(&fuzz_largest);
}

static void fuzz_callback(struct ddi_request *request)
{
	complete(&container_of(request, struct fuzz_sync, request)->done);
}

static int fuzz_query(struct ddi_index *index, const struct ddi_name *name, bool *found,
		      struct ddi_data *data)
{
	struct fuzz_sync sr = {
		.request = {
			.type = DDI_QUERY_NO_UPDATE,
			.name = *name,
			.callback = fuzz_callback,
		},
	};

	init_completion(&sr.done);
	ddi_index_launch(index, &sr.request);
	wait_for_completion(&sr.done);
	*found = sr.request.found;
	*data = sr.request.old_data;
	return sr.request.status;
}

static int fuzz_post(struct ddi_index *index, const struct ddi_record *record, bool *found)
{
	struct fuzz_sync sr = {
		.request = {
			.type = DDI_POST,
			.name = record->name,
			.new_data = record->data,
			.callback = fuzz_callback,
		},
	};

	init_completion(&sr.done);
	ddi_index_launch(index, &sr.request);
	wait_for_completion(&sr.done);
	*found = sr.request.found;
	return sr.request.status;
}

static void free_vmem(void *arg)
{
	vfree(arg);
}

static void destroy_client(void *arg)
{
	dm_bufio_client_destroy(arg);
}

/* Write image blocks [first, last] of @from to the disk. */
static int write_blocks(struct fuzz_state *fs, const u8 *from, u64 first, u64 last)
{
	u64 block;

	for (block = first; block <= last; block++) {
		struct dm_buffer *buffer;
		u8 *data = dm_bufio_new(fs->client, block, &buffer);

		if (IS_ERR(data))
			return PTR_ERR(data);
		memcpy(data, from + block * BLOCK, BLOCK);
		dm_bufio_mark_buffer_dirty(buffer);
		dm_bufio_release(buffer);
	}
	return dm_bufio_write_dirty_buffers(fs->client);
}

static int read_image(struct fuzz_state *fs)
{
	u64 block;

	for (block = 0; block < fs->image_bytes / BLOCK; block++) {
		struct dm_buffer *buffer;
		u8 *data = dm_bufio_read(fs->client, block, &buffer);

		if (IS_ERR(data))
			return PTR_ERR(data);
		memcpy(fs->golden + block * BLOCK, data, BLOCK);
		dm_bufio_release(buffer);
		dm_bufio_forget(fs->client, block);
	}
	return 0;
}

/* Build, fill and save the index; keep its image. */
static void build_index(struct fuzz_state *fs, struct rnd_state *rnd)
{
	struct kunit *test = fs->test;
	u32 per_chapter = FUZZ_RECORD_PAGES * DDI_RECORDS_PER_PAGE;
	struct ddi_index *index;
	u32 i, slot, s;
	bool found;

	fs->record_count = FUZZ_CHAPTERS_POSTED * per_chapter + FUZZ_BETWEEN_SAVES;
	fs->records = vmalloc(array_size(fs->record_count, sizeof(*fs->records)));
	KUNIT_ASSERT_NOT_NULL(test, fs->records);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_vmem, fs->records));
	ddi_test_random_records(rnd, fs->records, fs->record_count);

	fs->disk = ddi_test_disk_open(test, FUZZ_DISK, FUZZ_DISK_BYTES);
	fs->config = (struct ddi_index_config) {
		.record_pages_per_chapter = FUZZ_RECORD_PAGES,
		.chapters_per_volume = FUZZ_CHAPTERS,
		.zone_count = FUZZ_ZONES,
		.reader_count = 2,
		.cache_chapters = 2,
	};
	KUNIT_ASSERT_EQ(test, 0, ddi_index_open(fs->disk->bdev, &fs->config, &index, NULL));
	for (i = 0; i < fs->record_count - FUZZ_BETWEEN_SAVES; i++)
		KUNIT_ASSERT_EQ(test, 0, fuzz_post(index, &fs->records[i], &found));
	KUNIT_ASSERT_EQ(test, 0, ddi_index_save(index));
	for (; i < fs->record_count; i++)
		KUNIT_ASSERT_EQ(test, 0, fuzz_post(index, &fs->records[i], &found));
	KUNIT_ASSERT_EQ(test, 0, ddi_index_save(index));
	fs->layout = index->layout;
	fs->geo = index->geo;
	/* No third save: both slots stay as written. */
	ddi_index_abandon(index);

	fs->image_bytes = fs->layout.total_blocks * BLOCK;
	KUNIT_ASSERT_LE(test, fs->image_bytes, (u64)FUZZ_DISK_BYTES);
	fs->golden = vmalloc(fs->image_bytes);
	fs->work = vmalloc(fs->image_bytes);
	KUNIT_ASSERT_NOT_NULL(test, fs->golden);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_vmem, fs->golden));
	KUNIT_ASSERT_NOT_NULL(test, fs->work);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_vmem, fs->work));
	fs->client = dm_bufio_client_create(fs->disk->bdev, BLOCK, 1, 0, NULL, NULL, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(fs->client));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, destroy_client, fs->client));
	KUNIT_ASSERT_EQ(test, 0, read_image(fs));
	memcpy(fs->work, fs->golden, fs->image_bytes);

	for (slot = 0; slot < DDI_SAVE_SLOTS; slot++) {
		u64 header = (1 + slot * fs->layout.save_slot_blocks) * BLOCK;
		u64 at = header + BLOCK;

		for (s = 0; s < DDI_SAVE_SECTIONS; s++) {
			u64 bytes = get_unaligned_le64(fs->golden + header + SAVE_SECTION_BYTES +
						       8 * s);

			KUNIT_ASSERT_LE(test, bytes, fs->layout.save_slot_blocks * BLOCK);
			fs->section_start[slot][s] = at;
			fs->section_bytes[slot][s] = bytes;
			at += bytes;
		}
	}
}

/* The structure a mutation goes to, picked at random. */
static enum fuzz_target pick_region(struct fuzz_state *fs, struct rnd_state *rnd,
				    struct fuzz_region *region)
{
	enum fuzz_target target = prandom_u32_state(rnd) % T_COUNT;
	const struct ddi_geometry *geo = &fs->geo;
	u32 chapter = prandom_u32_state(rnd) % geo->chapters_per_volume;
	u64 volume = fs->layout.volume_start_block * BLOCK;

	region->slot = prandom_u32_state(rnd) % DDI_SAVE_SLOTS;
	region->page = 0;
	switch (target) {
	case T_SUPER:
		region->start = 0;
		region->length = BLOCK;
		break;
	case T_SAVE_HEADER:
		region->start = (1 + region->slot * fs->layout.save_slot_blocks) * BLOCK;
		region->length = BLOCK;
		break;
	case T_PAGE_MAP:
	case T_OPEN_CHAPTER:
	case T_VOLUME_INDEX: {
		int section = target == T_PAGE_MAP ? DDI_SAVE_PAGE_MAP :
			      target == T_OPEN_CHAPTER ? DDI_SAVE_OPEN_CHAPTER :
			      DDI_SAVE_VOLUME_INDEX;

		region->start = fs->section_start[region->slot][section];
		region->length = fs->section_bytes[region->slot][section];
		break;
	}
	case T_VOLUME_HEADER:
		region->start = volume;
		region->length = BLOCK;
		break;
	case T_INDEX_PAGE:
		region->page = ddi_physical_page(geo, chapter, prandom_u32_state(rnd) %
						 geo->index_pages_per_chapter);
		region->start = volume + (u64)region->page * BLOCK;
		region->length = BLOCK;
		break;
	default:
		region->page = ddi_physical_page(geo, chapter, geo->index_pages_per_chapter +
						 prandom_u32_state(rnd) %
						 geo->record_pages_per_chapter);
		region->start = volume + (u64)region->page * BLOCK;
		region->length = BLOCK;
		target = T_RECORD_PAGE;
		break;
	}
	return target;
}

static u64 extreme_value(struct rnd_state *rnd, u64 old, u8 width)
{
	u64 max = width == 8 ? U64_MAX : (1ULL << (8 * width)) - 1;

	switch (prandom_u32_state(rnd) % 10) {
	case 0: return 0;
	case 1: return 1;
	case 2: return max;
	case 3: return max - 1;
	case 4: return max >> 1;
	case 5: return (max >> 1) + 1;
	case 6: return (old + 1) & max;
	case 7: return (old - 1) & max;
	case 8: return (old << 1 | 1) & max;
	default: return (1ULL << (prandom_u32_state(rnd) % (8 * width))) & max;
	}
}

static void put_field(u8 *at, u8 width, u64 value)
{
	if (width == 8)
		put_unaligned_le64(value, at);
	else if (width == 4)
		put_unaligned_le32(value, at);
	else
		put_unaligned_le16(value, at);
}

static u64 get_field(const u8 *at, u8 width)
{
	return width == 8 ? get_unaligned_le64(at) :
	       width == 4 ? get_unaligned_le32(at) : get_unaligned_le16(at);
}

/*
 * Which bytes a forged mutation of @target may change: record data under
 * a valid checksum would be a legitimate answer, so not those.
 */
static bool may_forge(enum fuzz_target target, u64 offset)
{
	if (target == T_RECORD_PAGE)
		return offset >= RP_HEADER || offset % DDI_BYTES_PER_RECORD < DDI_NAME_SIZE;
	if (target == T_OPEN_CHAPTER)
		return offset < DDI_OC_SAVE_RECORDS ||
		       (offset - DDI_OC_SAVE_RECORDS) % DDI_BYTES_PER_RECORD < DDI_NAME_SIZE;
	return true;
}

/* The fields of each target; the volume header page has none of its own. */
static const struct {
	const struct fuzz_field *fields;
	u32 count;
} field_tables[T_COUNT] = {
	[T_SUPER] = { super_fields, ARRAY_SIZE(super_fields) },
	[T_SAVE_HEADER] = { save_header_fields, ARRAY_SIZE(save_header_fields) },
	[T_PAGE_MAP] = { page_map_fields, ARRAY_SIZE(page_map_fields) },
	[T_OPEN_CHAPTER] = { open_chapter_fields, ARRAY_SIZE(open_chapter_fields) },
	[T_VOLUME_INDEX] = { volume_index_fields, ARRAY_SIZE(volume_index_fields) },
	[T_VOLUME_HEADER] = { record_page_fields, ARRAY_SIZE(record_page_fields) },
	[T_INDEX_PAGE] = { index_page_fields, ARRAY_SIZE(index_page_fields) },
	[T_RECORD_PAGE] = { record_page_fields, ARRAY_SIZE(record_page_fields) },
};

/*
 * Apply one mutation of @op to @region of the work image. Returns the
 * byte range changed, as [*lo, *hi).
 */
static void mutate(struct fuzz_state *fs, struct rnd_state *rnd, enum fuzz_target target,
		   const struct fuzz_region *region, enum fuzz_op op, bool forge,
		   u64 *lo, u64 *hi, char *what, size_t what_len)
{
	u8 *base = fs->work + region->start;
	u64 length = region->length, at, n, i;

	*lo = 0;
	*hi = 0;
	if (length == 0)
		return;
	switch (op) {
	case OP_FLIP:
		n = 1 + prandom_u32_state(rnd) % 8;
		for (i = 0; i < n; i++) {
			at = prandom_u32_state(rnd) % length;
			if (forge && !may_forge(target, at))
				continue;
			base[at] ^= 1 << (prandom_u32_state(rnd) % 8);
			*lo = i == 0 ? at : min(*lo, at);
			*hi = max(*hi, at + 1);
		}
		scnprintf(what, what_len, "%llu bit flips", n);
		break;
	case OP_OVERWRITE: {
		u8 fill = prandom_u32_state(rnd) % 3;

		at = prandom_u32_state(rnd) % length;
		n = min_t(u64, 1 + prandom_u32_state(rnd) % 64, length - at);
		for (i = at; i < at + n; i++) {
			if (forge && !may_forge(target, i))
				continue;
			base[i] = fill == 0 ? 0 : fill == 1 ? 0xff : prandom_u32_state(rnd);
		}
		*lo = at;
		*hi = at + n;
		scnprintf(what, what_len, "%llu bytes at %llu overwritten (%s)", n, at,
			  fill == 0 ? "zeroes" : fill == 1 ? "ones" : "random");
		break;
	}
	case OP_TRUNCATE:
		/* A zeroed tail: the structure, or its last blocks, never written. */
		at = prandom_u32_state(rnd) % 2 ? prandom_u32_state(rnd) % length :
		     round_down(prandom_u32_state(rnd) % length, BLOCK);
		/* Forged, only whole records go: a zero name is never asked for. */
		if (forge && target == T_RECORD_PAGE)
			at = round_down(at, DDI_BYTES_PER_RECORD);
		if (forge && target == T_OPEN_CHAPTER && at > DDI_OC_SAVE_RECORDS)
			at = DDI_OC_SAVE_RECORDS + round_down(at - DDI_OC_SAVE_RECORDS,
							      DDI_BYTES_PER_RECORD);
		memset(base + at, 0, length - at);
		*lo = at;
		*hi = length;
		scnprintf(what, what_len, "zeroed from %llu of %llu", at, length);
		break;
	default: {
		const struct fuzz_field *f;
		u64 old, value;

		f = &field_tables[target].fields[prandom_u32_state(rnd) %
						 field_tables[target].count];
		if (f->offset + f->width > length)
			break;
		old = get_field(base + f->offset, f->width);
		value = extreme_value(rnd, old, f->width);
		put_field(base + f->offset, f->width, value);
		*lo = f->offset;
		*hi = f->offset + f->width;
		scnprintf(what, what_len, "field at %u (%u bytes) %llu -> %llu", f->offset,
			  f->width, old, value);
		break;
	}
	}
	*lo += region->start;
	*hi += region->start;
}

/* Stamp the volume index section's own checksums, at the golden offsets. */
static void forge_volume_index(struct fuzz_state *fs, int slot)
{
	u8 *section = fs->work + fs->section_start[slot][DDI_SAVE_VOLUME_INDEX];
	const u8 *golden = fs->golden + fs->section_start[slot][DDI_SAVE_VOLUME_INDEX];
	u64 bytes = fs->section_bytes[slot][DDI_SAVE_VOLUME_INDEX];
	u32 zones = get_unaligned_le32(golden + 8);
	u64 part = get_unaligned_le64(golden + 24), z;

	if (bytes < VI_HEADER_BYTES || zones == 0 || zones > DDI_MAX_ZONES ||
	    part < VI_PART_HEADER_BYTES + 4 || VI_HEADER_BYTES + zones * part > bytes)
		return;
	put_unaligned_le32(crc32_le(~0, section, 32), section + 32);
	for (z = 0; z < zones; z++) {
		u8 *p = section + VI_HEADER_BYTES + z * part;

		put_unaligned_le32(crc32_le(~0, p, part - 4), p + part - 4);
	}
}

/* Stamp valid checksums over whatever @target now holds. */
static void forge(struct fuzz_state *fs, enum fuzz_target target, const struct fuzz_region *region)
{
	u8 *header = fs->work + (1 + region->slot * fs->layout.save_slot_blocks) * BLOCK;
	u8 *page = fs->work + region->start;
	u64 payload = 0, room = (fs->layout.save_slot_blocks - 1) * BLOCK;
	int s;

	switch (target) {
	case T_SUPER:
		put_unaligned_le32(crc32_le(~0, page, BLOCK - 4), page + BLOCK - 4);
		return;
	case T_INDEX_PAGE:
		put_unaligned_le32(ddi_ci_page_crc(page, BLOCK), page + DDI_CI_CRC);
		return;
	case T_RECORD_PAGE:
	case T_VOLUME_HEADER:
		put_unaligned_le32(crc32_le(~0, page, RP_CRC), page + RP_CRC);
		return;
	case T_OPEN_CHAPTER: {
		u8 *oc = fs->work + fs->section_start[region->slot][DDI_SAVE_OPEN_CHAPTER];
		u64 bytes = fs->section_bytes[region->slot][DDI_SAVE_OPEN_CHAPTER];
		u32 count = get_unaligned_le32(oc + DDI_OC_SAVE_COUNT);

		if (bytes >= DDI_OC_SAVE_RECORDS &&
		    count <= (bytes - DDI_OC_SAVE_RECORDS) / DDI_BYTES_PER_RECORD)
			put_unaligned_le32(ddi_open_chapter_save_crc(oc, count),
					   oc + DDI_OC_SAVE_CRC);
		break;
	}
	case T_VOLUME_INDEX:
		forge_volume_index(fs, region->slot);
		break;
	default:
		break;
	}
	/* The payload checksum covers what the header now says it holds. */
	for (s = 0; s < DDI_SAVE_SECTIONS; s++) {
		u64 bytes = get_unaligned_le64(header + SAVE_SECTION_BYTES + 8 * s);

		if (bytes > room || payload + bytes > room) {
			payload = U64_MAX;
			break;
		}
		payload += bytes;
	}
	if (payload != U64_MAX)
		put_unaligned_le32(crc32_le(~0, header + BLOCK, payload),
				   header + SAVE_PAYLOAD_CRC);
	put_unaligned_le32(crc32_le(~0, header, BLOCK - 4), header + BLOCK - 4);
}

/*
 * Search a sample of the posted names and a few never posted: a found
 * name must come back with its own data. Returns the wrong answers.
 */
static u32 search_sample(struct fuzz_state *fs, struct ddi_index *index, struct rnd_state *rnd)
{
	u32 q, wrong = 0;

	for (q = 0; q < FUZZ_QUERIES + FUZZ_STRANGERS; q++) {
		struct ddi_record stranger;
		const struct ddi_record *record;
		struct ddi_data data;
		bool found;
		int ret;

		if (q < FUZZ_QUERIES) {
			record = &fs->records[prandom_u32_state(rnd) % fs->record_count];
		} else {
			prandom_bytes_state(rnd, &stranger, sizeof(stranger));
			record = &stranger;
		}
		ret = fuzz_query(index, &record->name, &found, &data);
		if (ret) {
			kunit_info(fs->test, "query status %d\n", ret);
			continue;
		}
		if (found)
			fs->found++;
		if (found && (record == &stranger ||
			      memcmp(&data, &record->data, sizeof(data)))) {
			kunit_err(fs->test, "wrong answer for %s name %*phN\n",
				  record == &stranger ? "a never posted" : "a posted",
				  DDI_NAME_SIZE, record->name.bytes);
			wrong++;
		}
	}
	return wrong;
}

static void count_refusal(struct fuzz_state *fs, int ret)
{
	static const int codes[] = { -EBADMSG, -EINVAL, -ENOSPC, -EUCLEAN, -EMEDIUMTYPE,
				     -ENOMEM };
	u32 i;

	fs->refused++;
	for (i = 0; i < ARRAY_SIZE(codes); i++) {
		if (ret == codes[i]) {
			fs->refusals[i]++;
			return;
		}
	}
	fs->refusals[ARRAY_SIZE(codes)]++;
}

static void run_mutation(struct fuzz_state *fs, u64 seed, u32 n)
{
	struct kunit *test = fs->test;
	struct fuzz_region region;
	enum fuzz_target target;
	struct rnd_state rnd;
	struct ddi_index *index;
	enum fuzz_op op;
	u64 lo, hi, first, last;
	char what[96] = "", *error = NULL;
	bool forged;
	bool rebuilt = false, formatted = false;
	unsigned long largest;
	u32 wrong;
	int ret;

	prandom_seed_state(&rnd, seed ^ (0x9e3779b97f4a7c15ULL * (n + 1)));
	target = pick_region(fs, &rnd, &region);
	op = prandom_u32_state(&rnd) % OP_COUNT;
	forged = op == OP_EXTREME || prandom_u32_state(&rnd) % 2;
	mutate(fs, &rnd, target, &region, op, forged, &lo, &hi, what, sizeof(what));
	if (forged)
		forge(fs, target, &region);
	fs->by_target[target]++;

	/* The blocks changed: the structure's, and its slot header's if forged. */
	first = region.start / BLOCK;
	last = (region.start + max_t(u64, region.length, 1) - 1) / BLOCK;
	if (target >= T_SAVE_HEADER && target <= T_VOLUME_INDEX)
		first = 1 + region.slot * fs->layout.save_slot_blocks;
	KUNIT_ASSERT_EQ(test, 0, write_blocks(fs, fs->work, first, last));

	watch_start();
	ret = ddi_index_open(fs->disk->bdev, &fs->config, &index, &error);
	if (!ret) {
		/* Only a blank block 0 is formatted without 'format', as documented. */
		formatted = index->opened == DDI_OPENED_FORMATTED;
		KUNIT_EXPECT_TRUE_MSG(test, !formatted || !memchr_inv(fs->work, 0, BLOCK),
				      "mutation %u formatted the device", n);
		fs->opened[index->opened]++;
		wrong = search_sample(fs, index, &rnd);
		if (wrong) {
			fs->wrong += wrong;
			KUNIT_FAIL(test,
				   "seed %llu mutation %u: %s %s (slot %d page %u), %s%s: %u wrong",
				   seed, n, op_names[op], target_names[target], region.slot,
				   region.page, what, forged ? ", checksums forged" : "", wrong);
		}
		rebuilt = index->opened == DDI_OPENED_REBUILT;
		/* Nothing is saved: the device keeps the mutation only. */
		ddi_index_abandon(index);
	} else {
		count_refusal(fs, ret);
		/* Every refusal of a crafted disk names its reason in the table's words. */
		KUNIT_EXPECT_TRUE_MSG(test, error && strcmp(error, "cannot open the index"),
				      "seed %llu mutation %u: refused (%d) without a reason",
				      seed, n, ret);
	}
	largest = watch_stop();
	fs->largest = max(fs->largest, largest);
	if (fs->watching && largest > fs->bound) {
		fs->wrong++;
		KUNIT_FAIL(test,
			   "seed %llu mutation %u: %s %s (slot %d page %u), %s%s: allocated %lu bytes, bound %lu",
			   seed, n, op_names[op], target_names[target], region.slot, region.page,
			   what, forged ? ", checksums forged" : "", largest, fs->bound);
	}

	memcpy(fs->work + first * BLOCK, fs->golden + first * BLOCK, (last - first + 1) * BLOCK);
	KUNIT_ASSERT_EQ(test, 0, write_blocks(fs, fs->golden, first, last));
	/* A format wrote the superblock and emptied both slots. */
	if (formatted) {
		u32 slot;

		KUNIT_ASSERT_EQ(test, 0, write_blocks(fs, fs->golden, 0, 0));
		for (slot = 0; slot < DDI_SAVE_SLOTS; slot++) {
			u64 header = 1 + slot * fs->layout.save_slot_blocks;

			KUNIT_ASSERT_EQ(test, 0, write_blocks(fs, fs->golden, header, header));
		}
	}
	/* A rebuild may repair pages on disk: put the volume back as it was. */
	if (rebuilt)
		KUNIT_ASSERT_EQ(test, 0, write_blocks(fs, fs->golden, fs->layout.volume_start_block,
						      fs->layout.total_blocks - 1));
}

/* The unmutated image loads from the newest save and answers everything. */
static void check_golden(struct fuzz_state *fs)
{
	struct kunit *test = fs->test;
	u32 per_chapter = FUZZ_RECORD_PAGES * DDI_RECORDS_PER_PAGE;
	u32 recent = (FUZZ_CHAPTERS - 4) * per_chapter;
	struct ddi_index *index;
	u32 i, found = 0;

	watch_start();
	KUNIT_ASSERT_EQ(test, 0, ddi_index_open(fs->disk->bdev, &fs->config, &index, NULL));
	KUNIT_EXPECT_EQ(test, index->opened, DDI_OPENED_LOADED);
	fs->bound = max3(fs->bound, watch_stop(),
			 (unsigned long)fs->layout.save_slot_blocks * BLOCK);
	for (i = fs->record_count - recent; i < fs->record_count; i++) {
		struct ddi_data data;
		bool hit;

		KUNIT_ASSERT_EQ(test, 0, fuzz_query(index, &fs->records[i].name, &hit, &data));
		if (hit && !memcmp(&data, &fs->records[i].data, sizeof(data)))
			found++;
	}
	ddi_index_abandon(index);
	KUNIT_EXPECT_EQ(test, found, recent);
}

/*
 * The mutations run in batches, one parameterised case each, so that no
 * case comes near KUnit's five-minute timeout: make fuzz runs 100,000.
 */
/*
 * Mutations per case. KUnit gives every case five minutes, whatever its
 * speed attribute: on x86_64 under TCG 200 mutations took 55 to 140 s on
 * the same host, so a case there stays at 100 to keep far from the limit.
 */
#define FUZZ_BATCH (IS_ENABLED(CONFIG_UML) ? 500 : 100)
enum { FUZZ_MAX_BATCHES = 1000 };

static u64 fuzz_run_seed;
static u32 fuzz_batch_numbers[FUZZ_MAX_BATCHES];

static u32 fuzz_total(void)
{
	return min_t(u32, fuzz_iterations ? fuzz_iterations : FUZZ_DEFAULT_ITERATIONS,
		     FUZZ_BATCH * FUZZ_MAX_BATCHES);
}

static const void *fuzz_batches(const void *prev, char *desc)
{
	const u32 *batch = prev ? (const u32 *)prev + 1 : fuzz_batch_numbers;
	u32 first = (batch - fuzz_batch_numbers) * FUZZ_BATCH;

	if (first >= fuzz_total())
		return NULL;
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "mutations %u to %u", fuzz_first + first,
		 fuzz_first + min(first + FUZZ_BATCH, fuzz_total()) - 1);
	return batch;
}

static void fuzz_on_disk_format(struct kunit *test)
{
	u32 batch = (const u32 *)test->param_value - fuzz_batch_numbers;
	u32 start = fuzz_first + batch * FUZZ_BATCH;
	u32 end = fuzz_first + min(batch * FUZZ_BATCH + FUZZ_BATCH, fuzz_total());
	u64 seed = fuzz_run_seed;
	unsigned long vmalloc_before;
	struct fuzz_state *fs;
	struct rnd_state rnd;
	u32 n, t;

	fs = kunit_kzalloc(test, sizeof(*fs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, fs);
	fs->test = test;
	kunit_info(test, "fuzz seed %llu, mutations %u to %u (replay: dm_dedup_index.fuzz_seed=%llu dm_dedup_index.fuzz_first=N dm_dedup_index.fuzz_iterations=M)\n",
		   seed, start, end - 1, seed);
	prandom_seed_state(&rnd, seed);
	build_index(fs, &rnd);
	fs->watching = watch_allocations(test);
	check_golden(fs);
	kunit_info(test, "allocation bound %lu bytes%s\n", fs->bound,
		   fs->watching ? "" : " (not checked: no tracepoints)");

	vmalloc_before = vmalloc_nr_pages();
	for (n = start; n < end; n++) {
		run_mutation(fs, seed, n);
		if (fs->wrong > 20)
			break;
		cond_resched();
	}
	/*
	 * Every refused or abandoned open gave back what it took. The stacks
	 * of the threads an open started are vmalloc'd on x86_64 and freed
	 * after an RCU grace period, then by a work item: give those a few
	 * seconds to go, which a real leak never does.
	 */
	for (t = 0; t < 30 && vmalloc_nr_pages() > vmalloc_before + 64; t++) {
		rcu_barrier();
		msleep(100);
	}
	KUNIT_EXPECT_LE_MSG(test, vmalloc_nr_pages(), vmalloc_before + 64,
			    "vmalloc pages grew from %lu over the mutations", vmalloc_before);

	kunit_info(test, "ddi-fuzz: %u mutations: %u loaded, %u rebuilt, %u empty, %u formatted (blank superblock), %u refused, %u wrong answers (seed %llu)\n",
		   n - start, fs->opened[DDI_OPENED_LOADED], fs->opened[DDI_OPENED_REBUILT],
		   fs->opened[DDI_OPENED_EMPTY], fs->opened[DDI_OPENED_FORMATTED], fs->refused,
		   fs->wrong, seed);
	kunit_info(test, "ddi-fuzz: largest allocation during an open %lu bytes (bound %lu)\n",
		   fs->largest, fs->bound);
	kunit_info(test, "ddi-fuzz: refusals: EBADMSG %u EINVAL %u ENOSPC %u EUCLEAN %u EMEDIUMTYPE %u ENOMEM %u other %u; names found %u\n",
		   fs->refusals[0], fs->refusals[1], fs->refusals[2], fs->refusals[3],
		   fs->refusals[4], fs->refusals[5], fs->refusals[6], fs->found);
	for (t = 0; t < T_COUNT; t++)
		kunit_info(test, "ddi-fuzz: %s: %u mutations\n", target_names[t], fs->by_target[t]);
	KUNIT_EXPECT_EQ(test, fs->wrong, 0U);
	/* The image still opens as it was: every mutation was undone. */
	check_golden(fs);
}

static int fuzz_suite_init(struct kunit_suite *suite)
{
	fuzz_run_seed = fuzz_seed ? fuzz_seed : ddi_test_base_seed();
	return 0;
}

static struct kunit_case fuzz_cases[] = {
	KUNIT_CASE_PARAM_ATTR(fuzz_on_disk_format, fuzz_batches, { .speed = KUNIT_SPEED_SLOW }),
	{}
};

static struct kunit_suite fuzz_suite = {
	.name = "dm_dedup_index_fuzz",
	.suite_init = fuzz_suite_init,
	.test_cases = fuzz_cases,
};

kunit_test_suite(fuzz_suite);
