// SPDX-License-Identifier: GPL-2.0-only
/*
 * Open indexes, shared by the targets that use them. Reloading a table
 * builds the new target while the old one still exists; both name the same
 * index device, and must share one index rather than open it twice. A
 * reload naming a copy of the index device prepares the copy when the new
 * table is built and moves the index onto it when that table is resumed.
 * A second device that would put another data device's blocks into the same
 * index is refused: the index's block addresses would be ambiguous.
 *
 * Opening (a format or a rebuild may take minutes) and closing (a save)
 * run outside the registry's mutex: the entry stays listed meanwhile, as
 * opening or closing, and a table naming either of its devices waits for
 * it to settle. So one device never has two instances of its index.
 */

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/wait.h>

#include "target.h"

enum shared_state {
	/* ddi_index_open() runs; index is not set yet. */
	SHARED_OPENING,
	SHARED_OPEN,
	/* The last reference is gone and ddi_index_close() runs. */
	SHARED_CLOSING,
};

struct ddi_shared_index {
	struct list_head link;
	dev_t index_dev;
	dev_t data_dev;
	struct ddi_index *index;
	unsigned int references;
	enum shared_state state;
	/* The scan of data_dev, which every save of the index records. */
	struct ddi_scan_state scan;
};

/* Guards the list, and the devices, references and state of its entries. */
static DEFINE_MUTEX(shared_indexes_mutex);
static LIST_HEAD(shared_indexes);
/* Raised, under the mutex, whenever an entry stops opening or closing. */
static unsigned long shared_indexes_settled;
static DECLARE_WAIT_QUEUE_HEAD(shared_indexes_wait);

static struct ddi_shared_index *find_shared(dev_t index_dev, dev_t data_dev)
{
	struct ddi_shared_index *shared;

	lockdep_assert_held(&shared_indexes_mutex);
	list_for_each_entry(shared, &shared_indexes, link) {
		if (shared->index_dev == index_dev || shared->data_dev == data_dev)
			return shared;
	}
	return NULL;
}

/* An entry finished opening or closing: let the tables waiting look again. */
static void settled(void)
{
	lockdep_assert_held(&shared_indexes_mutex);
	WRITE_ONCE(shared_indexes_settled, shared_indexes_settled + 1);
	wake_up_all(&shared_indexes_wait);
}

/*
 * Wait, with the mutex dropped, for an entry opening or closing to settle.
 * The entry may be gone on return: the caller looks it up again. Killable,
 * as a rebuild may take minutes and a table load should not be unkillable
 * for that long.
 */
static int wait_for_settled(void)
{
	unsigned long seen;

	lockdep_assert_held(&shared_indexes_mutex);
	seen = shared_indexes_settled;
	mutex_unlock(&shared_indexes_mutex);
	/* The mutex orders the read of @seen before any later raise. */
	if (wait_event_killable(shared_indexes_wait, READ_ONCE(shared_indexes_settled) != seen))
		return -EINTR;
	mutex_lock(&shared_indexes_mutex);
	return 0;
}

/* Why a copy of the index device could not be used, in the table's words. */
static char *storage_error(int ret)
{
	switch (ret) {
	case -EINVAL:
	case -EMEDIUMTYPE:
	case -EBADMSG:
	case -ENODATA:
		return "data_dev is indexed on another index_dev, of which this is no copy";
	case -ENOSPC:
		return "index_dev is too small for the index it is a copy of";
	case -ENOMEM:
		return "no memory for the new index_dev's buffers: the old one stays in use";
	default:
		return "cannot read the superblock of the new index_dev";
	}
}

/* Open a new index for a new entry, outside the mutex; settle the entry. */
static int open_shared(struct ddi_shared_index *shared, struct block_device *index_bdev,
		       const struct ddi_index_config *config, char **error)
{
	struct ddi_index *index;
	int ret;

	ret = ddi_index_open(index_bdev, config, &index, error);
	mutex_lock(&shared_indexes_mutex);
	if (ret) {
		list_del(&shared->link);
		kfree(shared);
	} else {
		shared->index = index;
		ddi_scan_state_init(&shared->scan, index);
		shared->state = SHARED_OPEN;
	}
	settled();
	mutex_unlock(&shared_indexes_mutex);
	return ret;
}

/**
 * ddi_target_registry_get() - Open an index, or share the one already open.
 * @index_bdev: the index device.
 * @data_bdev: the data device whose blocks the index will name.
 * @config: how to open it, if it is not open yet.
 * @shared_ptr: set to the shared index.
 * @storage_ptr: set to NULL, or, when the index is open on another device
 *	of which @index_bdev is a copy, to that copy prepared for
 *	ddi_target_registry_move(); the caller closes it with
 *	ddi_index_close_storage() if it never moves the index there.
 * @error: set on failure to why: the index is in use by another data
 *	device, @index_bdev is no usable copy, or ddi_index_open() failed.
 *
 * Waits while an index on either device is being opened or closed by
 * another table. A copy is only prepared: the index goes on using its
 * device until ddi_target_registry_move().
 *
 * Return: 0, -EBUSY, -EINTR if killed while waiting, what
 * ddi_index_open_storage() returned for a copy, or what ddi_index_open()
 * returned.
 */
int ddi_target_registry_get(struct block_device *index_bdev, struct block_device *data_bdev,
			    const struct ddi_index_config *config,
			    struct ddi_shared_index **shared_ptr,
			    struct ddi_index_storage **storage_ptr, char **error)
{
	struct ddi_shared_index *shared;
	int ret;

	*storage_ptr = NULL;
	mutex_lock(&shared_indexes_mutex);
	for (;;) {
		shared = find_shared(index_bdev->bd_dev, data_bdev->bd_dev);
		if (!shared || shared->state == SHARED_OPEN)
			break;
		ret = wait_for_settled();
		if (ret) {
			*error = "interrupted while waiting for the index to open or close";
			return ret;
		}
	}

	if (shared) {
		bool moving = shared->index_dev != index_bdev->bd_dev;

		if (shared->data_dev != data_bdev->bd_dev) {
			mutex_unlock(&shared_indexes_mutex);
			*error = "index_dev is in use by a dedup-index device of another data_dev";
			return -EBUSY;
		}
		shared->references++;
		mutex_unlock(&shared_indexes_mutex);
		/* Our reference keeps the index open while the copy is read. */
		ret = moving ? ddi_index_open_storage(shared->index, index_bdev, storage_ptr) : 0;
		if (ret) {
			*error = storage_error(ret);
			ddi_target_registry_put(shared);
			return ret;
		}
		*shared_ptr = shared;
		return 0;
	}

	shared = kzalloc(sizeof(*shared), GFP_KERNEL);
	if (!shared) {
		mutex_unlock(&shared_indexes_mutex);
		*error = "not enough memory for the index";
		return -ENOMEM;
	}
	shared->index_dev = index_bdev->bd_dev;
	shared->data_dev = data_bdev->bd_dev;
	shared->references = 1;
	shared->state = SHARED_OPENING;
	list_add(&shared->link, &shared_indexes);
	mutex_unlock(&shared_indexes_mutex);

	ret = open_shared(shared, index_bdev, config, error);
	if (!ret)
		*shared_ptr = shared;
	return ret;
}

/**
 * ddi_target_registry_move() - Move a shared index onto a prepared copy.
 * @shared: the shared index.
 * @index_bdev: the device of the copy, as given to ddi_target_registry_get().
 * @storage: the copy ddi_target_registry_get() prepared for @shared. On return
 *	it holds the device the index used until now, for the caller to
 *	close with ddi_index_close_storage() before that device is let go.
 *
 * For a table being resumed: its device is suspended, so no post is
 * coming; requests still queued wait for the move and go on there.
 */
void ddi_target_registry_move(struct ddi_shared_index *shared, struct block_device *index_bdev,
			      struct ddi_index_storage *storage)
{
	dev_t to = index_bdev->bd_dev;
	dev_t from;

	ddi_index_replace_storage(shared->index, storage);
	mutex_lock(&shared_indexes_mutex);
	from = shared->index_dev;
	shared->index_dev = to;
	mutex_unlock(&shared_indexes_mutex);
	pr_info("index moved from %u:%u to %u:%u\n", MAJOR(from), MINOR(from),
		MAJOR(to), MINOR(to));
}

/**
 * ddi_target_registry_index() - The index behind a shared index.
 * @shared: the shared index.
 *
 * Return: the open index.
 */
struct ddi_index *ddi_target_registry_index(struct ddi_shared_index *shared)
{
	return shared->index;
}

/**
 * ddi_target_registry_scan() - The scan of a shared index's data device.
 * @shared: the shared index.
 *
 * Return: its scan state, which lives as long as @shared.
 */
struct ddi_scan_state *ddi_target_registry_scan(struct ddi_shared_index *shared)
{
	return &shared->scan;
}

/**
 * ddi_target_registry_put() - Drop a reference; the last one saves and closes.
 * @shared: the shared index.
 *
 * The index stays listed, as closing, until its close has finished, so a
 * table opening the same device meanwhile waits instead of opening a
 * second instance over the one still saving.
 */
void ddi_target_registry_put(struct ddi_shared_index *shared)
{
	mutex_lock(&shared_indexes_mutex);
	if (--shared->references) {
		mutex_unlock(&shared_indexes_mutex);
		return;
	}
	shared->state = SHARED_CLOSING;
	mutex_unlock(&shared_indexes_mutex);

	ddi_index_close(shared->index);

	mutex_lock(&shared_indexes_mutex);
	list_del(&shared->link);
	settled();
	mutex_unlock(&shared_indexes_mutex);
	kfree(shared);
}
