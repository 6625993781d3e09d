// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sparse against dense with the same RAM: a dense index of DENSE_CHAPTERS
 * chapters and a sparse one of ten times the chapters, which hold about
 * the same memory (a "sparse-memory" line gives both, measured, and their
 * ratio), both posted the same backup-like data (generations of the same
 * blocks, backup-data.c) and the same volume of randomly drawn duplicates.
 * The data is several dense windows long and inside the sparse window, so
 * a dense index forgets every generation before the next comes, while a
 * sparse one finds most of it through its hooks; random duplicates show
 * what sparse gives up. Each run prints a "ddi-bench: sparse" line for
 * scripts/bench.
 *
 * No time is asserted. What must hold is: no post is found that is not a
 * duplicate, or with another block's data; and every duplicate the
 * index's shape guarantees to keep (see must_find()) is found, but for
 * misses explained by posts in flight or by names a chapter index had no
 * room for. The suite also checks the generator's exact counts against a
 * brute-force count over sorted names.
 */

#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/ktime.h>
#include <linux/llist.h>
#include <linux/math64.h>
#include <linux/prandom.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>

#include "../test-util.h"
#include "backup-data.h"
#include "index.h"

enum {
	BENCH_DISK = 0,
	/*
	 * Small chapters, so that ten times the dense chapters fit the RAM
	 * disk scripts/bench gives (64 MiB): about 26 MiB for the sparse
	 * volume, 2.6 MiB for the dense one.
	 */
	RECORD_PAGES = 8,
	DENSE_CHAPTERS = 64,
	SPARSE_CHAPTERS = 10 * DENSE_CHAPTERS,
	RECORDS_PER_CHAPTER = RECORD_PAGES * DDI_RECORDS_PER_PAGE,
	DENSE_WINDOW = DENSE_CHAPTERS * RECORDS_PER_CHAPTER,
	SPARSE_WINDOW = SPARSE_CHAPTERS * RECORDS_PER_CHAPTER,
	ZONES = 1,
	READERS = 2,
	CACHE_CHAPTERS = 2,
	IN_FLIGHT = 256,
	/*
	 * A generation is one and a half dense windows, so the dense index
	 * has forgotten a block when its next copy comes; five generations
	 * (about 7.8 dense windows) stay inside the sparse window.
	 */
	BLOCKS = DENSE_WINDOW * 3 / 2,
	GENERATIONS = 5,
	CHANGE_PERCENT = 3,
	INSERT_PERCENT = 2,
	MEAN_RUN = 64,
};

struct sparse_run;

struct sparse_slot {
	struct ddi_request request;
	struct llist_node free_node;
	struct sparse_run *run;
	u32 post;
};

/* One index's run over the data, IN_FLIGHT posts deep, and its answers. */
struct sparse_run {
	const struct ddi_backup_data *data;
	struct sparse_slot slots[IN_FLIGHT];
	/* Slots whose post was answered: zone threads add, the poster takes. */
	struct llist_head free;
	wait_queue_head_t slot_wait;
	/* Posts not yet answered, plus one held by the poster until it is done. */
	atomic_t outstanding;
	struct completion done;
	/* Failed requests, new blocks found, and answers with the wrong data. */
	atomic_t wrong;
	/* Per post: found with its block's data. */
	unsigned long *found;
	/* Per post: a duplicate the index must find (must_find()). */
	unsigned long *must;
};

struct sparse_bench {
	struct ddi_test_disk *disk;
	u64 disk_bytes;
	struct ddi_index *index;
	struct ddi_backup_data data;
	struct sparse_run *run;
};

/* What one run did, for its line and the comparison of the two indexes. */
struct sparse_result {
	struct ddi_index_stats before;
	struct ddi_index_stats after;
	s64 ns;
	u32 found;
	u32 must;
	u32 excused;
	u32 unexplained;
};

static void free_vmem(void *arg)
{
	vfree(arg);
}

static void *bench_vzalloc(struct kunit *test, size_t bytes)
{
	void *mem = vzalloc(bytes);

	KUNIT_ASSERT_NOT_NULL(test, mem);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_vmem, mem));
	return mem;
}

static void free_data(void *arg)
{
	ddi_backup_data_free(arg);
}

/* Generate @config into @data, freed when the test ends. */
static void generate(struct kunit *test, const struct ddi_backup_data_config *config,
		     struct ddi_backup_data *data)
{
	int ret = ddi_backup_data_generate(config, data);

	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, free_data, data));
	KUNIT_ASSERT_EQ(test, ret, 0);
}

static void bench_config(bool sparse, struct ddi_index_config *config)
{
	*config = (struct ddi_index_config) {
		.record_pages_per_chapter = RECORD_PAGES,
		.chapters_per_volume = sparse ? SPARSE_CHAPTERS : DENSE_CHAPTERS,
		.zone_count = ZONES,
		.reader_count = READERS,
		.cache_chapters = CACHE_CHAPTERS,
		.sparse = sparse,
	};
}

static void close_index(void *arg)
{
	struct sparse_bench *b = arg;

	ddi_index_close(b->index);
	b->index = NULL;
}

/* Open a fresh index of the kind; closed when the test ends, if not before. */
static void bench_open(struct kunit *test, struct sparse_bench *b, bool sparse)
{
	struct ddi_index_config config;

	bench_config(sparse, &config);
	/* A blank device, so that the other kind's index is not refused or loaded. */
	ddi_test_disk_zero(b->disk, 0, b->disk_bytes);
	KUNIT_ASSERT_EQ(test, 0, ddi_index_open(b->disk->bdev, &config, &b->index, NULL));
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, close_index, b));
}

static void bench_close(struct kunit *test, struct sparse_bench *b)
{
	kunit_release_action(test, close_index, b);
}

/*
 * The generator draws from the run's seed (printed, with how to replay
 * it, by ddi_test_seed()); both kinds of data of one case share it.
 */
static void data_config(struct kunit *test, bool random, struct ddi_backup_data_config *config)
{
	struct rnd_state rnd;

	ddi_test_seed(test, &rnd);
	*config = (struct ddi_backup_data_config) {
		.blocks = BLOCKS,
		.generations = GENERATIONS,
		.change_percent = CHANGE_PERCENT,
		.insert_percent = INSERT_PERCENT,
		.mean_run = MEAN_RUN,
		.random = random,
		.seed = ((u64)prandom_u32_state(&rnd) << 32) | prandom_u32_state(&rnd),
	};
}

static struct sparse_bench *bench_setup(struct kunit *test, bool random)
{
	struct sparse_bench *b = kunit_kzalloc(test, sizeof(*b), GFP_KERNEL);
	struct ddi_backup_data_config data_cfg;
	struct ddi_index_config config;
	size_t bitmap_bytes;
	u64 bytes;

	KUNIT_ASSERT_NOT_NULL(test, b);
	b->run = kunit_kzalloc(test, sizeof(*b->run), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, b->run);

	/* The sparse volume is the larger: the disk must hold it. */
	bench_config(true, &config);
	KUNIT_ASSERT_EQ(test, 0, ddi_index_device_bytes(&config, &b->disk_bytes));
	bench_config(false, &config);
	KUNIT_ASSERT_EQ(test, 0, ddi_index_device_bytes(&config, &bytes));
	b->disk_bytes = max(b->disk_bytes, bytes);
	b->disk = ddi_test_disk_open(test, BENCH_DISK, b->disk_bytes);

	data_config(test, random, &data_cfg);
	generate(test, &data_cfg, &b->data);
	/* The premise of the comparison: several dense windows, one sparse. */
	KUNIT_ASSERT_GE(test, b->data.posts, 4U * DENSE_WINDOW);
	KUNIT_ASSERT_LE(test, b->data.posts, (u32)SPARSE_WINDOW);
	kunit_info(test, "%s data: seed %llu, %u generations of %u blocks first: %u posts, %u blocks, %u duplicates, %u changed, %u inserted\n",
		   random ? "random" : "backup", b->data.seed, GENERATIONS, BLOCKS, b->data.posts,
		   b->data.blocks, b->data.duplicates, b->data.changed, b->data.inserted);

	bitmap_bytes = BITS_TO_LONGS(b->data.posts) * sizeof(unsigned long);
	b->run->found = bench_vzalloc(test, bitmap_bytes);
	b->run->must = bench_vzalloc(test, bitmap_bytes);
	b->run->data = &b->data;
	return b;
}

/* Runs on a zone thread: check the answer, then free the slot. */
static void post_done(struct ddi_request *request)
{
	struct sparse_slot *slot = container_of(request, struct sparse_slot, request);
	struct sparse_run *run = slot->run;
	const struct ddi_backup_data *data = run->data;
	u32 post = slot->post;
	struct ddi_data expected;

	if (request->status) {
		atomic_inc(&run->wrong);
	} else if (request->found) {
		/*
		 * Every post of a block carries the block's data, so a found
		 * duplicate must answer with it, and a new block is never found.
		 */
		ddi_backup_data_data(data, data->block[post], &expected);
		if (data->distance[post] == DDI_BACKUP_DATA_NEW ||
		    memcmp(&request->old_data, &expected, sizeof(expected)))
			atomic_inc(&run->wrong);
		else
			set_bit(post, run->found);
	}

	/* The poster may reuse the slot at once: nothing in it is read after this. */
	llist_add(&slot->free_node, &run->free);
	if (wq_has_sleeper(&run->slot_wait))
		wake_up(&run->slot_wait);
	if (atomic_dec_and_test(&run->outstanding))
		complete(&run->done);
}

/* Post the whole data set in order, never more than IN_FLIGHT at a time. */
static void run_posts(struct sparse_bench *b, struct sparse_result *result)
{
	const struct ddi_backup_data *data = &b->data;
	struct sparse_run *run = b->run;
	ktime_t start;
	u32 i;

	init_llist_head(&run->free);
	init_waitqueue_head(&run->slot_wait);
	init_completion(&run->done);
	atomic_set(&run->outstanding, 1);
	atomic_set(&run->wrong, 0);
	bitmap_zero(run->found, data->posts);
	for (i = 0; i < IN_FLIGHT; i++) {
		run->slots[i].run = run;
		llist_add(&run->slots[i].free_node, &run->free);
	}

	ddi_index_get_stats(b->index, &result->before);
	start = ktime_get();
	for (i = 0; i < data->posts; i++) {
		struct sparse_slot *slot;

		wait_event(run->slot_wait, !llist_empty(&run->free));
		slot = llist_entry(llist_del_first(&run->free), struct sparse_slot, free_node);
		slot->post = i;
		slot->request = (struct ddi_request) {
			.type = DDI_POST,
			.callback = post_done,
		};
		ddi_backup_data_name(data, data->block[i], &slot->request.name);
		ddi_backup_data_data(data, data->block[i], &slot->request.new_data);
		atomic_inc(&run->outstanding);
		ddi_index_launch(b->index, &slot->request);
	}
	if (!atomic_dec_and_test(&run->outstanding))
		wait_for_completion(&run->done);
	result->ns = ktime_to_ns(ktime_sub(ktime_get(), start));
	ddi_index_get_stats(b->index, &result->after);
	result->found = bitmap_weight(run->found, data->posts);
}

/*
 * The duplicates the shape guarantees to find: those whose block was last
 * posted at most @window posts back, and hooks at most @hook_window back.
 *
 * A name's record sits in the chapter that was open when its block was
 * last posted (that post added or refreshed it, or found it there). A
 * volume index of K chapters counts the open one among them: it forgets a
 * chapter's names when the chapter is K chapters old, once K - 1 more
 * chapters have filled after it, (K - 1) * records_per_chapter records,
 * each added by a post. So a name is found if its block was posted at
 * most that many posts back: K is the volume's chapters for a dense
 * index and for a sparse one's hooks, and the newest chapters (a
 * twentieth) for a sparse one's other names. (window_records counts K
 * full chapters: the window is that only when the open chapter is full.)
 * Requests in flight shift what the index has seen by up to IN_FLIGHT
 * posts either way (a post waiting for a page read adds its record late,
 * and one that waits for a read may find its chapter gone when the read
 * is done), so both windows are cut by 2 * IN_FLIGHT.
 */
static void must_find(struct sparse_run *run, u64 window, u64 hook_window)
{
	const struct ddi_backup_data *data = run->data;
	u32 i;

	bitmap_zero(run->must, data->posts);
	window = window > 2 * IN_FLIGHT ? window - 2 * IN_FLIGHT : 0;
	hook_window = hook_window > 2 * IN_FLIGHT ? hook_window - 2 * IN_FLIGHT : 0;
	for (i = 0; i < data->posts; i++) {
		u32 distance = data->distance[i];
		struct ddi_name name;

		if (distance == DDI_BACKUP_DATA_NEW)
			continue;
		if (distance > window) {
			if (distance > hook_window)
				continue;
			ddi_backup_data_name(data, data->block[i], &name);
			if (name.bytes[10] & (DDI_SPARSE_SAMPLE_RATE - 1))
				continue;
		}
		__set_bit(i, run->must);
	}
}

/*
 * Sort the guaranteed duplicates' misses into excused and unexplained. A
 * post at most 2 * IN_FLIGHT after its block's previous post may have
 * started before that post was answered: if the previous post was not a
 * guaranteed find that found (a new block whose false hint sent it to a
 * page read, or a duplicate found through the sparse cache or not at
 * all), its record may not be in the open chapter yet, and the name may
 * be in no chapter the index can see. Such a miss is excused.
 */
static void check_misses(struct sparse_run *run, struct sparse_result *result)
{
	const struct ddi_backup_data *data = run->data;
	u32 i;

	result->must = bitmap_weight(run->must, data->posts);
	result->excused = 0;
	result->unexplained = 0;
	for_each_set_bit(i, run->must, data->posts) {
		u32 distance = data->distance[i];
		u32 prev = i - distance;

		if (test_bit(i, run->found))
			continue;
		if (distance <= 2 * IN_FLIGHT &&
		    !(test_bit(prev, run->must) && test_bit(prev, run->found)))
			result->excused++;
		else
			result->unexplained++;
	}
}

static u64 per_sec(u64 count, s64 ns)
{
	return div64_u64(count * NSEC_PER_SEC, max_t(s64, ns, 1));
}

static void run_index(struct kunit *test, struct sparse_bench *b, bool sparse, bool random,
		      struct sparse_result *r)
{
	const struct ddi_backup_data *data = &b->data;
	const char *kind = sparse ? "sparse" : "dense";
	const struct ddi_index_stats *s0 = &r->before, *s1 = &r->after;
	u32 within_dense = ddi_backup_data_within(data, DENSE_WINDOW);
	u32 within_sparse = ddi_backup_data_within(data, SPARSE_WINDOW);
	u64 chapters, dense_chapters, dropped, pct_x100;

	bench_open(test, b, sparse);
	run_posts(b, r);
	bench_close(test, b);

	KUNIT_EXPECT_EQ_MSG(test, atomic_read(&b->run->wrong), 0, "%s: wrong answers", kind);
	/* Names are exact: nothing is found that was not posted before. */
	KUNIT_EXPECT_LE(test, r->found, data->duplicates);
	KUNIT_EXPECT_EQ(test, s1->posts_found - s0->posts_found, (u64)r->found);
	KUNIT_EXPECT_EQ(test, s1->posts_not_found - s0->posts_not_found,
			(u64)(data->posts - r->found));
	KUNIT_EXPECT_EQ(test, s1->window_records,
			(u64)(sparse ? SPARSE_WINDOW : DENSE_WINDOW));
	KUNIT_EXPECT_EQ(test, !!s1->sparse_chapters, !!sparse);

	/* The chapters that keep every name: all of a dense volume's. */
	chapters = sparse ? SPARSE_CHAPTERS : DENSE_CHAPTERS;
	dense_chapters = chapters - s1->sparse_chapters;
	must_find(b->run, (dense_chapters - 1) * RECORDS_PER_CHAPTER,
		  (chapters - 1) * RECORDS_PER_CHAPTER);
	check_misses(b->run, r);
	/* Each name a chapter index left out can cost one miss, then is posted anew. */
	dropped = s1->chapter_entries_dropped - s0->chapter_entries_dropped;
	KUNIT_EXPECT_LE_MSG(test, (u64)r->unexplained, dropped,
			    "%s %s: %u of %u guaranteed duplicates missed (%u excused)", kind,
			    random ? "random" : "backup", r->unexplained, r->must, r->excused);

	pct_x100 = div64_u64((u64)r->found * 10000, max(within_sparse, 1U));
	kunit_info(test, "ddi-bench: sparse index=%s data=%s posts=%u duplicates=%u within_dense_window=%u within_sparse_window=%u found=%u found_pct=%llu.%02llu posts_per_sec=%llu memory_bytes=%llu window_records=%llu sparse_chapters=%llu sparse_cache_hits=%llu sparse_cache_misses=%llu sparse_chapters_loaded=%llu pages_read=%llu must_find=%u excused=%u entries_dropped=%llu\n",
		   kind, random ? "random" : "backup", data->posts, data->duplicates,
		   within_dense, within_sparse, r->found, pct_x100 / 100, pct_x100 % 100,
		   per_sec(data->posts, r->ns), s1->memory_bytes, s1->window_records,
		   s1->sparse_chapters, s1->sparse_cache_hits - s0->sparse_cache_hits,
		   s1->sparse_cache_misses - s0->sparse_cache_misses,
		   s1->sparse_chapters_loaded - s0->sparse_chapters_loaded,
		   s1->pages_read - s0->pages_read, r->must, r->excused, dropped);
}

struct data_kind {
	const char *name;
	bool random;
};

static const struct data_kind data_kinds[] = {
	{ "backup", false },
	{ "random", true },
};

static void data_kind_desc(const struct data_kind *kind, char *desc)
{
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s", kind->name);
}

KUNIT_ARRAY_PARAM(data_kind, data_kinds, data_kind_desc);

/*
 * One kind of data through a dense index and through a sparse one of about
 * the same memory. Both kinds share the case's seed, so they have the same
 * posts, new or duplicate, and differ only in which block a duplicate is.
 */
static void bench_sparse_same_memory(struct kunit *test)
{
	const struct data_kind *kind = test->param_value;
	struct sparse_bench *b = bench_setup(test, kind->random);
	struct sparse_result dense, sparse;
	u64 ratio_x100;

	run_index(test, b, false, kind->random, &dense);
	run_index(test, b, true, kind->random, &sparse);

	ratio_x100 = div64_u64(sparse.after.memory_bytes * 100,
			       max(dense.after.memory_bytes, 1ULL));
	kunit_info(test, "ddi-bench: sparse-memory data=%s dense_shape=%ux%u sparse_shape=%ux%u dense_memory_bytes=%llu sparse_memory_bytes=%llu ratio=%llu.%02llu dense_volume_index_bytes=%llu sparse_volume_index_bytes=%llu dense_window=%llu sparse_window=%llu\n",
		   kind->name, RECORD_PAGES, DENSE_CHAPTERS, RECORD_PAGES, SPARSE_CHAPTERS,
		   dense.after.memory_bytes, sparse.after.memory_bytes,
		   ratio_x100 / 100, ratio_x100 % 100, dense.after.volume_index_bytes,
		   sparse.after.volume_index_bytes, dense.after.window_records,
		   sparse.after.window_records);
}

/* A post as the brute-force count sees it: its name and where it was. */
struct named_post {
	struct ddi_name name;
	u32 post;
	u32 block;
};

static int cmp_named_post(const void *a, const void *b)
{
	const struct named_post *x = a, *y = b;
	int c = memcmp(&x->name, &y->name, sizeof(x->name));

	if (c)
		return c;
	return x->post < y->post ? -1 : x->post > y->post;
}

/*
 * Count a small data set's duplicates without the generator's table of
 * blocks: sort every post by name and position, so that each post of a
 * name follows the one before it, and compare with what the generator
 * says of every post.
 */
static void check_counts(struct kunit *test, const struct ddi_backup_data_config *config)
{
	static const u64 windows[] = { 1, 64, 1000, 5000, U32_MAX };
	struct ddi_backup_data *data = kunit_kzalloc(test, sizeof(*data), GFP_KERNEL);
	u32 within[ARRAY_SIZE(windows)] = {}, names = 0, duplicates = 0, bad_distance = 0;
	u32 clashes = 0, i, w;
	struct named_post *posts;

	KUNIT_ASSERT_NOT_NULL(test, data);
	generate(test, config, data);
	KUNIT_ASSERT_EQ(test, (u64)data->posts, ddi_backup_data_max_posts(config));
	posts = bench_vzalloc(test, array_size(data->posts, sizeof(*posts)));
	for (i = 0; i < data->posts; i++) {
		ddi_backup_data_name(data, data->block[i], &posts[i].name);
		posts[i].post = i;
		posts[i].block = data->block[i];
	}
	sort(posts, data->posts, sizeof(*posts), cmp_named_post, NULL);

	for (i = 0; i < data->posts; i++) {
		const struct named_post *p = &posts[i];
		u32 distance;

		if (i == 0 || memcmp(&p->name, &p[-1].name, sizeof(p->name))) {
			names++;
			bad_distance += data->distance[p->post] != DDI_BACKUP_DATA_NEW;
			continue;
		}
		clashes += p->block != p[-1].block;
		distance = p->post - p[-1].post;
		duplicates++;
		bad_distance += data->distance[p->post] != distance;
		for (w = 0; w < ARRAY_SIZE(windows); w++)
			within[w] += distance <= windows[w];
	}

	KUNIT_EXPECT_EQ(test, clashes, 0U);
	KUNIT_EXPECT_EQ(test, bad_distance, 0U);
	KUNIT_EXPECT_EQ(test, data->duplicates, duplicates);
	KUNIT_EXPECT_EQ(test, data->blocks, names);
	KUNIT_EXPECT_EQ(test, data->posts, names + duplicates);
	for (w = 0; w < ARRAY_SIZE(windows); w++)
		KUNIT_EXPECT_EQ_MSG(test, ddi_backup_data_within(data, windows[w]), within[w],
				    "window %llu", windows[w]);
	if (!config->random) {
		/* Every block but generation 0's was changed in or inserted. */
		KUNIT_EXPECT_EQ(test, data->blocks,
				config->blocks + data->changed + data->inserted);
		KUNIT_EXPECT_GT(test, data->changed, 0U);
	}
	kunit_info(test, "%s: %u posts, %u names, %u duplicates, within 1/64/1000/5000: %u/%u/%u/%u\n",
		   config->random ? "random" : "backup", data->posts, names, duplicates,
		   within[0], within[1], within[2], within[3]);
}

/* The generator's exact counts against a brute-force count, both kinds. */
static void backup_data_exact_counts(struct kunit *test)
{
	static const struct ddi_backup_data_config shapes[] = {
		{ .blocks = 3000, .generations = 4, .change_percent = 5, .insert_percent = 3,
		  .mean_run = 16 },
		/* Short runs and much change, so that changed runs overlap. */
		{ .blocks = 500, .generations = 6, .change_percent = 40, .insert_percent = 10,
		  .mean_run = 3 },
	};
	struct ddi_backup_data_config config;
	struct ddi_backup_data *data, refused;
	struct rnd_state rnd;
	u32 duplicates;
	unsigned int s;

	ddi_test_seed(test, &rnd);
	for (s = 0; s < ARRAY_SIZE(shapes); s++) {
		config = shapes[s];
		config.seed = ((u64)prandom_u32_state(&rnd) << 32) | prandom_u32_state(&rnd);
		check_counts(test, &config);
		config.random = true;
		check_counts(test, &config);
	}

	/* The two kinds of one seed differ only in which block a duplicate is. */
	data = kunit_kcalloc(test, 2, sizeof(*data), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, data);
	config.random = false;
	generate(test, &config, &data[0]);
	duplicates = data[0].duplicates;
	config.random = true;
	generate(test, &config, &data[1]);
	KUNIT_EXPECT_EQ(test, data[1].duplicates, duplicates);
	KUNIT_EXPECT_EQ(test, data[1].posts, data[0].posts);

	/* Configs it cannot honour are refused, before allocating. */
	config.mean_run = 0;
	KUNIT_EXPECT_EQ(test, -EINVAL, ddi_backup_data_generate(&config, &refused));
	KUNIT_EXPECT_NULL(test, refused.block);
	config.mean_run = 4;
	config.blocks = DDI_BACKUP_DATA_MAX_POSTS;
	KUNIT_EXPECT_EQ(test, -E2BIG, ddi_backup_data_generate(&config, &refused));
	KUNIT_EXPECT_NULL(test, refused.block);
	ddi_backup_data_free(&refused);
}

static struct kunit_case sparse_bench_cases[] = {
	KUNIT_CASE(backup_data_exact_counts),
	KUNIT_CASE_PARAM_ATTR(bench_sparse_same_memory, data_kind_gen_params,
			      { .speed = KUNIT_SPEED_SLOW }),
	{}
};

static struct kunit_suite sparse_bench_suite = {
	.name = "dm_dedup_index_bench_sparse",
	.test_cases = sparse_bench_cases,
};

kunit_test_suite(sparse_bench_suite);
