// SPDX-License-Identifier: GPL-2.0-only
/*
 * The target's write path into the index. Each whole 4 KiB block of a
 * write is hashed when the bio is mapped, while its pages are certainly
 * ours, and the names are posted when the write has succeeded, with the
 * block's address as their data. Posting never waits: a write completes
 * whatever the index is doing. With verify on, advice is checked by
 * reading the advised block and hashing it again.
 */

#include <linux/bio.h>
#include <linux/highmem.h>
#include <linux/slab.h>
#include <linux/unaligned.h>

#include "murmur3.h"
#include "target.h"

struct ddi_post {
	struct ddi_request request;
	struct ddi_write_posts *posts;
	struct work_struct verify_work;
	u64 block;
};

/* The posts of one write bio, freed when the last is answered. */
struct ddi_write_posts {
	struct ddi_target *target;
	atomic_t pending;
	/* The posts_in_flight count this write is in. */
	unsigned int epoch;
	u32 count;
	struct ddi_post post[] __counted_by(count);
};

static void put_posts(struct ddi_write_posts *posts)
{
	struct ddi_target *target = posts->target;
	unsigned int epoch = posts->epoch;

	if (!atomic_dec_and_test(&posts->pending))
		return;
	kvfree(posts);
	if (atomic64_dec_and_test(&target->stats.posts_in_flight[epoch]))
		wake_up_all(&target->posts_wait);
}

static void set_block(struct ddi_data *data, u64 block)
{
	memset(data, 0, sizeof(*data));
	put_unaligned_le64(block, data->bytes);
}

static u64 get_block(const struct ddi_data *data)
{
	return get_unaligned_le64(data->bytes);
}

/* Read @block of the data device and check it still has the post's name. */
static void verify_advice(struct work_struct *work)
{
	struct ddi_post *post = container_of(work, struct ddi_post, verify_work);
	struct ddi_target *target = post->posts->target;
	u64 advised = get_block(&post->request.old_data);
	struct ddi_name name;
	struct page *page;
	struct bio bio;
	struct bio_vec bvec;
	int ret = -ENOMEM;

	page = alloc_page(GFP_NOIO);
	if (page) {
		bio_init(&bio, target->data->bdev, &bvec, 1, REQ_OP_READ);
		bio.bi_iter.bi_sector = advised * DDI_BLOCK_SECTORS;
		__bio_add_page(&bio, page, PAGE_SIZE, 0);
		ret = submit_bio_wait(&bio);
		bio_uninit(&bio);
	}
	if (!ret) {
		void *data = kmap_local_page(page);

		ddi_murmur3_128(data, PAGE_SIZE, 0, name.bytes);
		kunmap_local(data);
	}
	if (!ret && !memcmp(&name, &post->request.name, sizeof(name)))
		atomic64_inc(&target->stats.verified_duplicates);
	else
		atomic64_inc(&target->stats.stale_advice);
	if (page)
		__free_page(page);
	put_posts(post->posts);
}

/* Runs on a zone thread: count the answer, never block. */
static void post_done(struct ddi_request *request)
{
	struct ddi_post *post = container_of(request, struct ddi_post, request);
	struct ddi_target *target = post->posts->target;

	/* A block rewritten with what it held is not a duplicate of itself. */
	if (request->status || !request->found || get_block(&request->old_data) == post->block) {
		put_posts(post->posts);
		return;
	}
	atomic64_inc(&target->stats.duplicate_advice);
	if (target->config.verify) {
		INIT_WORK(&post->verify_work, verify_advice);
		queue_work(target->verify_wq, &post->verify_work);
		return;
	}
	put_posts(post->posts);
}

/*
 * Hash blocks [0, count) of the bio's data, which start @skip bytes in.
 * A block inside one segment is hashed in place; one split across
 * segments is gathered into @scratch first.
 */
static void hash_blocks(struct bio *bio, u32 skip, struct ddi_write_posts *posts, u8 *scratch)
{
	struct bvec_iter iter;
	struct bio_vec bv;
	u32 filled = 0, n = 0;

	bio_for_each_segment(bv, bio, iter) {
		u32 offset = 0;

		while (offset < bv.bv_len && n < posts->count) {
			u32 take = min(bv.bv_len - offset, (u32)PAGE_SIZE - filled);
			u8 *data;

			if (skip) {
				take = min(skip, bv.bv_len - offset);
				skip -= take;
				offset += take;
				continue;
			}
			data = kmap_local_page(bv.bv_page);
			if (filled == 0 && take == PAGE_SIZE) {
				ddi_murmur3_128(data + bv.bv_offset + offset, PAGE_SIZE, 0,
						posts->post[n++].request.name.bytes);
			} else {
				memcpy(scratch + filled, data + bv.bv_offset + offset, take);
				filled += take;
				if (filled == PAGE_SIZE) {
					ddi_murmur3_128(scratch, PAGE_SIZE, 0,
							posts->post[n++].request.name.bytes);
					filled = 0;
				}
			}
			kunmap_local(data);
			offset += take;
		}
	}
}

/**
 * ddi_hash_write() - Name the whole blocks of a write before it is sent.
 * @target: the target.
 * @ti: its dm target.
 * @bio: a write with data, not yet remapped.
 *
 * Return: the posts to launch when the write succeeds, or NULL if it has
 * no whole block or no memory could be had (counted as skipped).
 */
struct ddi_write_posts *ddi_hash_write(struct ddi_target *target, struct dm_target *ti,
				       struct bio *bio)
{
	sector_t start = dm_target_offset(ti, bio->bi_iter.bi_sector);
	sector_t end = start + bio_sectors(bio);
	u64 first = DIV_ROUND_UP_ULL(start, DDI_BLOCK_SECTORS);
	u64 last = end / DDI_BLOCK_SECTORS;
	struct ddi_write_posts *posts;
	u8 *scratch;
	u32 i, count;

	if (last <= first)
		return NULL;
	count = last - first;
	posts = kvmalloc(struct_size(posts, post, count), GFP_NOIO);
	scratch = kmalloc(PAGE_SIZE, GFP_NOIO);
	if (!posts || !scratch) {
		kvfree(posts);
		kfree(scratch);
		atomic64_add(count, &target->stats.blocks_skipped);
		return NULL;
	}
	posts->target = target;
	posts->count = count;
	atomic_set(&posts->pending, count);
	for (i = 0; i < count; i++) {
		struct ddi_post *post = &posts->post[i];

		post->posts = posts;
		post->block = first + i;
		post->request = (struct ddi_request) {
			.type = DDI_POST,
			.callback = post_done,
		};
		set_block(&post->request.new_data, post->block);
	}
	hash_blocks(bio, (first * DDI_BLOCK_SECTORS - start) << SECTOR_SHIFT, posts, scratch);
	kfree(scratch);
	return posts;
}

/**
 * ddi_post_write() - Post a write's names, or drop them if it failed.
 * @posts: from ddi_hash_write().
 * @succeeded: whether the write reached the data device.
 *
 * Called from bio completion: launching never sleeps.
 */
void ddi_post_write(struct ddi_write_posts *posts, bool succeeded)
{
	struct ddi_target *target = posts->target;
	u32 i, count = posts->count;

	if (!succeeded) {
		kvfree(posts);
		return;
	}
	posts->epoch = READ_ONCE(target->posts_epoch);
	atomic64_inc(&target->stats.posts_in_flight[posts->epoch]);
	atomic64_add(count, &target->stats.blocks_indexed);
	/* The last answer may free @posts: read nothing from it after that. */
	for (i = 0; i < count; i++)
		ddi_index_launch(target->index, &posts->post[i].request);
}

/**
 * ddi_wait_for_posts() - Wait until every post made so far has been
 * answered and verified.
 * @target: the target. Writes may go on completing: their posts are not
 *	waited for, so a steady stream of them cannot hold the wait up for
 *	ever. With no write in flight (suspended), this waits for all posts.
 */
void ddi_wait_for_posts(struct ddi_target *target)
{
	atomic64_t *in_flight = target->stats.posts_in_flight;
	unsigned int old;

	mutex_lock(&target->posts_wait_mutex);
	old = target->posts_epoch;
	/* Left from before the last flip: older still, and no longer added to. */
	wait_event_idle(target->posts_wait, atomic64_read(&in_flight[!old]) == 0);
	/*
	 * From here new posts count in the other epoch, so this one can only
	 * drain. A post launched while the epoch flips may land in either
	 * count: it is not one made before this call, and waiting for it or
	 * not is as good.
	 */
	WRITE_ONCE(target->posts_epoch, !old);
	wait_event_idle(target->posts_wait, atomic64_read(&in_flight[old]) == 0);
	mutex_unlock(&target->posts_wait_mutex);
}

struct sync_query {
	struct ddi_request request;
	struct completion done;
};

static void query_done(struct ddi_request *request)
{
	complete(&container_of(request, struct sync_query, request)->done);
}

/**
 * ddi_query_name() - Ask the index about one name, changing nothing.
 * @target: the target.
 * @name: the name.
 * @found: set to whether the index knows it.
 * @block: set to its block, if found.
 *
 * Return: the request's status.
 */
int ddi_query_name(struct ddi_target *target, const struct ddi_name *name, bool *found,
		   u64 *block)
{
	struct sync_query query = {
		.request = {
			.type = DDI_QUERY_NO_UPDATE,
			.name = *name,
			.callback = query_done,
		},
	};

	init_completion(&query.done);
	ddi_index_launch(target->index, &query.request);
	wait_for_completion(&query.done);
	*found = query.request.found;
	*block = get_block(&query.request.old_data);
	return query.request.status;
}
