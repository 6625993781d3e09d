// SPDX-License-Identifier: GPL-2.0-only
/*
 * The target's write path into the index. Each whole 4 KiB block of a
 * write is hashed, and the names are posted when the write has succeeded,
 * with the block's address as their data. Neither step ever waits: a
 * write completes whatever the index is doing. With verify on, advice is
 * checked by reading the advised blocks and hashing them again, once the
 * write's posts are all answered, in runs of adjacent blocks.
 *
 * A small write is hashed in map(), where that costs less than handing it
 * to another thread. A larger one goes to the device at once and is
 * hashed meanwhile, in up to DDI_HASH_PIECES pieces on the unbound hash
 * workqueue, so that other CPUs share a large write: the write's time is
 * then the longer of the device's and the hashing's, not their sum. Its
 * completion is held back (DM_ENDIO_INCOMPLETE, as dm-writecache does for
 * FUA writes) until the hashing is done too, so the pages hashed are still
 * the submitter's. The device is declared to need stable writes
 * (ddi_io_hints()), so nobody changes a page while it is being written:
 * the data hashed is the data the device got.
 *
 * The posts of writes not yet answered are bounded in memory: each write
 * charges what its posts take to the target's posts_bytes, and a write
 * that would take it past post_memory_kib, or whose posts cannot be had
 * without waiting for memory, is not posted: its blocks count as skipped.
 * An index that falls behind (a slow index_dev, a save, a chapter being
 * written) thus costs deduplication, never memory or write latency.
 */

#include <linux/bio.h>
#include <linux/highmem.h>
#include <linux/math64.h>
#include <linux/slab.h>

#include "murmur3.h"
#include "target.h"

struct ddi_post {
	struct ddi_request request;
	struct ddi_write_posts *posts;
	u64 block;
	/* Answered with advice that verify must check. */
	bool to_verify;
};

/*
 * A write's posts past the first few, in allocations of at most 4 KiB:
 * a large write needs no high-order allocation, which could not be had
 * reliably without waiting.
 */
struct ddi_post_chunk {
	struct ddi_post_chunk *next;
	u32 count;
	struct ddi_post post[] __counted_by(count);
};

/* The posts of one write bio, freed when the last is answered. */
struct ddi_write_posts {
	struct ddi_target *target;
	/* The bio's hashing on the workqueue, or NULL if hashed in map. */
	struct ddi_write_hashing *hashing;
	/* Posts with advice to verify, checked once all are answered. */
	atomic_t to_verify;
	/* In the target's verify_list while waiting for a verify worker. */
	struct list_head verify_entry;
	/* The posts after post[], in order. */
	struct ddi_post_chunk *more;
	/* What this write charged to the target's posts_bytes. */
	unsigned long bytes;
	atomic_t pending;
	/* The posts_in_flight count this write is in. */
	unsigned int epoch;
	/* Posts in all: first_count here, the rest in @more. */
	u32 count;
	u32 first_count;
	struct ddi_post post[] __counted_by(first_count);
};

#define DDI_POSTS_ALLOCATION SZ_4K
#define DDI_POSTS_IN_HEAD							\
	((DDI_POSTS_ALLOCATION - sizeof(struct ddi_write_posts)) / sizeof(struct ddi_post))
#define DDI_POSTS_IN_CHUNK							\
	((DDI_POSTS_ALLOCATION - sizeof(struct ddi_post_chunk)) / sizeof(struct ddi_post))

/**
 * ddi_target_io_posts_bytes() - The memory the posts of a write take.
 * @blocks: the whole blocks of the write, at least 1.
 *
 * Return: the bytes the allocator gives for them, which is what a write
 * charges against the bound on posts in flight: about 170 bytes a block,
 * and at least 256 a write.
 */
size_t ddi_target_io_posts_bytes(u32 blocks)
{
	struct ddi_write_posts *posts;
	struct ddi_post_chunk *chunk;
	u32 first = min_t(u32, blocks, DDI_POSTS_IN_HEAD);
	u32 rest = blocks - first;
	size_t bytes = kmalloc_size_roundup(struct_size(posts, post, first));

	bytes += (size_t)(rest / DDI_POSTS_IN_CHUNK) *
		kmalloc_size_roundup(struct_size(chunk, post, DDI_POSTS_IN_CHUNK));
	if (rest % DDI_POSTS_IN_CHUNK)
		bytes += kmalloc_size_roundup(struct_size(chunk, post, rest % DDI_POSTS_IN_CHUNK));
	return bytes;
}

/* Walks a write's posts in order, across its chunks. */
struct post_cursor {
	struct ddi_post *post;
	u32 left;
	struct ddi_post_chunk *next;
};

static void cursor_start(struct post_cursor *cursor, struct ddi_write_posts *posts)
{
	cursor->post = posts->post;
	cursor->left = posts->first_count;
	cursor->next = posts->more;
}

/* Start at post @index instead: past the head, chunks are walked to it. */
static void cursor_seek(struct post_cursor *cursor, struct ddi_write_posts *posts, u32 index)
{
	cursor_start(cursor, posts);
	if (index < cursor->left) {
		cursor->post += index;
		cursor->left -= index;
		return;
	}
	index -= cursor->left;
	while (index >= cursor->next->count) {
		index -= cursor->next->count;
		cursor->next = cursor->next->next;
	}
	cursor->post = cursor->next->post + index;
	cursor->left = cursor->next->count - index;
	cursor->next = cursor->next->next;
}

/* The next post; the caller knows how many there are. */
static struct ddi_post *cursor_next(struct post_cursor *cursor)
{
	if (!cursor->left) {
		cursor->post = cursor->next->post;
		cursor->left = cursor->next->count;
		cursor->next = cursor->next->next;
	}
	cursor->left--;
	return cursor->post++;
}

static void free_memory(struct ddi_write_posts *posts)
{
	struct ddi_post_chunk *chunk = posts->more, *next;

	kfree(posts);
	for (; chunk; chunk = next) {
		next = chunk->next;
		kfree(chunk);
	}
}

/*
 * Called from map: nothing here may wait for memory. No reserve is kept
 * either: a write that finds none is only a write not posted.
 */
static struct ddi_write_posts *alloc_posts(u32 count)
{
	const gfp_t gfp = GFP_NOWAIT | __GFP_NOWARN;
	u32 first = min_t(u32, count, DDI_POSTS_IN_HEAD);
	struct ddi_post_chunk **tail, *chunk;
	struct ddi_write_posts *posts;
	u32 rest = count - first;

	posts = kmalloc(struct_size(posts, post, first), gfp);
	if (!posts)
		return NULL;
	posts->first_count = first;
	posts->count = count;
	posts->more = NULL;
	for (tail = &posts->more; rest; tail = &chunk->next) {
		u32 n = min_t(u32, rest, DDI_POSTS_IN_CHUNK);

		chunk = kmalloc(struct_size(chunk, post, n), gfp);
		if (!chunk) {
			free_memory(posts);
			return NULL;
		}
		chunk->count = n;
		chunk->next = NULL;
		*tail = chunk;
		rest -= n;
	}
	return posts;
}

/* Free a write's posts and give back what they charged. */
static void free_posts(struct ddi_write_posts *posts)
{
	struct ddi_target *target = posts->target;
	unsigned long bytes = posts->bytes;

	free_memory(posts);
	atomic_long_sub(bytes, &target->posts_bytes);
}

/* The write's posts are all answered, and checked: let them go. */
static void finish_posts(struct ddi_write_posts *posts)
{
	struct ddi_target *target = posts->target;
	unsigned int epoch = posts->epoch;

	free_posts(posts);
	if (atomic64_dec_and_test(&target->stats.posts_in_flight[epoch]))
		wake_up_all(&target->posts_wait);
}

/*
 * One post answered. The last one, if advice came that verify must check,
 * hands the write to the verify workers: it joins the target's list and
 * the next worker in turn is queued (if it is running, it runs again, so
 * the write is not missed). atomic_dec_and_test() orders every answer's
 * marks before this.
 */
static void put_posts(struct ddi_write_posts *posts)
{
	struct ddi_target *target = posts->target;
	unsigned long flags;
	unsigned int next;

	if (!atomic_dec_and_test(&posts->pending))
		return;
	if (!atomic_read(&posts->to_verify)) {
		finish_posts(posts);
		return;
	}
	spin_lock_irqsave(&target->verify_lock, flags);
	list_add_tail(&posts->verify_entry, &target->verify_list);
	spin_unlock_irqrestore(&target->verify_lock, flags);
	next = (unsigned int)atomic_inc_return(&target->verify_next) % DDI_VERIFY_ACTIVE;
	queue_work(target->verify_wq, &target->verify_workers[next].work);
}

/*
 * Read @count blocks of data_dev from @first into @pages, in one bio.
 * Return: 0, or the read's error.
 */
static int read_blocks(struct ddi_target *target, u64 first, u32 count, struct page **pages)
{
	struct bio *bio = bio_alloc(target->data->bdev, count, REQ_OP_READ, GFP_NOIO);
	int ret;
	u32 i;

	bio->bi_iter.bi_sector = first * DDI_BLOCK_SECTORS;
	for (i = 0; i < count; i++)
		__bio_add_page(bio, pages[i], DDI_BLOCK_SIZE, 0);
	atomic64_inc(&target->stats.verify_reads);
	atomic64_add((u64)count * DDI_BLOCK_SIZE, &target->stats.verify_read_bytes);
	ret = submit_bio_wait(bio);
	bio_put(bio);
	return ret;
}

static bool page_has_name(struct page *page, const struct ddi_name *name)
{
	struct ddi_name found;
	void *data = kmap_local_page(page);

	ddi_murmur3_128(data, DDI_BLOCK_SIZE, 0, found.bytes);
	kunmap_local(data);
	return !memcmp(&found, name, sizeof(found));
}

/**
 * ddi_target_io_advice_holds() - Check advice by reading the advised block.
 * @target: the target.
 * @advised: the block the index advised, in data_dev's 4 KiB blocks.
 * @name: the name the advice was for.
 *
 * Context: may sleep: reads one block of data_dev.
 * Return: true if @advised still holds content of @name; false if it
 * does not, or could not be read.
 */
bool ddi_target_io_advice_holds(struct ddi_target *target, u64 advised,
				const struct ddi_name *name)
{
	struct page *page = alloc_page(GFP_NOIO);
	bool holds;

	if (!page)
		return false;
	holds = !read_blocks(target, advised, 1, &page) && page_has_name(page, name);
	__free_page(page);
	return holds;
}

static u64 advised_block(const struct ddi_post *post)
{
	return ddi_target_data_block(&post->request.old_data);
}

/*
 * Check posts run[0..count-1], advised blocks first..first+count-1, with
 * one read into @pages. A run that cannot be read counts as stale, as
 * advice that cannot be checked must not be trusted.
 */
static void verify_run(struct ddi_target *target, struct ddi_post **run, u32 count,
		       struct page **pages)
{
	bool read = !read_blocks(target, advised_block(run[0]), count, pages);
	u32 i;

	for (i = 0; i < count; i++) {
		if (read && page_has_name(pages[i], &run[i]->request.name))
			atomic64_inc(&target->stats.verified_duplicates);
		else
			atomic64_inc(&target->stats.stale_advice);
	}
}

/*
 * Check a write's advice, on a verify worker: the advised blocks of a
 * copy of earlier data lie one after another, so each run of them, up to
 * DDI_VERIFY_RUN_BLOCKS, is read at once rather than a block at a time.
 * The pages are had once for the whole write; if fewer can be had, runs
 * are cut to what there is.
 */
static void verify_posts(struct ddi_write_posts *posts)
{
	u32 want = min_t(u32, atomic_read(&posts->to_verify), DDI_VERIFY_RUN_BLOCKS);
	struct ddi_post *run[DDI_VERIFY_RUN_BLOCKS];
	struct page *pages[DDI_VERIFY_RUN_BLOCKS];
	struct ddi_target *target = posts->target;
	struct post_cursor cursor;
	u32 i, n = 0, have;

	for (have = 0; have < want; have++) {
		pages[have] = alloc_page(GFP_NOIO);
		if (!pages[have])
			break;
	}
	cursor_start(&cursor, posts);
	for (i = 0; i < posts->count; i++) {
		struct ddi_post *post = cursor_next(&cursor);

		if (!post->to_verify)
			continue;
		if (n && (n == have || advised_block(post) != advised_block(run[0]) + n)) {
			verify_run(target, run, n, pages);
			n = 0;
		}
		if (!have) {
			atomic64_inc(&target->stats.stale_advice);
			continue;
		}
		run[n++] = post;
	}
	if (n)
		verify_run(target, run, n, pages);
	while (have)
		__free_page(pages[--have]);
	finish_posts(posts);
}

/* A verify worker: check the writes waiting until there are none. */
static void verify_worker(struct work_struct *work)
{
	struct ddi_target *target = container_of(work, struct ddi_verify_worker, work)->target;
	struct ddi_write_posts *posts;
	unsigned long flags;

	for (;;) {
		spin_lock_irqsave(&target->verify_lock, flags);
		posts = list_first_entry_or_null(&target->verify_list, struct ddi_write_posts,
						 verify_entry);
		if (posts)
			list_del(&posts->verify_entry);
		spin_unlock_irqrestore(&target->verify_lock, flags);
		if (!posts)
			return;
		verify_posts(posts);
	}
}

/**
 * ddi_target_io_init() - Set up what the write path keeps in a new target.
 * @target: the target, zeroed; its verify_wq is queued on later.
 */
void ddi_target_io_init(struct ddi_target *target)
{
	unsigned int i;

	init_waitqueue_head(&target->posts_wait);
	mutex_init(&target->posts_wait_mutex);
	spin_lock_init(&target->verify_lock);
	INIT_LIST_HEAD(&target->verify_list);
	for (i = 0; i < DDI_VERIFY_ACTIVE; i++) {
		target->verify_workers[i].target = target;
		INIT_WORK(&target->verify_workers[i].work, verify_worker);
	}
}

/**
 * ddi_target_io_memory_bytes() - What the write path holds besides its posts.
 * @target: the target.
 *
 * The gather buffers: alloc_percpu() makes one for every possible CPU,
 * online or not.
 *
 * Return: their bytes; 0 before they are allocated.
 */
unsigned long ddi_target_io_memory_bytes(const struct ddi_target *target)
{
	if (!target->gather)
		return 0;
	return sizeof(struct ddi_block_buffer) * num_possible_cpus();
}

/**
 * ddi_target_io_verify_memory_bytes() - The most the reads of verify may hold.
 * @target: the target.
 *
 * Every check of advice runs on verify_wq, which runs at most
 * DDI_VERIFY_ACTIVE work items at once, and none holds more than
 * DDI_VERIFY_RUN_BLOCKS pages: a write's worker holds a page per block of
 * the run it reads, a scan post's check a single page. Each holds a 4 KiB
 * block but is a whole page, whatever the page size. The write's workers
 * are DDI_VERIFY_ACTIVE work items, none of which runs twice at once, so
 * they alone stay within this even where the workqueue lets each NUMA node
 * run a few items (WQ_DFL_MIN_ACTIVE): past two nodes, the scan's checks
 * may then hold a page each beside them. The bios the pages are read with
 * come from the block layer's shared bio set and are not counted.
 *
 * Return: that bound in bytes with verify on, else 0.
 */
unsigned long ddi_target_io_verify_memory_bytes(const struct ddi_target *target)
{
	if (!target->config.verify)
		return 0;
	return (unsigned long)DDI_VERIFY_ACTIVE * DDI_VERIFY_RUN_BLOCKS * PAGE_SIZE;
}

/* Runs on a zone thread: count the answer, never block. */
static void post_done(struct ddi_request *request)
{
	struct ddi_post *post = container_of(request, struct ddi_post, request);
	struct ddi_target *target = post->posts->target;

	/* A block rewritten with what it held is not a duplicate of itself. */
	if (request->status || !request->found ||
	    ddi_target_data_block(&request->old_data) == post->block) {
		put_posts(post->posts);
		return;
	}
	atomic64_inc(&target->stats.duplicate_advice);
	if (target->config.verify) {
		post->to_verify = true;
		atomic_inc(&post->posts->to_verify);
	}
	put_posts(post->posts);
}

/*
 * Hash @count blocks of the bio's data into posts @first onwards; @iter is
 * where post @first's block starts. A block inside one segment is hashed
 * in place; one split across segments is gathered into this CPU's buffer
 * first, with preemption off from its first byte to its hash. The bio's
 * own iterator is not used: once the bio is sent, the device moves it.
 */
static void hash_blocks(struct ddi_target *target, struct bio *bio, struct bvec_iter iter,
			struct ddi_write_posts *posts, u32 first, u32 count)
{
	struct ddi_block_buffer *gather = NULL;
	struct post_cursor cursor;
	struct bio_vec bv;
	u32 filled = 0, n = 0;

	cursor_seek(&cursor, posts, first);
	while (n < count && iter.bi_size) {
		u32 offset = 0;
		u8 *data;

		bv = bio_iter_iovec(bio, iter);
		data = kmap_local_page(bv.bv_page);
		while (offset < bv.bv_len && n < count) {
			u32 take = min(bv.bv_len - offset, (u32)DDI_BLOCK_SIZE - filled);

			if (filled == 0 && take == DDI_BLOCK_SIZE) {
				ddi_murmur3_128(data + bv.bv_offset + offset, DDI_BLOCK_SIZE, 0,
						cursor_next(&cursor)->request.name.bytes);
				n++;
			} else {
				if (!gather)
					gather = get_cpu_ptr(target->gather);
				memcpy(gather->bytes + filled, data + bv.bv_offset + offset, take);
				filled += take;
				if (filled == DDI_BLOCK_SIZE) {
					ddi_murmur3_128(gather->bytes, DDI_BLOCK_SIZE, 0,
							cursor_next(&cursor)->request.name.bytes);
					n++;
					filled = 0;
					put_cpu_ptr(target->gather);
					gather = NULL;
				}
			}
			offset += take;
		}
		kunmap_local(data);
		bio_advance_iter_single(bio, &iter, bv.bv_len);
	}
	/* The posts are of whole blocks: the last one gathered was hashed. */
	if (WARN_ON_ONCE(gather))
		put_cpu_ptr(target->gather);
}

static void launch_posts(struct ddi_write_posts *posts, bool succeeded);

/*
 * Drop one part of a write hashed on the workqueue. Return: whether it
 * was the last: then the posts are launched (or freed, if the write
 * failed) and are no longer the caller's.
 *
 * The full barrier of atomic_dec_and_test() on each side orders what a
 * part did before its decrement (the names it hashed; end_io's status and
 * its clearing of the bio's context) before whatever the last part does.
 */
static bool end_part(struct ddi_write_hashing *hashing)
{
	if (!atomic_dec_and_test(&hashing->parts))
		return false;
	launch_posts(hashing->posts, hashing->status == BLK_STS_OK);
	return true;
}

/* A piece of a write hashed on the workqueue; the last part ends the bio. */
static void hash_piece(struct work_struct *work)
{
	struct ddi_hash_piece *piece = container_of(work, struct ddi_hash_piece, work);
	struct ddi_write_hashing *hashing = piece->hashing;
	struct ddi_write_posts *posts = hashing->posts;
	struct bio *bio = hashing->bio;
	struct bvec_iter iter = hashing->iter;

	bio_advance_iter(bio, &iter, piece->first * DDI_BLOCK_SIZE);
	hash_blocks(posts->target, bio, iter, posts, piece->first, piece->count);
	/*
	 * The write ended first and end_io left the bio to us: end it again,
	 * and end_io, finding nothing left of the write, lets it complete.
	 * @hashing is the bio's: gone once it has completed.
	 */
	if (end_part(hashing))
		bio_endio(bio);
}

/* How many pieces a write of @count blocks is hashed in, on the workqueue. */
static u32 piece_count(u32 count)
{
	return clamp_t(u32, DIV_ROUND_UP(count, DDI_HASH_PIECE_BLOCKS), 1, DDI_HASH_PIECES);
}

/* Hand a write's blocks to the hash workqueue, in pieces of about equal size. */
static void queue_pieces(struct ddi_target *target, struct bio *bio, struct bvec_iter iter,
			 struct ddi_write_posts *posts, struct ddi_write_hashing *hashing)
{
	u32 i, pieces = piece_count(posts->count);
	u32 each = DIV_ROUND_UP(posts->count, pieces);

	posts->hashing = hashing;
	hashing->posts = posts;
	hashing->bio = bio;
	hashing->iter = iter;
	hashing->status = BLK_STS_OK;
	/* A piece may end before the next is queued: the write's part keeps @posts. */
	atomic_set(&hashing->parts, pieces + 1);
	for (i = 0; i < pieces; i++) {
		struct ddi_hash_piece *piece = &hashing->piece[i];

		piece->hashing = hashing;
		piece->first = i * each;
		piece->count = min(each, posts->count - piece->first);
		INIT_WORK(&piece->work, hash_piece);
		queue_work(target->hash_wq, &piece->work);
	}
}

/**
 * ddi_target_io_map_write() - Name the whole blocks of a write as it is mapped.
 * @target: the target.
 * @ti: its dm target.
 * @bio: a write with data, not yet remapped.
 * @hashing: the bio's per-bio state for hashing on the workqueue; it must
 *	last until the bio completes.
 *
 * Never waits. A write of up to DDI_HASH_INLINE_BLOCKS blocks is hashed
 * here; a larger one is hashed on the hash workqueue while it is written,
 * and ddi_target_io_end_write() tells end_io whether it may complete. A
 * write whose posts would take the posts in flight past the target's
 * bound, or that finds no memory for them at once, is not posted, and its
 * blocks are counted as skipped.
 *
 * Return: the posts for ddi_target_io_end_write(), or NULL if the write
 * has no whole block or is not posted.
 */
struct ddi_write_posts *ddi_target_io_map_write(struct ddi_target *target, struct dm_target *ti,
						struct bio *bio, struct ddi_write_hashing *hashing)
{
	sector_t start = dm_target_offset(ti, bio->bi_iter.bi_sector);
	sector_t end = start + bio_sectors(bio);
	u64 first = DIV_ROUND_UP_ULL(start, DDI_BLOCK_SECTORS);
	u64 last = end / DDI_BLOCK_SECTORS;
	struct ddi_write_posts *posts;
	struct post_cursor cursor;
	struct bvec_iter iter;
	unsigned long bytes;
	u32 i, count;

	if (last <= first)
		return NULL;
	count = last - first;
	bytes = ddi_target_io_posts_bytes(count);
	if (bytes > target->posts_limit)
		goto skip;
	/* One atomic a write: going past the bound at once is undone at once. */
	if (atomic_long_add_return(bytes, &target->posts_bytes) > target->posts_limit)
		goto uncharge;
	posts = alloc_posts(count);
	if (!posts)
		goto uncharge;
	posts->target = target;
	posts->bytes = bytes;
	posts->hashing = NULL;
	atomic_set(&posts->pending, count);
	atomic_set(&posts->to_verify, 0);
	cursor_start(&cursor, posts);
	for (i = 0; i < count; i++) {
		struct ddi_post *post = cursor_next(&cursor);

		post->posts = posts;
		post->block = first + i;
		post->to_verify = false;
		post->request = (struct ddi_request) {
			.type = DDI_POST,
			.callback = post_done,
		};
		ddi_target_block_to_data(&post->request.new_data, post->block);
	}
	iter = bio->bi_iter;
	bio_advance_iter(bio, &iter, (first * DDI_BLOCK_SECTORS - start) << SECTOR_SHIFT);
	if (count <= DDI_HASH_INLINE_BLOCKS)
		hash_blocks(target, bio, iter, posts, 0, count);
	else
		queue_pieces(target, bio, iter, posts, hashing);
	return posts;

uncharge:
	atomic_long_sub(bytes, &target->posts_bytes);
skip:
	atomic64_add(count, &target->stats.blocks_skipped);
	return NULL;
}

/* Post a write's names, or drop them if it failed. Never sleeps. */
static void launch_posts(struct ddi_write_posts *posts, bool succeeded)
{
	struct ddi_target *target = posts->target;
	u32 i, count = posts->count;
	struct post_cursor cursor;

	if (!succeeded) {
		free_posts(posts);
		return;
	}
	posts->epoch = READ_ONCE(target->posts_epoch);
	atomic64_inc(&target->stats.posts_in_flight[posts->epoch]);
	atomic64_add(count, &target->stats.blocks_indexed);
	/*
	 * The last answer may free @posts: read nothing from it after that.
	 * The cursor reads a chunk's header before launching its first post,
	 * so it is still there.
	 */
	cursor_start(&cursor, posts);
	for (i = 0; i < count; i++)
		ddi_index_launch(target->index, &cursor_next(&cursor)->request);
}

/**
 * ddi_target_io_end_write() - The write of ddi_target_io_map_write()'s posts ended.
 * @posts: its posts.
 * @status: how it ended.
 *
 * Called from end_io; never sleeps. The caller must have cleared what
 * leads a second end_io of the bio back to @posts: once this is called,
 * the hashing may end the bio again at any time.
 *
 * Return: true if the bio may complete: its posts are launched (or freed,
 * if it failed). False if its hashing goes on: end_io must return
 * DM_ENDIO_INCOMPLETE, and the bio is ended again once it is hashed.
 */
bool ddi_target_io_end_write(struct ddi_write_posts *posts, blk_status_t status)
{
	struct ddi_write_hashing *hashing = posts->hashing;

	if (!hashing) {
		launch_posts(posts, status == BLK_STS_OK);
		return true;
	}
	hashing->status = status;
	return end_part(hashing);
}

/**
 * ddi_target_io_wait_for_posts() - Wait until every post made so far has been
 * answered and verified.
 * @target: the target. Writes may go on completing: their posts are not
 *	waited for, so a steady stream of them cannot hold the wait up for
 *	ever. With no write in flight (suspended), this waits for all posts.
 */
void ddi_target_io_wait_for_posts(struct ddi_target *target)
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
 * ddi_target_io_query_name() - Ask the index about one name, changing no entry.
 * @target: the target.
 * @name: the name.
 * @found: set to whether the index knows it.
 * @block: set to its block, if found.
 *
 * The lookup neither adds nor refreshes the name; like every lookup, it
 * frees the slots of expired entries it meets, which no lookup could
 * find, so the index's entry count may drop.
 *
 * Return: the request's status.
 */
int ddi_target_io_query_name(struct ddi_target *target, const struct ddi_name *name, bool *found,
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
	*block = ddi_target_data_block(&query.request.old_data);
	return query.request.status;
}
