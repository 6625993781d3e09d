// SPDX-License-Identifier: GPL-2.0-only
/*
 * Open indexes, shared by the targets that use them. Reloading a table
 * builds the new target while the old one still exists; both name the same
 * index device, and must share one index rather than open it twice. A
 * reload naming a copy of the index device moves the index onto the copy.
 * A second device that would put another data device's blocks into the same
 * index is refused: the index's block addresses would be ambiguous.
 */

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/slab.h>

#include "target.h"

struct ddi_shared_index {
	struct list_head link;
	dev_t index_dev;
	dev_t data_dev;
	struct ddi_index *index;
	unsigned int references;
};

static LIST_HEAD(shared_indexes);
static DEFINE_MUTEX(shared_indexes_mutex);

static struct ddi_shared_index *find_shared(dev_t index_dev, dev_t data_dev)
{
	struct ddi_shared_index *shared;

	list_for_each_entry(shared, &shared_indexes, link) {
		if (shared->index_dev == index_dev || shared->data_dev == data_dev)
			return shared;
	}
	return NULL;
}

/*
 * A reload that names another index device for the same data device: if
 * that device is a copy of the index (same nonce and layout, e.g. made
 * while the device was suspended), the open index moves onto it.
 */
static int move_shared(struct ddi_shared_index *shared, struct block_device *index_bdev,
		       char **error)
{
	int ret = ddi_index_replace_storage(shared->index, index_bdev);

	if (ret) {
		*error = "data_dev is indexed on another index_dev, of which this is no copy";
		return -EBUSY;
	}
	pr_info("index moved from %u:%u to %u:%u\n", MAJOR(shared->index_dev),
		MINOR(shared->index_dev), MAJOR(index_bdev->bd_dev), MINOR(index_bdev->bd_dev));
	shared->index_dev = index_bdev->bd_dev;
	return 0;
}

/**
 * ddi_get_shared_index() - Open an index, or share the one already open.
 * @index_bdev: the index device.
 * @data_bdev: the data device whose blocks the index will name.
 * @config: how to open it, if it is not open yet.
 * @shared_ptr: set to the shared index.
 * @error: set to a message when the index is in use by another data device.
 *
 * Return: 0, -EBUSY, or what ddi_index_open() returned.
 */
int ddi_get_shared_index(struct block_device *index_bdev, struct block_device *data_bdev,
			 const struct ddi_index_config *config,
			 struct ddi_shared_index **shared_ptr, char **error)
{
	struct ddi_shared_index *shared;
	int ret = 0;

	mutex_lock(&shared_indexes_mutex);
	shared = find_shared(index_bdev->bd_dev, data_bdev->bd_dev);
	if (shared) {
		if (shared->data_dev != data_bdev->bd_dev) {
			*error = "index_dev is in use by a dedup-index device of another data_dev";
			ret = -EBUSY;
		} else if (shared->index_dev != index_bdev->bd_dev) {
			ret = move_shared(shared, index_bdev, error);
		}
		if (!ret)
			shared->references++;
		goto out;
	}

	shared = kzalloc(sizeof(*shared), GFP_KERNEL);
	if (!shared) {
		ret = -ENOMEM;
		goto out;
	}
	ret = ddi_index_open(index_bdev, config, &shared->index);
	if (ret) {
		kfree(shared);
		goto out;
	}
	shared->index_dev = index_bdev->bd_dev;
	shared->data_dev = data_bdev->bd_dev;
	shared->references = 1;
	list_add(&shared->link, &shared_indexes);
out:
	mutex_unlock(&shared_indexes_mutex);
	if (!ret)
		*shared_ptr = shared;
	return ret;
}

/**
 * ddi_shared_index() - The index behind a shared index.
 * @shared: the shared index.
 *
 * Return: the open index.
 */
struct ddi_index *ddi_shared_index(struct ddi_shared_index *shared)
{
	return shared->index;
}

/**
 * ddi_put_shared_index() - Drop a reference; the last one saves and closes.
 * @shared: the shared index.
 */
void ddi_put_shared_index(struct ddi_shared_index *shared)
{
	mutex_lock(&shared_indexes_mutex);
	if (--shared->references == 0)
		list_del(&shared->link);
	else
		shared = NULL;
	mutex_unlock(&shared_indexes_mutex);
	if (!shared)
		return;
	ddi_index_close(shared->index);
	kfree(shared);
}
