// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the whole index: request semantics, chapters closing
 * under concurrent posts, wrap-around, save and load, crash rebuild, a
 * damaged save, and long random operation sequences checked against a
 * model kept by the test.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/vmalloc.h>

#include "index.h"
#include "test-util.h"

enum {
	TEST_DISK = 1,
	TEST_DISK_BYTES = 32 << 20,
	TEST_RECORD_PAGES = 4,
	TEST_CHAPTERS = 16,
};

struct sync_request {
	struct ddi_request request;
	struct completion done;
};

static void sync_callback(struct ddi_request *request)
{
	complete(&container_of(request, struct sync_request, request)->done);
}

/* Run one request and wait for it; returns its status. */
static int run_request(struct ddi_index *index, enum ddi_request_type type,
		       const struct ddi_name *name, const struct ddi_data *new_data,
		       bool *found, struct ddi_data *old_data)
{
	struct sync_request sr = {
		.request = {
			.type = type,
			.name = *name,
			.callback = sync_callback,
		},
	};

	if (new_data)
		sr.request.new_data = *new_data;
	init_completion(&sr.done);
	ddi_index_launch(index, &sr.request);
	wait_for_completion(&sr.done);
	*found = sr.request.found;
	if (old_data)
		*old_data = sr.request.old_data;
	return sr.request.status;
}

static struct ddi_index_config test_config(unsigned int zones)
{
	return (struct ddi_index_config) {
		.record_pages_per_chapter = TEST_RECORD_PAGES,
		.chapters_per_volume = TEST_CHAPTERS,
		.zone_count = zones,
		.reader_count = 2,
		.cache_chapters = 2,
	};
}

struct index_fixture {
	struct ddi_test_disk *disk;
	struct ddi_index *index;
	struct ddi_index_config config;
	struct ddi_record *records;
	u32 record_count;
	struct rnd_state rnd;
};

static void close_index(void *arg)
{
	struct index_fixture *f = arg;

	if (f->index)
		ddi_index_close(f->index);
	f->index = NULL;
}

static void free_vmem(void *arg)
{
	vfree(arg);
}

static struct index_fixture *make_fixture(struct kunit *test, unsigned int zones, u32 records)
{
	struct index_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	f->disk = ddi_test_disk_open(test, TEST_DISK, TEST_DISK_BYTES);
	f->config = test_config(zones);
	ddi_test_seed(test, &f->rnd);
	f->record_count = records;
	f->records = vmalloc(sizeof(*f->records) * records);
	KUNIT_ASSERT_NOT_NULL(test, f->records);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_vmem, f->records));
	ddi_test_random_records(&f->rnd, f->records, records);
	KUNIT_ASSERT_EQ(test, 0, ddi_index_open(f->disk->bdev, &f->config, &f->index));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, close_index, f));
	return f;
}

static void reopen(struct kunit *test, struct index_fixture *f)
{
	KUNIT_ASSERT_EQ(test, 0, ddi_index_open(f->disk->bdev, &f->config, &f->index));
}

static void post_all(struct kunit *test, struct index_fixture *f, u32 first, u32 count,
		     bool expect_found)
{
	u32 i, wrong = 0;

	for (i = first; i < first + count; i++) {
		struct ddi_data old;
		bool found;

		KUNIT_ASSERT_EQ(test, 0, run_request(f->index, DDI_POST, &f->records[i].name,
						     &f->records[i].data, &found, &old));
		if (found != expect_found ||
		    (found && memcmp(&old, &f->records[i].data, sizeof(old))))
			wrong++;
	}
	KUNIT_EXPECT_EQ_MSG(test, wrong, 0U, "posts of records %u..%u", first, first + count);
}

/* How many of records [first, first + count) a non-updating query finds intact. */
static u32 count_found(struct kunit *test, struct index_fixture *f, u32 first, u32 count)
{
	u32 i, hits = 0;

	for (i = first; i < first + count; i++) {
		struct ddi_data old;
		bool found;

		KUNIT_ASSERT_EQ(test, 0, run_request(f->index, DDI_QUERY_NO_UPDATE,
						     &f->records[i].name, NULL, &found, &old));
		if (found) {
			KUNIT_EXPECT_MEMEQ(test, &old, &f->records[i].data, sizeof(old));
			hits++;
		}
	}
	return hits;
}

static void index_request_semantics(struct kunit *test)
{
	struct index_fixture *f = make_fixture(test, 1, 2);
	const struct ddi_name *name = &f->records[0].name;
	struct ddi_data first = f->records[0].data, second = f->records[1].data, old;
	bool found;

	KUNIT_EXPECT_EQ(test, 0, run_request(f->index, DDI_QUERY, name, NULL, &found, NULL));
	KUNIT_EXPECT_FALSE(test, found);
	KUNIT_EXPECT_EQ(test, 0, run_request(f->index, DDI_POST, name, &first, &found, NULL));
	KUNIT_EXPECT_FALSE(test, found);
	/* A second post reports the first's data and keeps it. */
	KUNIT_EXPECT_EQ(test, 0, run_request(f->index, DDI_POST, name, &second, &found, &old));
	KUNIT_EXPECT_TRUE(test, found);
	KUNIT_EXPECT_MEMEQ(test, &old, &first, sizeof(old));
	/* Update replaces it. */
	KUNIT_EXPECT_EQ(test, 0, run_request(f->index, DDI_UPDATE, name, &second, &found, &old));
	KUNIT_EXPECT_TRUE(test, found);
	KUNIT_EXPECT_EQ(test, 0, run_request(f->index, DDI_QUERY, name, NULL, &found, &old));
	KUNIT_EXPECT_TRUE(test, found);
	KUNIT_EXPECT_MEMEQ(test, &old, &second, sizeof(old));
	/* Delete forgets it, and deleting again finds nothing. */
	KUNIT_EXPECT_EQ(test, 0, run_request(f->index, DDI_DELETE, name, NULL, &found, NULL));
	KUNIT_EXPECT_TRUE(test, found);
	KUNIT_EXPECT_EQ(test, 0, run_request(f->index, DDI_DELETE, name, NULL, &found, NULL));
	KUNIT_EXPECT_FALSE(test, found);
	KUNIT_EXPECT_EQ(test, 0, run_request(f->index, DDI_QUERY_NO_UPDATE, name, NULL, &found,
					     NULL));
	KUNIT_EXPECT_FALSE(test, found);
	/* Update of an unknown name adds it. */
	KUNIT_EXPECT_EQ(test, 0, run_request(f->index, DDI_UPDATE, name, &first, &found, NULL));
	KUNIT_EXPECT_FALSE(test, found);
	KUNIT_EXPECT_EQ(test, 1U, count_found(test, f, 0, 1));
}

/* Enough records to close several chapters, found again across zones. */
static void index_finds_duplicates_across_chapters(struct kunit *test)
{
	u32 per_chapter = TEST_RECORD_PAGES * DDI_RECORDS_PER_PAGE;
	struct index_fixture *f = make_fixture(test, 4, 6 * per_chapter);
	struct ddi_index_stats stats;

	post_all(test, f, 0, f->record_count, false);
	ddi_index_get_stats(f->index, &stats);
	KUNIT_EXPECT_GE(test, stats.chapters_written, 5ULL);
	KUNIT_EXPECT_EQ(test, stats.posts_not_found, (u64)f->record_count);
	KUNIT_EXPECT_EQ(test, count_found(test, f, 0, f->record_count), f->record_count);
	/* Posting them again finds each with its first data. */
	post_all(test, f, 0, f->record_count, true);
	ddi_index_get_stats(f->index, &stats);
	KUNIT_EXPECT_EQ(test, stats.posts_found, (u64)f->record_count);
	KUNIT_EXPECT_GT(test, stats.pages_read, 0ULL);
}

struct poster {
	struct index_fixture *f;
	u32 first;
	u32 count;
	atomic_t *wrong;
	struct completion done;
};

static int poster_thread(void *arg)
{
	struct poster *p = arg;
	u32 round, i;

	/* Each name twice: the second post must find the first's data. */
	for (round = 0; round < 2; round++) {
		bool expect_found = round == 1;

		for (i = p->first; i < p->first + p->count; i++) {
			const struct ddi_record *record = &p->f->records[i];
			struct ddi_data old;
			bool found;

			if (run_request(p->f->index, DDI_POST, &record->name, &record->data,
					&found, &old) ||
			    found != expect_found ||
			    (found && memcmp(&old, &record->data, sizeof(old))))
				atomic_inc(p->wrong);
		}
	}
	complete(&p->done);
	return 0;
}

/* Many threads posting while chapters close under them. */
static void index_concurrent_posts_close_chapters(struct kunit *test)
{
	u32 per_chapter = TEST_RECORD_PAGES * DDI_RECORDS_PER_PAGE;
	/* Two puts per name (new, then refreshed): stay inside the volume's window. */
	struct index_fixture *f = make_fixture(test, 4, 5 * per_chapter);
	struct poster posters[8];
	struct ddi_index_stats stats;
	atomic_t wrong = ATOMIC_INIT(0);
	u32 t, share = f->record_count / ARRAY_SIZE(posters);

	for (t = 0; t < ARRAY_SIZE(posters); t++) {
		struct task_struct *thread;

		posters[t] = (struct poster) {
			.f = f, .first = t * share, .count = share, .wrong = &wrong,
		};
		init_completion(&posters[t].done);
		thread = kthread_run(poster_thread, &posters[t], "ddi-test-post/%u", t);
		KUNIT_ASSERT_FALSE(test, IS_ERR(thread));
	}
	for (t = 0; t < ARRAY_SIZE(posters); t++)
		wait_for_completion(&posters[t].done);

	KUNIT_EXPECT_EQ(test, atomic_read(&wrong), 0);
	ddi_index_get_stats(f->index, &stats);
	kunit_info(test, "chapters %llu entries %llu found %llu new %llu hits %llu misses %llu read %llu corrupt %llu\n",
		   stats.chapters_written, stats.entries, stats.posts_found,
		   stats.posts_not_found, stats.cache_hits, stats.cache_misses,
		   stats.pages_read, stats.corrupt_pages);
	KUNIT_EXPECT_GE(test, stats.chapters_written, 7ULL);
	KUNIT_EXPECT_EQ(test, count_found(test, f, 0, share * ARRAY_SIZE(posters)),
			share * (u32)ARRAY_SIZE(posters));
}

/* Posting past the volume's size forgets the oldest chapters' names. */
static void index_wraps_and_forgets(struct kunit *test)
{
	u32 per_chapter = TEST_RECORD_PAGES * DDI_RECORDS_PER_PAGE;
	struct index_fixture *f = make_fixture(test, 1, (TEST_CHAPTERS + 8) * per_chapter);
	u32 recent = (TEST_CHAPTERS - 2) * per_chapter;

	post_all(test, f, 0, f->record_count, false);
	/* The first chapters' worth has left the volume. */
	KUNIT_EXPECT_EQ(test, count_found(test, f, 0, 4 * per_chapter), 0U);
	KUNIT_EXPECT_EQ(test, count_found(test, f, f->record_count - recent, recent), recent);
}

static void index_saves_and_loads(struct kunit *test)
{
	u32 per_chapter = TEST_RECORD_PAGES * DDI_RECORDS_PER_PAGE;
	struct index_fixture *f = make_fixture(test, 2, 3 * per_chapter + 100);
	struct ddi_index_stats stats;

	/* Saves before any chapter closes, and several in a row, load too. */
	post_all(test, f, 0, 100, false);
	KUNIT_ASSERT_EQ(test, 0, ddi_index_save(f->index));
	ddi_index_close(f->index);
	f->index = NULL;
	reopen(test, f);
	KUNIT_EXPECT_EQ(test, count_found(test, f, 0, 100), 100U);
	KUNIT_ASSERT_EQ(test, 0, ddi_index_save(f->index));
	post_all(test, f, 100, f->record_count - 100, false);
	KUNIT_ASSERT_EQ(test, 0, ddi_index_save(f->index));
	ddi_index_close(f->index);
	f->index = NULL;
	reopen(test, f);
	/* Closed chapters and the saved open chapter alike. */
	KUNIT_EXPECT_EQ(test, count_found(test, f, 0, f->record_count), f->record_count);
	ddi_index_get_stats(f->index, &stats);
	KUNIT_EXPECT_EQ(test, stats.chapters_written, 0ULL);
	post_all(test, f, 0, f->record_count, true);
}

/* Drop the index without saving, as a crash would. */
static void crash(struct index_fixture *f)
{
	ddi_index_abandon(f->index);
	f->index = NULL;
}

static void index_rebuilds_after_crash(struct kunit *test)
{
	u32 per_chapter = TEST_RECORD_PAGES * DDI_RECORDS_PER_PAGE;
	struct index_fixture *f = make_fixture(test, 2, 5 * per_chapter);
	struct ddi_index_stats stats;
	u32 twins[] = { 0, 1, 2 * per_chapter };
	u32 closed, i;

	/*
	 * Three names alike in the bytes the volume index keeps, in one
	 * chapter and in two: the rebuild must keep an entry for each.
	 */
	for (i = 1; i < ARRAY_SIZE(twins); i++)
		memcpy(f->records[twins[i]].name.bytes + 8, f->records[0].name.bytes + 8, 8);
	post_all(test, f, 0, f->record_count, false);
	ddi_index_get_stats(f->index, &stats);
	/* A chapter closes when one zone fills: at least this much is on disk. */
	closed = stats.chapters_written * per_chapter / 2;
	KUNIT_ASSERT_GE(test, stats.chapters_written, 4ULL);
	crash(f);
	reopen(test, f);
	KUNIT_EXPECT_GE(test, count_found(test, f, 0, f->record_count), closed);
	/* Every record of every closed chapter: the rebuilt index holds them all. */
	ddi_index_get_stats(f->index, &stats);
	KUNIT_EXPECT_EQ(test, (u64)count_found(test, f, 0, f->record_count), stats.entries);
	for (i = 0; i < ARRAY_SIZE(twins); i++)
		KUNIT_EXPECT_EQ_MSG(test, count_found(test, f, twins[i], 1), 1U, "twin %u", i);
}

static void index_falls_back_to_rebuild_on_damaged_save(struct kunit *test)
{
	u32 per_chapter = TEST_RECORD_PAGES * DDI_RECORDS_PER_PAGE;
	struct index_fixture *f = make_fixture(test, 1, 3 * per_chapter - 50);
	struct ddi_index_layout layout;
	struct ddi_save_header header;
	struct ddi_index_stats stats;
	u32 found, slot;

	post_all(test, f, 0, f->record_count, false);
	ddi_index_get_stats(f->index, &stats);
	layout = f->index->layout;
	ddi_index_close(f->index);
	f->index = NULL;

	/* Damage the state in every slot that holds one. */
	for (slot = 0; slot < DDI_SAVE_SLOTS; slot++) {
		if (ddi_layout_read_save_header(f->disk->bdev, &layout, slot, &header))
			continue;
		ddi_test_disk_poke(test, f->disk, (1 + slot * layout.save_slot_blocks + 1) *
				   DDI_LAYOUT_BLOCK_BYTES + 100, 0x40);
	}
	reopen(test, f);
	found = count_found(test, f, 0, f->record_count);
	/* The saved open chapter is lost; the closed chapters are rebuilt. */
	KUNIT_EXPECT_GE(test, found, (u32)stats.chapters_written * per_chapter);
	KUNIT_EXPECT_LT(test, found, f->record_count);
}

/* The index moves onto a copy of its device and goes on from there. */
static void index_replaces_storage(struct kunit *test)
{
	u32 per_chapter = TEST_RECORD_PAGES * DDI_RECORDS_PER_PAGE;
	struct index_fixture *f = make_fixture(test, 2, 3 * per_chapter);
	struct ddi_test_disk *copy = ddi_test_disk_open(test, TEST_DISK + 1, TEST_DISK_BYTES);
	struct ddi_test_disk *stranger;
	struct ddi_index_config config = test_config(1);
	struct ddi_index *other;

	post_all(test, f, 0, 2 * per_chapter, false);
	KUNIT_ASSERT_EQ(test, 0, ddi_index_save(f->index));
	ddi_test_disk_copy(copy, f->disk, TEST_DISK_BYTES);
	KUNIT_ASSERT_EQ(test, 0, ddi_index_replace_storage(f->index, copy->bdev));
	/* The old device is wiped: everything must now come from the copy. */
	ddi_test_disk_zero(f->disk, 0, TEST_DISK_BYTES);
	KUNIT_EXPECT_EQ(test, count_found(test, f, 0, 2 * per_chapter), 2 * per_chapter);
	post_all(test, f, 2 * per_chapter, per_chapter, false);
	ddi_index_close(f->index);
	f->index = NULL;
	f->disk = copy;
	reopen(test, f);
	KUNIT_EXPECT_EQ(test, count_found(test, f, 0, f->record_count), f->record_count);
	ddi_index_close(f->index);
	f->index = NULL;

	/* Another index is no copy of this one: refused, nothing changed. */
	stranger = ddi_test_disk_open(test, TEST_DISK + 2, TEST_DISK_BYTES);
	KUNIT_ASSERT_EQ(test, 0, ddi_index_open(stranger->bdev, &config, &other));
	ddi_index_close(other);
	reopen(test, f);
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_index_replace_storage(f->index, stranger->bdev));
	KUNIT_EXPECT_EQ(test, count_found(test, f, 0, f->record_count), f->record_count);
}

/* A save torn halfway leaves the one before it to load. */
static void index_torn_save_keeps_previous(struct kunit *test)
{
	struct index_fixture *f = make_fixture(test, 2, 200);
	struct ddi_index_layout layout;
	unsigned int torn;

	post_all(test, f, 0, 200, false);
	KUNIT_ASSERT_EQ(test, 0, ddi_index_save(f->index));
	KUNIT_ASSERT_EQ(test, 0, ddi_index_save(f->index));
	layout = f->index->layout;
	torn = f->index->layout_save_slot;
	ddi_index_abandon(f->index);
	f->index = NULL;

	/* The newest slot's state is damaged after its header was written. */
	ddi_test_disk_poke(test, f->disk, (1 + torn * layout.save_slot_blocks + 2) *
			   DDI_LAYOUT_BLOCK_BYTES + 7, 0xff);
	reopen(test, f);
	KUNIT_EXPECT_EQ(test, f->index->layout_save_slot, 1 - torn);
	/* The open chapter came back from the older save: no rebuild could have. */
	KUNIT_EXPECT_EQ(test, count_found(test, f, 0, 200), 200U);
}

/* A device holding something else is refused, and left alone. */
static void index_refuses_foreign_device(struct kunit *test)
{
	struct ddi_test_disk *disk = ddi_test_disk_open(test, TEST_DISK, TEST_DISK_BYTES);
	struct ddi_index_config config = test_config(1);
	struct ddi_index_layout layout;
	struct ddi_index *index;

	ddi_test_disk_poke(test, disk, 1024, 0x53);
	KUNIT_EXPECT_EQ(test, -EMEDIUMTYPE, ddi_index_open(disk->bdev, &config, &index));
	config.record_pages_per_chapter = 1024;
	config.chapters_per_volume = 1024;
	config.format = true;
	KUNIT_EXPECT_EQ(test, -ENOSPC, ddi_index_open(disk->bdev, &config, &index));
	config = test_config(0);
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_index_open(disk->bdev, &config, &index));
	/* Refused for its cache size before anything is written. */
	ddi_test_disk_zero(disk, 0, TEST_DISK_BYTES);
	config = test_config(1);
	config.cache_chapters = 10000;
	config.format = true;
	KUNIT_EXPECT_EQ(test, -ERANGE, ddi_index_open(disk->bdev, &config, &index));
	KUNIT_EXPECT_EQ(test, -ENODATA, ddi_layout_read_super(disk->bdev, &layout));
	config = test_config(1);
	config.format = true;
	KUNIT_ASSERT_EQ(test, 0, ddi_index_open(disk->bdev, &config, &index));
	ddi_index_close(index);
	/* A damaged superblock is refused, not taken for a blank device. */
	ddi_test_disk_poke(test, disk, 30, 0x01);
	config.format = false;
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_index_open(disk->bdev, &config, &index));
	ddi_test_disk_poke(test, disk, 30, 0x01);
	config.format = true;
	/* An index of another shape is refused without format. */
	config.chapters_per_volume = TEST_CHAPTERS * 2;
	config.format = false;
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_index_open(disk->bdev, &config, &index));
}

struct model_entry {
	bool present;
	struct ddi_data data;
};

/* Random operations over a small name space, checked against a model. */
static void index_matches_model(struct kunit *test)
{
	enum { NAMES = 600, OPERATIONS = 3000 };
	struct index_fixture *f = make_fixture(test, 3, NAMES);
	struct model_entry *model = kunit_kcalloc(test, NAMES, sizeof(*model), GFP_KERNEL);
	u32 op, wrong = 0;

	KUNIT_ASSERT_NOT_NULL(test, model);
	for (op = 0; op < OPERATIONS; op++) {
		u32 which = prandom_u32_state(&f->rnd) % NAMES;
		enum ddi_request_type type = prandom_u32_state(&f->rnd) % 5;
		struct model_entry *m = &model[which];
		struct ddi_data data, old;
		bool found;

		prandom_bytes_state(&f->rnd, &data, sizeof(data));
		KUNIT_ASSERT_EQ(test, 0, run_request(f->index, type, &f->records[which].name,
						     &data, &found, &old));
		if (found != m->present || (found && memcmp(&old, &m->data, sizeof(old)))) {
			wrong++;
			kunit_info(test, "op %u type %d name %u: found %d expected %d\n",
				   op, type, which, found, m->present);
		}
		if (type == DDI_POST && !m->present) {
			m->present = true;
			m->data = data;
		} else if (type == DDI_UPDATE) {
			m->present = true;
			m->data = data;
		} else if (type == DDI_DELETE) {
			m->present = false;
		}
		/* Now and then, a save and a reopen in the middle of it all. */
		if (op % 1000 == 999) {
			ddi_index_close(f->index);
			f->index = NULL;
			reopen(test, f);
		}
	}
	KUNIT_EXPECT_EQ(test, wrong, 0U);
}

/*
 * The size reported for an index device is the size a formatted index
 * lays out. Prints the sizes of the memory-sized shapes for the admin guide.
 */
static void index_device_size_is_exact(struct kunit *test)
{
	static const unsigned int memory[] = { 256, 512, 768, 1024, 2048, 4096, 8192,
					       16384, 32768 };
	static const unsigned int shapes[][2] = { { 4, 16 }, { 16, 64 }, { 16, 128 },
						  { 64, 128 } };
	struct ddi_test_disk *disk = ddi_test_disk_open(test, TEST_DISK, TEST_DISK_BYTES);
	struct ddi_index_config config = test_config(1);
	struct ddi_index *index;
	struct ddi_geometry geo;
	u64 bytes;
	u32 i;

	for (i = 0; i < ARRAY_SIZE(memory); i++) {
		struct ddi_index_config sized = { .memory_mb = memory[i], .zone_count = 1 };

		KUNIT_ASSERT_EQ(test, 0, ddi_index_device_bytes(&sized, &bytes));
		kunit_info(test, "memory %u: index_dev %llu bytes\n", memory[i], bytes);
	}
	for (i = 0; i < ARRAY_SIZE(shapes); i++) {
		struct ddi_index_config shaped = {
			.record_pages_per_chapter = shapes[i][0],
			.chapters_per_volume = shapes[i][1],
			.zone_count = 1,
		};

		KUNIT_ASSERT_EQ(test, 0, ddi_index_device_bytes(&shaped, &bytes));
		kunit_info(test, "record_pages %u chapters %u: index_dev %llu bytes\n",
			   shapes[i][0], shapes[i][1], bytes);
	}
	KUNIT_ASSERT_EQ(test, 0, ddi_index_device_bytes(&config, &bytes));
	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&geo, TEST_RECORD_PAGES, TEST_CHAPTERS));
	KUNIT_EXPECT_GT(test, bytes, geo.bytes_per_volume);
	KUNIT_ASSERT_LT(test, bytes, (u64)TEST_DISK_BYTES);
	config.format = true;
	KUNIT_ASSERT_EQ(test, 0, ddi_index_open(disk->bdev, &config, &index));
	KUNIT_EXPECT_EQ(test, index->layout.total_blocks * DDI_LAYOUT_BLOCK_BYTES, bytes);
	ddi_index_close(index);
}

static struct kunit_case index_cases[] = {
	KUNIT_CASE(index_request_semantics),
	KUNIT_CASE(index_finds_duplicates_across_chapters),
	KUNIT_CASE(index_concurrent_posts_close_chapters),
	KUNIT_CASE(index_wraps_and_forgets),
	KUNIT_CASE(index_saves_and_loads),
	KUNIT_CASE(index_rebuilds_after_crash),
	KUNIT_CASE(index_falls_back_to_rebuild_on_damaged_save),
	KUNIT_CASE(index_replaces_storage),
	KUNIT_CASE(index_torn_save_keeps_previous),
	KUNIT_CASE(index_refuses_foreign_device),
	KUNIT_CASE(index_device_size_is_exact),
	KUNIT_CASE(index_matches_model),
	{}
};

static struct kunit_suite index_suite = {
	.name = "ddi-index",
	.test_cases = index_cases,
};

kunit_test_suite(index_suite);
