// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the registry of open indexes: a table naming a device
 * whose index is being opened or closed by another waits until that is
 * done, then shares the index or opens it anew, never a second instance
 * beside the first; the wait can be killed; a failed open lets the waiter
 * open; and an index_dev open for another data_dev is refused.
 *
 * The test thread holds an open or a close (a static stub of
 * ddi_index_open() or ddi_index_close() that waits) while a second thread
 * asks the registry for the same devices.
 */

#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/sched/signal.h>

#include "target.h"
#include "test-util.h"

enum {
	INDEX_DISK = 1,
	DATA_DISK = 2,
	OTHER_DISK = 3,
	DISK_BYTES = 16 << 20,
};

static const struct ddi_index_config config = {
	.record_pages_per_chapter = 2,
	.chapters_per_volume = 8,
	.zone_count = 1,
	.reader_count = 1,
	.cache_chapters = 2,
};

/* A second table asking the registry for the same devices, on its own thread. */
struct waiter {
	struct block_device *index_bdev;
	struct block_device *data_bdev;
	bool killable;
	struct task_struct *task;
	struct completion done;
	bool finished;
	int ret;
	char *error;
	struct ddi_shared_index *shared;
	struct ddi_index_storage *storage;
};

static int waiter_fn(void *arg)
{
	struct waiter *w = arg;

	if (w->killable)
		allow_signal(SIGKILL);
	w->ret = ddi_target_registry_get(w->index_bdev, w->data_bdev, &config, &w->shared,
					 &w->storage, &w->error);
	WRITE_ONCE(w->finished, true);
	/* All: the killing hold and finish_waiter() both wait for it. */
	complete_all(&w->done);
	return 0;
}

static void start_waiter(struct kunit *test, struct waiter *w, struct block_device *index_bdev,
			 struct block_device *data_bdev, bool killable)
{
	*w = (struct waiter) {
		.index_bdev = index_bdev,
		.data_bdev = data_bdev,
		.killable = killable,
	};
	init_completion(&w->done);
	w->task = kthread_create(waiter_fn, w, "ddi-test-waiter");
	KUNIT_ASSERT_FALSE(test, IS_ERR(w->task));
	/* Its state is read until it is waited for. */
	get_task_struct(w->task);
	wake_up_process(w->task);
}

/* Whether the waiter sleeps in the registry's killable wait. */
static bool waiter_waits(struct waiter *w)
{
	unsigned int tries;

	for (tries = 0; tries < 2000; tries++) {
		if (READ_ONCE(w->finished))
			return false;
		if (READ_ONCE(w->task->__state) == TASK_KILLABLE)
			return true;
		usleep_range(5000, 10000);
	}
	return false;
}

static void finish_waiter(struct kunit *test, struct waiter *w)
{
	KUNIT_EXPECT_GT(test, wait_for_completion_timeout(&w->done, 60 * HZ), 0UL);
	put_task_struct(w->task);
}

/* What the test thread's stubs do while they hold an open or a close. */
struct hold {
	struct kunit *test;
	struct waiter *waiter;
	struct block_device *index_bdev;
	struct block_device *data_bdev;
	/* Start the waiter killable, and kill it while it waits. */
	bool kill;
	/* Make the held open fail with this, rather than open. */
	int fail;
	/* The waiter slept in the wait while the open or close was held. */
	bool waited;
	/* And had not returned by the time the hold ended. */
	bool held;
};

static struct hold *hold_of(void)
{
	return kunit_get_current_test()->priv;
}

/* Start the waiter and see it wait; kill it if asked. */
static void hold_while_waiting(struct hold *h)
{
	start_waiter(h->test, h->waiter, h->index_bdev, h->data_bdev, h->kill);
	h->waited = waiter_waits(h->waiter);
	if (h->kill && h->waited) {
		send_sig(SIGKILL, h->waiter->task, 1);
		wait_for_completion_timeout(&h->waiter->done, 60 * HZ);
	}
	h->held = !READ_ONCE(h->waiter->finished) || h->kill;
}

static int held_open(struct block_device *bdev, const struct ddi_index_config *cfg,
		     struct ddi_index **index_ptr, char **error)
{
	struct hold *h = hold_of();

	hold_while_waiting(h);
	kunit_deactivate_static_stub(h->test, ddi_index_open);
	if (h->fail) {
		*error = "held open made to fail";
		return h->fail;
	}
	return ddi_index_open(bdev, cfg, index_ptr, error);
}

static void held_close(struct ddi_index *index)
{
	struct hold *h = hold_of();

	hold_while_waiting(h);
	kunit_deactivate_static_stub(h->test, ddi_index_close);
	ddi_index_close(index);
}

struct fixture {
	struct ddi_test_disk *index;
	struct ddi_test_disk *data;
	struct waiter waiter;
	struct hold hold;
};

static struct fixture *make_fixture(struct kunit *test)
{
	struct fixture *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, f);
	f->index = ddi_test_disk_open(test, INDEX_DISK, DISK_BYTES);
	f->data = ddi_test_disk_open(test, DATA_DISK, DISK_BYTES);
	f->hold = (struct hold) {
		.test = test,
		.waiter = &f->waiter,
		.index_bdev = f->index->bdev,
		.data_bdev = f->data->bdev,
	};
	test->priv = &f->hold;
	return f;
}

static int get(struct fixture *f, struct ddi_shared_index **shared, char **error)
{
	struct ddi_index_storage *storage;

	return ddi_target_registry_get(f->index->bdev, f->data->bdev, &config, shared,
				       &storage, error);
}

/* A table asking while another opens the index waits, then shares it. */
static void registry_waits_for_an_open(struct kunit *test)
{
	struct fixture *f = make_fixture(test);
	struct ddi_shared_index *shared = NULL;
	char *error = NULL;

	kunit_activate_static_stub(test, ddi_index_open, held_open);
	KUNIT_EXPECT_EQ(test, 0, get(f, &shared, &error));
	finish_waiter(test, &f->waiter);
	KUNIT_EXPECT_TRUE_MSG(test, f->hold.waited, "the second table did not wait");
	KUNIT_EXPECT_TRUE_MSG(test, f->hold.held, "the second table went on during the open");
	KUNIT_EXPECT_EQ(test, 0, f->waiter.ret);
	/* One index, shared: not a second one opened beside it. */
	KUNIT_EXPECT_PTR_EQ(test, shared, f->waiter.shared);
	if (!f->waiter.ret)
		ddi_target_registry_put(f->waiter.shared);
	if (shared)
		ddi_target_registry_put(shared);
}

/*
 * A table asking while the last one closes the index waits for the close
 * (its save) to finish, then opens the index anew from that save.
 */
static void registry_waits_for_a_close(struct kunit *test)
{
	struct fixture *f = make_fixture(test);
	struct ddi_shared_index *shared = NULL;
	struct ddi_index_stats stats;
	char *error = NULL;

	KUNIT_ASSERT_EQ(test, 0, get(f, &shared, &error));
	kunit_activate_static_stub(test, ddi_index_close, held_close);
	ddi_target_registry_put(shared);
	finish_waiter(test, &f->waiter);
	KUNIT_EXPECT_TRUE_MSG(test, f->hold.waited, "the second table did not wait");
	KUNIT_EXPECT_TRUE_MSG(test, f->hold.held, "the second table went on during the close");
	KUNIT_ASSERT_EQ(test, 0, f->waiter.ret);
	ddi_index_get_stats(ddi_target_registry_index(f->waiter.shared), &stats);
	KUNIT_EXPECT_EQ(test, DDI_OPENED_LOADED, stats.opened);
	ddi_target_registry_put(f->waiter.shared);
}

/* A wait for an open that takes long can be killed; the open goes on. */
static void registry_wait_can_be_killed(struct kunit *test)
{
	struct fixture *f = make_fixture(test);
	struct ddi_shared_index *shared = NULL;
	char *error = NULL;

	f->hold.kill = true;
	kunit_activate_static_stub(test, ddi_index_open, held_open);
	KUNIT_EXPECT_EQ(test, 0, get(f, &shared, &error));
	finish_waiter(test, &f->waiter);
	KUNIT_EXPECT_TRUE(test, f->hold.waited);
	KUNIT_EXPECT_EQ(test, -EINTR, f->waiter.ret);
	KUNIT_EXPECT_STREQ(test, f->waiter.error,
			   "interrupted while waiting for the index to open or close");
	if (!f->waiter.ret)
		ddi_target_registry_put(f->waiter.shared);
	if (shared)
		ddi_target_registry_put(shared);
}

/* An open that fails leaves nothing behind: the waiter opens the index itself. */
static void registry_failed_open_lets_the_waiter_open(struct kunit *test)
{
	struct fixture *f = make_fixture(test);
	struct ddi_shared_index *shared = NULL;
	char *error = NULL;

	f->hold.fail = -EIO;
	kunit_activate_static_stub(test, ddi_index_open, held_open);
	KUNIT_EXPECT_EQ(test, -EIO, get(f, &shared, &error));
	KUNIT_EXPECT_STREQ(test, error, "held open made to fail");
	finish_waiter(test, &f->waiter);
	KUNIT_EXPECT_TRUE(test, f->hold.waited);
	KUNIT_EXPECT_EQ(test, 0, f->waiter.ret);
	if (!f->waiter.ret)
		ddi_target_registry_put(f->waiter.shared);
}

/* One index_dev serves one data_dev: the block numbers would be ambiguous. */
static void registry_refuses_another_data_dev(struct kunit *test)
{
	struct fixture *f = make_fixture(test);
	struct ddi_test_disk *other = ddi_test_disk_open(test, OTHER_DISK, DISK_BYTES);
	struct ddi_shared_index *shared = NULL, *second = NULL;
	struct ddi_index_storage *storage;
	char *error = NULL;

	KUNIT_ASSERT_EQ(test, 0, get(f, &shared, &error));
	KUNIT_EXPECT_EQ(test, -EBUSY,
			ddi_target_registry_get(f->index->bdev, other->bdev, &config, &second,
						&storage, &error));
	KUNIT_EXPECT_STREQ(test, error,
			   "index_dev is in use by a dedup-index device of another data_dev");
	ddi_target_registry_put(shared);
}

static struct kunit_case registry_cases[] = {
	KUNIT_CASE(registry_waits_for_an_open),
	KUNIT_CASE(registry_waits_for_a_close),
	KUNIT_CASE(registry_wait_can_be_killed),
	KUNIT_CASE(registry_failed_open_lets_the_waiter_open),
	KUNIT_CASE(registry_refuses_another_data_dev),
	{}
};

static struct kunit_suite registry_suite = {
	.name = "dm_dedup_index_target_registry",
	.test_cases = registry_cases,
};

kunit_test_suite(registry_suite);
