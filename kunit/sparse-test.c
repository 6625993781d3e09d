// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the sparse index: its shapes and their memory, the
 * sparse cache on a volume of its own (loads, first-in first-out
 * eviction, damaged chapters, expired chapters), hooks as the only
 * names kept for old chapters, a backup-like run found through the hooks
 * and the cache, the same answers after a save and after a rebuild, the
 * refusal of a table of the other kind, and zones sharing the cache while
 * it is loaded under them (run on x86_64 SMP with KASAN and lockdep: a
 * chapter freed or refilled under a searching zone shows there).
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/vmalloc.h>

#include "index.h"
#include "sparse-cache.h"
#include "test-util.h"

enum {
	SPARSE_DISK = 1,
	SPARSE_DISK_BYTES = 16 << 20,
	SPARSE_RECORD_PAGES = 4,
	SPARSE_CHAPTERS = 40,
	SPARSE_PER_CHAPTER = SPARSE_RECORD_PAGES * DDI_RECORDS_PER_PAGE,
};

static void free_vmem(void *arg)
{
	vfree(arg);
}

static void sparse_shapes(struct kunit *test)
{
	struct ddi_geometry dense, sparse, part;
	u64 dense_bytes, sparse_bytes;

	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init_sparse(&sparse, 4, 40));
	/* A twentieth stays dense, and never fewer than two chapters. */
	KUNIT_EXPECT_EQ(test, ddi_geometry_dense_chapters(&sparse), 2U);
	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init_sparse(&sparse, 4, 1000));
	KUNIT_EXPECT_EQ(test, ddi_geometry_dense_chapters(&sparse), 50U);
	KUNIT_EXPECT_EQ(test, sparse.sparse_sample_rate, (u32)DDI_SPARSE_SAMPLE_RATE);
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_geometry_init_sparse(&sparse, 4, 2));

	/* The parts the volume index is sized for. */
	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init_sparse(&sparse, 4, 1000));
	ddi_geometry_volume_index_part(&sparse, false, &part);
	KUNIT_EXPECT_EQ(test, part.chapters_per_volume, 50U);
	KUNIT_EXPECT_EQ(test, part.records_per_volume, 50ULL * sparse.records_per_chapter);
	ddi_geometry_volume_index_part(&sparse, true, &part);
	KUNIT_EXPECT_EQ(test, part.chapters_per_volume, 1000U);
	KUNIT_EXPECT_EQ(test, part.records_per_volume,
			DIV_ROUND_UP_ULL(sparse.records_per_volume, DDI_SPARSE_SAMPLE_RATE));

	/* A geometry with a sparse shape it cannot have is refused. */
	sparse.sparse_sample_rate = 16;
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_geometry_validate(&sparse));
	sparse.sparse_sample_rate = DDI_SPARSE_SAMPLE_RATE;
	sparse.sparse_chapters_per_volume = sparse.chapters_per_volume - 1;
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_geometry_validate(&sparse));
	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init(&dense, 4, 1000));
	dense.sparse_sample_rate = DDI_SPARSE_SAMPLE_RATE;
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_geometry_validate(&dense));

	/* "memory 256 sparse": in budget, with about ten times the window. */
	KUNIT_ASSERT_EQ(test, 0, ddi_index_memory_geometry(256, false, &dense));
	KUNIT_ASSERT_EQ(test, 0, ddi_index_memory_geometry(256, true, &sparse));
	dense_bytes = ddi_index_memory_planned(&dense);
	sparse_bytes = ddi_index_memory_planned(&sparse);
	kunit_info(test, "memory 256: dense %llu records in %llu bytes, sparse %llu records (%u x %u) in %llu bytes: %llu.%02llux the window",
		   dense.records_per_volume, dense_bytes, sparse.records_per_volume,
		   sparse.chapters_per_volume, sparse.record_pages_per_chapter, sparse_bytes,
		   div64_u64(sparse.records_per_volume, dense.records_per_volume),
		   div64_u64(sparse.records_per_volume * 100, dense.records_per_volume) % 100);
	KUNIT_EXPECT_LE(test, sparse_bytes, 256ULL << 20);
	KUNIT_EXPECT_GE(test, sparse.records_per_volume, 8 * dense.records_per_volume);
}

/*
 * What "memory N sparse" buys, beside "memory N": the rows of the sparse
 * sizing table in Documentation/dm-dedup-index.rst. Each stays in budget;
 * up to where the chapter count reaches its cap (the volume index numbers
 * at most DDI_VOLUME_INDEX_MAX_CHAPTERS) the window is at least 8 times
 * dense's.
 */
static void sparse_memory_shapes(struct kunit *test)
{
	static const unsigned int budgets[] = { 64, 256, 512, 1024, 2048, 4096 };
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(budgets); i++) {
		struct ddi_index_config config = { .memory_mb = budgets[i], .zone_count = 1,
						   .sparse = true };
		struct ddi_geometry dense, sparse;
		u64 bytes, device;

		KUNIT_ASSERT_EQ(test, 0, ddi_index_memory_geometry(budgets[i], false, &dense));
		KUNIT_ASSERT_EQ(test, 0, ddi_index_memory_geometry(budgets[i], true, &sparse));
		KUNIT_ASSERT_EQ(test, 0, ddi_index_device_bytes(&config, &device));
		bytes = ddi_index_memory_planned(&sparse);
		kunit_info(test, "memory %u sparse: %u x %u (%u index pages), %llu records (%llu GiB), %llu.%01llu MiB, %llu.%01llux dense, index_dev %llu bytes",
			   budgets[i], sparse.record_pages_per_chapter, sparse.chapters_per_volume,
			   sparse.index_pages_per_chapter,
			   sparse.records_per_volume, (sparse.records_per_volume * 4096) >> 30,
			   bytes >> 20, ((bytes * 10) >> 20) % 10,
			   div64_u64(sparse.records_per_volume, dense.records_per_volume),
			   div64_u64(sparse.records_per_volume * 10, dense.records_per_volume) % 10,
			   device);
		KUNIT_EXPECT_LE(test, bytes, (u64)budgets[i] << 20);
		if (sparse.chapters_per_volume + 10 * 1024 <= DDI_VOLUME_INDEX_MAX_CHAPTERS)
			KUNIT_EXPECT_GE(test, sparse.records_per_volume,
					8 * dense.records_per_volume);
	}
}

/* A volume of chapters 0..count-1 for the cache's own cases. */
struct cache_fixture {
	struct ddi_geometry geo;
	struct ddi_test_disk *disk;
	struct ddi_volume_config config;
	struct ddi_volume *volume;
	struct ddi_test_zone zones[1];
	struct ddi_record *records;
	struct ddi_sparse_cache *cache;
};

static void free_cache(void *arg)
{
	ddi_sparse_cache_free(arg);
}

static struct cache_fixture *cache_setup(struct kunit *test, u32 chapters)
{
	struct cache_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	struct rnd_state rnd;
	u32 c;

	KUNIT_ASSERT_NOT_NULL(test, f);
	KUNIT_ASSERT_EQ(test, 0, ddi_geometry_init_sparse(&f->geo, 2, chapters));
	f->disk = ddi_test_disk_open(test, 0, f->geo.bytes_per_volume);
	ddi_test_zones_init(f->zones, 1);
	ddi_test_seed(test, &rnd);
	f->config = (struct ddi_volume_config) {
		.zone_count = 1,
		.reader_count = 1,
		.cache_chapters = 2,
		.nonce = get_random_u64(),
		.requeue = ddi_test_requeue,
		.requeue_context = f->zones,
	};
	f->volume = ddi_test_volume_create(test, &f->geo, f->disk, &f->config);
	f->records = vmalloc_array((size_t)chapters * f->geo.records_per_chapter,
				   sizeof(*f->records));
	KUNIT_ASSERT_NOT_NULL(test, f->records);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_vmem, f->records));
	ddi_test_random_records(&rnd, f->records, chapters * f->geo.records_per_chapter);
	for (c = 0; c < chapters; c++)
		ddi_test_write_chapter(test, f->volume, c,
				       &f->records[c * f->geo.records_per_chapter],
				       f->geo.records_per_chapter);
	KUNIT_ASSERT_EQ(test, 0, ddi_sparse_cache_create(f->volume, &f->cache));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_cache, f->cache));
	return f;
}

/*
 * How many names of chapter @c the cache gives the right record page for.
 * A chapter index matches names by some of their bits, so a newer cached
 * chapter may claim a name of an older one (its record page then denies
 * it, and the name is missed): those are counted apart, and a chapter
 * may have one in a hundred. Anything else is wrong.
 */
static u32 cache_finds(struct kunit *test, struct cache_fixture *f, u64 c, u64 oldest)
{
	const struct ddi_record *records = &f->records[c * f->geo.records_per_chapter];
	u32 i, right = 0, shadowed = 0;

	for (i = 0; i < f->geo.records_per_chapter; i++) {
		u64 vcn = U64_MAX;
		u32 page = ddi_sparse_cache_search(f->cache, &records[i].name, oldest, &vcn,
						   NULL);

		/* ddi_test_write_chapter() puts record i on page i / records_per_page. */
		if (page == i / f->geo.records_per_page && vcn == c)
			right++;
		else if (page != DDI_NO_RECORD_PAGE && vcn > c)
			shadowed++;
		else
			KUNIT_EXPECT_EQ_MSG(test, page, DDI_NO_RECORD_PAGE,
					    "chapter %llu record %u: page %u of chapter %llu",
					    c, i, page, vcn);
	}
	KUNIT_EXPECT_LE_MSG(test, shadowed, f->geo.records_per_chapter / 100,
			    "chapter %llu: names claimed by newer chapters", c);
	return right;
}

/* All of a chapter's names but the few newer chapters may claim. */
static u64 all_but_shadowed(u64 all)
{
	return all - all / 100;
}

static void sparse_cache_loads_and_evicts(struct kunit *test)
{
	u32 chapters = DDI_SPARSE_CACHE_CHAPTERS + 2;
	struct cache_fixture *f = cache_setup(test, chapters);
	u32 all = f->geo.records_per_chapter;
	u64 c;

	/* Nothing cached: nothing found, not even a wrong page. */
	KUNIT_EXPECT_EQ(test, cache_finds(test, f, 0, 0), 0U);
	KUNIT_ASSERT_EQ(test, 0, ddi_sparse_cache_load(f->cache, 0));
	KUNIT_EXPECT_TRUE(test, ddi_sparse_cache_contains(f->cache, 0));
	KUNIT_EXPECT_GE(test, (u64)cache_finds(test, f, 0, 0), all_but_shadowed(all));
	/* A chapter already cached is not loaded twice. */
	KUNIT_ASSERT_EQ(test, 0, ddi_sparse_cache_load(f->cache, 0));
	KUNIT_EXPECT_EQ(test, f->cache->loaded, 1ULL);

	for (c = 1; c < chapters; c++)
		KUNIT_ASSERT_EQ(test, 0, ddi_sparse_cache_load(f->cache, c));
	/* First in, first out: 0 and 1 made room for the last two. */
	KUNIT_EXPECT_FALSE(test, ddi_sparse_cache_contains(f->cache, 0));
	KUNIT_EXPECT_FALSE(test, ddi_sparse_cache_contains(f->cache, 1));
	KUNIT_EXPECT_EQ(test, cache_finds(test, f, 0, 0), 0U);
	for (c = 2; c < chapters; c++)
		KUNIT_EXPECT_GE(test, (u64)cache_finds(test, f, c, 0), all_but_shadowed(all));
	/* Chapters older than the caller's window are never used. */
	KUNIT_EXPECT_EQ(test, cache_finds(test, f, 2, 3), 0U);
	KUNIT_EXPECT_GE(test, (u64)cache_finds(test, f, 3, 3), all_but_shadowed(all));

	ddi_sparse_cache_clear(f->cache);
	KUNIT_EXPECT_EQ(test, cache_finds(test, f, 5, 0), 0U);
}

/*
 * Search the first @count names of @records; return how many searches
 * asked to follow, and set *@at to the hits counted by the last of them.
 */
static u32 count_follows(struct cache_fixture *f, const struct ddi_record *records, u32 count,
			 u32 *hits, u32 *at)
{
	u32 i, follows = 0;
	bool follow;
	u64 vcn;

	for (*hits = 0, i = 0; i < count; i++) {
		if (ddi_sparse_cache_search(f->cache, &records[i].name, 0, &vcn, &follow) !=
		    DDI_NO_RECORD_PAGE)
			(*hits)++;
		if (follow) {
			follows++;
			*at = *hits;
		}
	}
	return follows;
}

/*
 * The search that finds the DDI_SPARSE_FOLLOW_HITS-th name of a cached
 * chapter, and only that one, asks for the chapter after it; a miss never
 * does, and a chapter loaded again starts counting again.
 */
static void sparse_cache_follows_a_run(struct kunit *test)
{
	struct cache_fixture *f = cache_setup(test, 3);
	const struct ddi_record *records = &f->records[f->geo.records_per_chapter];
	const struct ddi_record *uncached = &records[f->geo.records_per_chapter];
	u32 i, hits = 0, follows, at = 0;
	bool follow = true;
	u64 vcn;

	/* The searches below stay inside one chapter's records. */
	KUNIT_ASSERT_LE(test, 4 * DDI_SPARSE_FOLLOW_HITS, f->geo.records_per_chapter);
	KUNIT_ASSERT_EQ(test, 0, ddi_sparse_cache_load(f->cache, 1));
	/* Chapter 2's names are not cached: misses, which never follow. */
	for (i = 0; i < 2 * DDI_SPARSE_FOLLOW_HITS; i++) {
		KUNIT_EXPECT_EQ(test, DDI_NO_RECORD_PAGE,
				ddi_sparse_cache_search(f->cache, &uncached[i].name, 0, &vcn,
							&follow));
		KUNIT_EXPECT_FALSE(test, follow);
	}
	follows = count_follows(f, records, 4 * DDI_SPARSE_FOLLOW_HITS, &hits, &at);
	KUNIT_EXPECT_EQ(test, follows, 1U);
	KUNIT_EXPECT_EQ(test, at, (u32)DDI_SPARSE_FOLLOW_HITS);
	KUNIT_EXPECT_GE(test, hits, (u32)DDI_SPARSE_FOLLOW_HITS);

	/* Pushed out and loaded again, it counts from nothing. */
	ddi_sparse_cache_clear(f->cache);
	KUNIT_ASSERT_EQ(test, 0, ddi_sparse_cache_load(f->cache, 1));
	follows = count_follows(f, records, 4 * DDI_SPARSE_FOLLOW_HITS, &hits, &at);
	KUNIT_EXPECT_EQ(test, follows, 1U);
	KUNIT_EXPECT_EQ(test, at, (u32)DDI_SPARSE_FOLLOW_HITS);
}

/*
 * A cached chapter's filter lets through every name its index holds and
 * turns away all but a few others (the two-probe filter of 8 to 16 bits a
 * record lets through about 2 to 5% of absent names; 10% is a fault).
 */
static void sparse_cache_filter_turns_away_absent_names(struct kunit *test)
{
	struct cache_fixture *f = cache_setup(test, 3);
	u32 per = f->geo.records_per_chapter, i, passed = 0;
	const struct ddi_sparse_chapter *chapter;

	KUNIT_ASSERT_EQ(test, 0, ddi_sparse_cache_load(f->cache, 1));
	rcu_read_lock();
	chapter = rcu_dereference(f->cache->slots[0]);
	KUNIT_ASSERT_EQ(test, chapter->vcn, 1ULL);
	for (i = 0; i < per; i++)
		KUNIT_EXPECT_TRUE_MSG(test,
				      ddi_sparse_chapter_may_hold(f->cache, chapter,
								  &f->records[per + i].name),
				      "record %u of the chapter turned away", i);
	/* Chapters 0 and 2 are other names, none in chapter 1. */
	for (i = 0; i < per; i++) {
		passed += ddi_sparse_chapter_may_hold(f->cache, chapter, &f->records[i].name);
		passed += ddi_sparse_chapter_may_hold(f->cache, chapter,
						      &f->records[2 * per + i].name);
	}
	rcu_read_unlock();
	kunit_info(test, "the filter let through %u of %u absent names", passed, 2 * per);
	KUNIT_EXPECT_LE(test, passed, 2 * per / 10);
}

static void sparse_cache_refuses_damaged_chapter(struct kunit *test)
{
	struct cache_fixture *f = cache_setup(test, 4);
	u32 first = ddi_physical_page(&f->geo, 2, 0);

	KUNIT_ASSERT_EQ(test, 0, ddi_sparse_cache_load(f->cache, 1));
	/* A flipped byte in an index page of chapter 2 fails its checksum. */
	ddi_test_poke_page(test, f->volume, first, 100, 0x10);
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_sparse_cache_load(f->cache, 2));
	KUNIT_EXPECT_EQ(test, f->cache->load_failures, 1ULL);
	KUNIT_EXPECT_FALSE(test, ddi_sparse_cache_contains(f->cache, 2));
	/* Asked again at once, it is not read again. */
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_sparse_cache_load(f->cache, 2));
	KUNIT_EXPECT_EQ(test, f->cache->load_failures, 1ULL);
	/* What was cached stays cached and right. */
	KUNIT_EXPECT_GE(test, (u64)cache_finds(test, f, 1, 0),
			all_but_shadowed(f->geo.records_per_chapter));
	/* Chapter 3 of the same volume is not a chapter 2 in disguise. */
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_sparse_cache_load(f->cache, 3 + 4));
}

/* The whole index. */
struct sync_request {
	struct ddi_request request;
	struct completion done;
};

static void sync_callback(struct ddi_request *request)
{
	complete(&container_of(request, struct sync_request, request)->done);
}

static bool run(struct kunit *test, struct ddi_index *index, enum ddi_request_type type,
		const struct ddi_record *record)
{
	struct sync_request sr = {
		.request = { .type = type, .name = record->name, .new_data = record->data,
			     .callback = sync_callback },
	};

	init_completion(&sr.done);
	ddi_index_launch(index, &sr.request);
	wait_for_completion(&sr.done);
	KUNIT_EXPECT_EQ(test, sr.request.status, 0);
	/* Never a wrong answer: a name found gives back the data put with it. */
	if (sr.request.found)
		KUNIT_EXPECT_MEMEQ(test, &sr.request.old_data, &record->data,
				   sizeof(record->data));
	return sr.request.found;
}

struct sparse_fixture {
	struct ddi_test_disk *disk;
	struct ddi_index_config config;
	struct ddi_index *index;
	struct ddi_record *records;
	u32 count;
};

static void close_index(void *arg)
{
	struct sparse_fixture *f = arg;

	if (f->index)
		ddi_index_close(f->index);
	f->index = NULL;
}

static struct sparse_fixture *sparse_setup(struct kunit *test, bool sparse, unsigned int zones,
					   u32 count, unsigned int minor)
{
	struct sparse_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	struct rnd_state rnd;

	KUNIT_ASSERT_NOT_NULL(test, f);
	f->disk = ddi_test_disk_open(test, minor, SPARSE_DISK_BYTES);
	f->config = (struct ddi_index_config) {
		.record_pages_per_chapter = SPARSE_RECORD_PAGES,
		.chapters_per_volume = SPARSE_CHAPTERS,
		.zone_count = zones,
		.reader_count = 2,
		.cache_chapters = 2,
		.sparse = sparse,
	};
	ddi_test_seed(test, &rnd);
	f->count = count;
	f->records = vmalloc_array(count, sizeof(*f->records));
	KUNIT_ASSERT_NOT_NULL(test, f->records);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_vmem, f->records));
	ddi_test_random_records(&rnd, f->records, count);
	KUNIT_ASSERT_EQ(test, 0, ddi_index_open(f->disk->bdev, &f->config, &f->index, NULL));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, close_index, f));
	return f;
}

static bool is_hook(const struct ddi_record *record)
{
	return (record->name.bytes[10] & (DDI_SPARSE_SAMPLE_RATE - 1)) == 0;
}

static u32 post_range(struct kunit *test, struct sparse_fixture *f, enum ddi_request_type type,
		      u32 first, u32 count)
{
	u32 i, found = 0;

	for (i = first; i < first + count; i++)
		found += run(test, f->index, type, &f->records[i]);
	return found;
}

/*
 * The names a run over records [0, count) in order finds in a sparse
 * index with one zone, where record r was written in chapter
 * r / SPARSE_PER_CHAPTER long enough ago to be sparse: a hook finds its
 * chapter, and the names after the chapter's first hook find it in the
 * cache (it holds the last DDI_SPARSE_CACHE_CHAPTERS chapters a run
 * brought in, more than one run at a time needs); and a chapter in which
 * the cache found DDI_SPARSE_FOLLOW_HITS names brought in the next, whose
 * names are then found from its first on. Less one in a hundred: with a
 * run's next chapter cached beside its own, the newer one's index may
 * claim a name of the older (see cache_finds()), whose record page then
 * denies it.
 */
static u32 expected_run_finds(const struct ddi_record *records, u32 count)
{
	u32 r, found = 0, cache_hits = 0;
	bool hooked = false;

	for (r = 0; r < count; r++) {
		if (r % SPARSE_PER_CHAPTER == 0) {
			hooked = cache_hits >= DDI_SPARSE_FOLLOW_HITS;
			cache_hits = 0;
		}
		if (is_hook(&records[r]))
			hooked = true;
		else if (hooked)
			cache_hits++;
		found += hooked;
	}
	return found - found / 100;
}

static void sparse_keeps_hooks_of_old_chapters(struct kunit *test)
{
	/*
	 * 15 chapters: once the 15th is written, only it is dense beside the
	 * open chapter, and the other 14 keep only their hooks.
	 */
	u32 count = 15 * SPARSE_PER_CHAPTER, hooks = 0, dense_names = 0, i;
	struct sparse_fixture *f = sparse_setup(test, true, 1, count, SPARSE_DISK);
	struct ddi_index_stats stats;
	u32 old_hook = U32_MAX, later;
	u64 misses;

	KUNIT_EXPECT_EQ(test, post_range(test, f, DDI_POST, 0, count), 0U);
	for (i = 0; i < count; i++) {
		if (is_hook(&f->records[i]))
			hooks++;
		else if (i >= 14 * SPARSE_PER_CHAPTER)
			dense_names++;
		if (old_hook == U32_MAX && i >= SPARSE_PER_CHAPTER && is_hook(&f->records[i]))
			old_hook = i;
	}
	ddi_index_get_stats(f->index, &stats);
	kunit_info(test, "%u names: %u hooks, %u others in the dense chapter; %llu entries",
		   count, hooks, dense_names, stats.entries);
	KUNIT_EXPECT_EQ(test, stats.sparse_chapters, (u64)SPARSE_CHAPTERS - 2);
	/* Sparse chapters' other names are gone, if not all reclaimed yet. */
	KUNIT_EXPECT_LT(test, stats.entries, (u64)count / 2);
	KUNIT_EXPECT_GE(test, stats.entries, (u64)hooks + dense_names);

	/* An old non-hook name, before its chapter is cached: a miss. */
	KUNIT_ASSERT_NE(test, old_hook, U32_MAX);
	later = old_hook + 1;
	while (is_hook(&f->records[later]))
		later++;
	KUNIT_ASSERT_LT(test, later, 2U * SPARSE_PER_CHAPTER);
	/*
	 * The posts of new names searched the cache for nothing, but for the
	 * few the volume index sent to another name's chapter.
	 */
	misses = stats.sparse_cache_misses;
	KUNIT_EXPECT_LE(test, misses, (u64)count - hooks);
	KUNIT_EXPECT_GE(test, misses, (u64)count - hooks - count / 100);
	KUNIT_EXPECT_EQ(test, stats.sparse_cache_hits, 0ULL);
	KUNIT_EXPECT_FALSE(test, run(test, f->index, DDI_QUERY_NO_UPDATE, &f->records[later]));
	/* Its chapter's hook: found, and the chapter comes into the cache. */
	KUNIT_EXPECT_TRUE(test, run(test, f->index, DDI_QUERY_NO_UPDATE, &f->records[old_hook]));
	KUNIT_EXPECT_TRUE(test, run(test, f->index, DDI_QUERY_NO_UPDATE, &f->records[later]));
	ddi_index_get_stats(f->index, &stats);
	KUNIT_EXPECT_EQ(test, stats.sparse_chapters_loaded, 1ULL);
	KUNIT_EXPECT_EQ(test, stats.sparse_cache_hits, 1ULL);
	KUNIT_EXPECT_EQ(test, stats.sparse_cache_misses, misses + 1);
	/*
	 * Every name of that chapter is there now, but for the few the
	 * chapter after it, which it brings in (below), may claim.
	 */
	KUNIT_EXPECT_GE(test, (u64)post_range(test, f, DDI_QUERY_NO_UPDATE, SPARSE_PER_CHAPTER,
					      SPARSE_PER_CHAPTER),
			all_but_shadowed(SPARSE_PER_CHAPTER));
	/* Found that often, it brought in the chapter after it, and only that. */
	ddi_index_get_stats(f->index, &stats);
	KUNIT_EXPECT_EQ(test, stats.sparse_chapters_loaded, 2ULL);
	KUNIT_EXPECT_TRUE(test, ddi_sparse_cache_contains(f->index->sparse_cache, 2));
}

/* Run a backup-like pass over 20 old chapters; @f has one zone. */
static u32 backup_pass(struct kunit *test, struct sparse_fixture *f, u32 *expected)
{
	u32 count = 20 * SPARSE_PER_CHAPTER;

	*expected = expected_run_finds(f->records, count);
	return post_range(test, f, DDI_QUERY_NO_UPDATE, 0, count);
}

static void sparse_finds_backup_runs(struct kunit *test)
{
	u32 count = 20 * SPARSE_PER_CHAPTER, expected, found, dense_found;
	struct sparse_fixture *f = sparse_setup(test, true, 1, count, SPARSE_DISK);
	struct sparse_fixture *d;
	struct ddi_index_stats stats;

	post_range(test, f, DDI_POST, 0, count);
	found = backup_pass(test, f, &expected);
	ddi_index_get_stats(f->index, &stats);
	kunit_info(test, "sparse: %u of %u found, %u expected; %llu chapters loaded, %llu cache hits, %llu misses",
		   found, count, expected, stats.sparse_chapters_loaded, stats.sparse_cache_hits,
		   stats.sparse_cache_misses);
	/* The last two chapters are still dense: their names are all found. */
	KUNIT_EXPECT_GE(test, found, expected);
	KUNIT_EXPECT_LE(test, found, expected + 2 * SPARSE_PER_CHAPTER);
	KUNIT_EXPECT_GE(test, found, count * 9 / 10);
	KUNIT_EXPECT_GE(test, stats.sparse_chapters_loaded, 18ULL);

	/* The same shape dense finds every name: sparse found a fraction of it. */
	d = sparse_setup(test, false, 1, count, SPARSE_DISK + 1);
	memcpy(d->records, f->records, count * sizeof(*f->records));
	post_range(test, d, DDI_POST, 0, count);
	dense_found = post_range(test, d, DDI_QUERY_NO_UPDATE, 0, count);
	KUNIT_EXPECT_EQ(test, dense_found, count);
	kunit_info(test, "dense finds %u: sparse found %u.%u%% of it", dense_found,
		   found * 100 / dense_found, found * 1000 / dense_found % 10);
}

static void reopen(struct kunit *test, struct sparse_fixture *f)
{
	KUNIT_ASSERT_EQ(test, 0, ddi_index_open(f->disk->bdev, &f->config, &f->index, NULL));
}

static void sparse_saves_loads_and_rebuilds(struct kunit *test)
{
	u32 count = 20 * SPARSE_PER_CHAPTER, expected, live, loaded, rebuilt;
	struct sparse_fixture *f = sparse_setup(test, true, 1, count, SPARSE_DISK);
	struct ddi_index_layout layout;
	struct ddi_index_stats stats;

	/* Whole chapters only, so that the rebuild loses no name. */
	post_range(test, f, DDI_POST, 0, count);
	live = backup_pass(test, f, &expected);

	close_index(f);
	reopen(test, f);
	ddi_index_get_stats(f->index, &stats);
	KUNIT_EXPECT_EQ(test, stats.opened, DDI_OPENED_LOADED);
	KUNIT_EXPECT_EQ(test, stats.sparse_chapters_loaded, 0ULL);
	loaded = backup_pass(test, f, &expected);

	/* No usable save, as after a crash: the open rebuilds from the chapters. */
	close_index(f);
	KUNIT_ASSERT_EQ(test, 0, ddi_layout_read_super(f->disk->bdev, &layout));
	KUNIT_ASSERT_EQ(test, 0, ddi_layout_invalidate_saves(f->disk->bdev, &layout));
	reopen(test, f);
	ddi_index_get_stats(f->index, &stats);
	KUNIT_EXPECT_EQ(test, stats.opened, DDI_OPENED_REBUILT);
	rebuilt = backup_pass(test, f, &expected);
	kunit_info(test, "a backup pass finds %u live, %u after a load, %u after a rebuild (%u expected)",
		   live, loaded, rebuilt, expected);
	KUNIT_EXPECT_EQ(test, loaded, live);
	KUNIT_EXPECT_GE(test, live, expected);
	/*
	 * The rebuilt volume index holds only the hooks of sparse chapters,
	 * where the live one may still hold names it had not reclaimed: a
	 * few names take another path (a hint rather than the cache) and may
	 * be found or shadowed differently, never below the model.
	 */
	KUNIT_EXPECT_GE(test, rebuilt, expected);
	KUNIT_EXPECT_LE(test, abs((int)rebuilt - (int)live), (int)(20 * SPARSE_PER_CHAPTER / 100));
}

static void sparse_refuses_the_other_kind(struct kunit *test)
{
	struct sparse_fixture *f = sparse_setup(test, true, 1, SPARSE_PER_CHAPTER, SPARSE_DISK);
	struct ddi_index *other;
	char *error = NULL;

	post_range(test, f, DDI_POST, 0, SPARSE_PER_CHAPTER);
	close_index(f);
	f->config.sparse = false;
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_index_open(f->disk->bdev, &f->config, &other, &error));
	KUNIT_EXPECT_NOT_NULL(test, strstr(error ?: "", "holds a sparse index"));

	/* And a dense index refuses a sparse table. */
	f->config.format = true;
	reopen(test, f);
	close_index(f);
	f->config.format = false;
	f->config.sparse = true;
	error = NULL;
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_index_open(f->disk->bdev, &f->config, &other, &error));
	KUNIT_EXPECT_NOT_NULL(test, strstr(error ?: "", "holds a dense index"));
}

struct run_thread {
	struct kunit *test;
	struct sparse_fixture *f;
	u32 first, count, found;
	struct completion done;
};

static int run_thread_fn(void *arg)
{
	struct run_thread *t = arg;

	t->found = post_range(t->test, t->f, DDI_QUERY_NO_UPDATE, t->first, t->count);
	complete(&t->done);
	return 0;
}

/*
 * Two runs at once over different old chapters, through two zones: each
 * hook loads into the shared cache while the other zone searches it. No
 * answer may be wrong (run() checks the data), and each run finds what a
 * run alone would, less the names a zone searched just before the other
 * zone's load of their chapter was visible to it.
 */
static void sparse_zones_share_the_cache(struct kunit *test)
{
	u32 count = 24 * SPARSE_PER_CHAPTER, half = 10 * SPARSE_PER_CHAPTER;
	struct sparse_fixture *f = sparse_setup(test, true, 2, count, SPARSE_DISK);
	struct run_thread threads[2];
	struct ddi_index_stats stats;
	unsigned int i;

	post_range(test, f, DDI_POST, 0, count);
	for (i = 0; i < 2; i++) {
		struct task_struct *task;

		threads[i] = (struct run_thread) { .test = test, .f = f,
						   .first = i * half, .count = half };
		init_completion(&threads[i].done);
		task = kthread_run(run_thread_fn, &threads[i], "ddi-sparse-run/%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	}
	for (i = 0; i < 2; i++)
		wait_for_completion(&threads[i].done);
	ddi_index_get_stats(f->index, &stats);
	kunit_info(test, "two runs found %u and %u of %u; %llu chapters loaded",
		   threads[0].found, threads[1].found, half, stats.sparse_chapters_loaded);
	/*
	 * With two zones a chapter's names are split between them, so a run
	 * misses more before its hook; 80% still shows the cache serving both.
	 */
	for (i = 0; i < 2; i++)
		KUNIT_EXPECT_GE(test, threads[i].found, half * 8 / 10);
	KUNIT_EXPECT_GE(test, stats.sparse_chapters_loaded, 18ULL);
}

static struct kunit_case sparse_cases[] = {
	KUNIT_CASE(sparse_shapes),
	KUNIT_CASE(sparse_memory_shapes),
	KUNIT_CASE(sparse_cache_loads_and_evicts),
	KUNIT_CASE(sparse_cache_follows_a_run),
	KUNIT_CASE(sparse_cache_filter_turns_away_absent_names),
	KUNIT_CASE(sparse_cache_refuses_damaged_chapter),
	KUNIT_CASE(sparse_keeps_hooks_of_old_chapters),
	KUNIT_CASE(sparse_finds_backup_runs),
	KUNIT_CASE(sparse_saves_loads_and_rebuilds),
	KUNIT_CASE(sparse_refuses_the_other_kind),
	KUNIT_CASE(sparse_zones_share_the_cache),
	{}
};

static struct kunit_suite sparse_suite = {
	.name = "dm_dedup_index_sparse",
	.test_cases = sparse_cases,
};

kunit_test_suite(sparse_suite);
