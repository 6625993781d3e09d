// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the answer thread: callbacks run on it, not on a zone
 * thread; a zone's answers come in the order it finished the requests; a
 * flush returns only once every callback has; and a save's hook sees every
 * request the zones finished answered, however far the answers lag.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "test-util.h"
#include "index.h"

enum {
	ANSWERS_DISK = 1,
	ANSWERS_DISK_BYTES = 64 << 20,
	ANSWERS_POSTS = 2000,
	/* How long the first callback holds the answer thread up. */
	ANSWERS_GATE_MS = 100,
};

struct answers_fixture {
	struct ddi_index *index;
	struct ddi_record *records;
	struct answers_post {
		struct ddi_request request;
		struct answers_fixture *f;
		u32 id;
	} *posts;
	/* Callbacks returned, and the post ids in the order they ran. */
	atomic_t answered;
	u32 *order;
	/* Set by a callback run on a zone thread, or on no answer thread. */
	bool wrong_thread;
	/*
	 * With gated, the first callback waits for the gate, which opens
	 * ANSWERS_GATE_MS after gate_work is queued: every answer lags until
	 * then, on any number of CPUs. (Callbacks must not sleep; this one
	 * does on purpose, on the answer thread, which only delays answers.)
	 */
	bool gated;
	struct completion gate;
	struct delayed_work gate_work;
	/* What the save hook saw: callbacks returned and requests finished. */
	u32 hook_answered;
	u64 hook_finished;
	u32 hooks;
};

static void answers_close(void *arg)
{
	ddi_index_close(arg);
}

static void answers_open_gate(struct work_struct *work)
{
	struct answers_fixture *f = container_of(to_delayed_work(work), struct answers_fixture,
						 gate_work);

	complete_all(&f->gate);
}

/* Before the index closes: a test that failed early must not leave it shut. */
static void answers_gate_cancel(void *arg)
{
	struct answers_fixture *f = arg;

	cancel_delayed_work_sync(&f->gate_work);
	complete_all(&f->gate);
}

static void answers_free(void *arg)
{
	vfree(arg);
}

static struct answers_fixture *answers_setup(struct kunit *test)
{
	static const struct ddi_index_config config = {
		.record_pages_per_chapter = 16,
		.chapters_per_volume = 64,
		.zone_count = 1,
		.reader_count = 1,
		.cache_chapters = 2,
		.format = true,
	};
	struct ddi_test_disk *disk = ddi_test_disk_open(test, ANSWERS_DISK, ANSWERS_DISK_BYTES);
	struct answers_fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	struct rnd_state rnd;
	char *error = NULL;

	KUNIT_ASSERT_NOT_NULL(test, f);
	f->records = vmalloc_array(ANSWERS_POSTS, sizeof(*f->records));
	KUNIT_ASSERT_NOT_NULL(test, f->records);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, answers_free, f->records));
	f->posts = vmalloc_array(ANSWERS_POSTS, sizeof(*f->posts));
	KUNIT_ASSERT_NOT_NULL(test, f->posts);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, answers_free, f->posts));
	f->order = kunit_kcalloc(test, ANSWERS_POSTS, sizeof(*f->order), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f->order);
	ddi_test_seed(test, &rnd);
	ddi_test_random_records(&rnd, f->records, ANSWERS_POSTS);
	KUNIT_ASSERT_EQ_MSG(test, 0, ddi_index_open(disk->bdev, &config, &f->index, &error),
			    "%s", error ?: "");
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, answers_close, f->index));
	init_completion(&f->gate);
	INIT_DELAYED_WORK(&f->gate_work, answers_open_gate);
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, answers_gate_cancel, f));
	return f;
}

static void answers_callback(struct ddi_request *request)
{
	struct answers_post *post = container_of(request, struct answers_post, request);
	struct answers_fixture *f = post->f;
	struct ddi_index *index = f->index;
	unsigned int z;

	if (current != index->answer_thread)
		WRITE_ONCE(f->wrong_thread, true);
	for (z = 0; z < index->zone_count; z++) {
		if (current == index->zones[z]->thread)
			WRITE_ONCE(f->wrong_thread, true);
	}
	if (f->gated && post->id == 0)
		wait_for_completion(&f->gate);
	f->order[atomic_read(&f->answered)] = post->id;
	/* The callbacks run one at a time: this is the only writer. */
	atomic_inc(&f->answered);
}

static void launch_posts(struct answers_fixture *f)
{
	u32 i;

	for (i = 0; i < ANSWERS_POSTS; i++) {
		f->posts[i] = (struct answers_post) {
			.request = {
				.type = DDI_POST,
				.name = f->records[i].name,
				.new_data = f->records[i].data,
				.callback = answers_callback,
			},
			.f = f,
			.id = i,
		};
		ddi_index_launch(f->index, &f->posts[i].request);
	}
}

/*
 * Callbacks run on the answer thread, in the order the one zone finished
 * the posts (new names, which it finishes as they come), and the flush
 * that follows the launches returns only after the last one.
 */
static void answers_in_order_off_the_zone(struct kunit *test)
{
	struct answers_fixture *f = answers_setup(test);
	u32 i, out_of_order = 0;

	launch_posts(f);
	ddi_index_flush(f->index);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->answered), ANSWERS_POSTS);
	KUNIT_EXPECT_FALSE(test, READ_ONCE(f->wrong_thread));
	for (i = 0; i < ANSWERS_POSTS; i++)
		out_of_order += f->order[i] != i;
	KUNIT_EXPECT_EQ(test, out_of_order, 0U);
}

/*
 * Answers held up behind the zone, which has finished every post: the
 * flush still waits for every one of them.
 */
static void answers_flush_waits_for_held_answers(struct kunit *test)
{
	struct answers_fixture *f = answers_setup(test);

	f->gated = true;
	launch_posts(f);
	while (READ_ONCE(f->index->zones[0]->stats.requests) < ANSWERS_POSTS)
		usleep_range(1000, 2000);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->answered), 0);
	schedule_delayed_work(&f->gate_work, msecs_to_jiffies(ANSWERS_GATE_MS));
	ddi_index_flush(f->index);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->answered), ANSWERS_POSTS);
}

static void answers_save_hook(void *context, struct ddi_client_state *state)
{
	struct answers_fixture *f = context;
	unsigned int z;

	f->hook_answered = atomic_read(&f->answered);
	f->hook_finished = 0;
	for (z = 0; z < f->index->zone_count; z++)
		f->hook_finished += READ_ONCE(f->index->zones[z]->stats.requests);
	f->hooks++;
}

/*
 * A save taken while the answers are held up behind the zone: its hook
 * (the target's records the scan's progress, which answers move) sees as
 * many requests answered as the zones have finished, not fewer.
 */
static void answers_save_hook_sees_them_all(struct kunit *test)
{
	struct answers_fixture *f = answers_setup(test);
	struct ddi_index_zone *zone = f->index->zones[0];

	ddi_index_set_save_hook(f->index, answers_save_hook, f);
	f->gated = true;
	launch_posts(f);
	while (READ_ONCE(zone->stats.requests) < ANSWERS_POSTS)
		usleep_range(1000, 2000);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->answered), 0);
	schedule_delayed_work(&f->gate_work, msecs_to_jiffies(ANSWERS_GATE_MS));
	KUNIT_EXPECT_EQ(test, 0, ddi_index_save(f->index));
	KUNIT_EXPECT_EQ(test, f->hooks, 1U);
	KUNIT_EXPECT_EQ(test, f->hook_finished, (u64)ANSWERS_POSTS);
	KUNIT_EXPECT_EQ(test, (u64)f->hook_answered, f->hook_finished);
	ddi_index_flush(f->index);
	KUNIT_EXPECT_EQ(test, atomic_read(&f->answered), ANSWERS_POSTS);
	ddi_index_set_save_hook(f->index, NULL, NULL);
}

static struct kunit_case index_answers_cases[] = {
	KUNIT_CASE(answers_in_order_off_the_zone),
	KUNIT_CASE(answers_flush_waits_for_held_answers),
	KUNIT_CASE(answers_save_hook_sees_them_all),
	{}
};

static struct kunit_suite index_answers_suite = {
	.name = "dm_dedup_index_index_answers",
	.test_cases = index_answers_cases,
};

kunit_test_suite(index_answers_suite);
