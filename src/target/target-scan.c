// SPDX-License-Identifier: GPL-2.0-only
/*
 * The scan: a thread that reads the data device in 1 MiB chunks, in order,
 * and posts every whole 4 KiB block of it as if it had just been written
 * there, so that the index (and the target's counters) describe the data
 * already on the device. Two chunks are in hand: one being read while the
 * posts of the other are answered (and, with verify, checked).
 *
 * A block written while the scan has it in hand is not posted by the scan
 * (the rule of a write during the scan):
 *   - Before a chunk is read, its window opens, and the scan waits for
 *     every write mapped before that (write epochs, below): the read sees
 *     their data.
 *   - A write mapped while the window is open marks its blocks in it.
 *   - The scan launches the post of a block only if it is not marked, and
 *     does so under the window lock, so a write mapped after the test is
 *     also mapped after the launch, and its post comes later.
 * So the scan never posts content older than a write already posted for
 * the same block: a block written during its read is posted by the write
 * alone (if the write covers it whole) and counted in scan_blocks_written.
 * A block written ahead of the scan is posted again when the scan reaches
 * it, with the content written; that post finds the block itself, which is
 * no duplicate.
 *
 * The scan saves the index at every tenth of its range and at its end, so
 * a crash resumes it from at most a tenth back.
 *
 * Foreground I/O goes first: before each chunk, the scan waits (up to
 * SCAN_YIELD_MS) for SCAN_QUIET_MS without a bio mapped, its reads are of
 * the idle I/O class, and scan_rate caps it.
 *
 * The scanner (the chunks, about 2.1 MiB) is the thread's from the moment
 * it runs, and the thread frees it as soon as it reads no more (the scan
 * done, failed or stopped), once every post of both chunks is answered
 * and checked, and before it tells anyone the scan is done or failed. The
 * thread itself lingers until kthread_stop(), but a table whose scan has
 * ended holds none of its buffers. Nothing touches a chunk once its
 * answered completion is done: that is the last thing put_post() does
 * (from a zone thread, which touches no request after its callback, or
 * from a verify work item, whose memory the workqueue lets go as its
 * function starts); a chunk's read is waited for before its posts are
 * launched, and no read is started once the scan stops reading.
 */

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/delay.h>
#include <linux/device-mapper.h>
#include <linux/highmem.h>
#include <linux/ioprio.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "murmur3.h"
#include "target.h"

#define DM_MSG_PREFIX "dedup-index"

#define SCAN_CHUNK_BYTES (DDI_SCAN_CHUNK_BLOCKS * DDI_BLOCK_SIZE)
#define SCAN_CHUNK_PAGES DIV_ROUND_UP(SCAN_CHUNK_BYTES, PAGE_SIZE)
#define SCAN_BLOCKS_PER_PAGE (PAGE_SIZE / DDI_BLOCK_SIZE)
/* A device used more often than this gets a chunk per SCAN_YIELD_MS. */
#define SCAN_QUIET_MS 10
#define SCAN_YIELD_MS 100
/* Blocks launched per hold of the window lock. */
#define SCAN_LAUNCH_BATCH 16

struct scan_post {
	struct ddi_request request;
	struct scan_chunk *chunk;
	struct work_struct verify_work;
	u64 block;
};

struct scan_chunk {
	struct ddi_scanner *scanner;
	/* Which of the target's scan windows is this chunk's. */
	unsigned int window;
	u64 first;
	u32 count;
	struct bio bio;
	struct bio_vec bvecs[SCAN_CHUNK_PAGES];
	struct page *pages[SCAN_CHUNK_PAGES];
	struct completion read_done;
	blk_status_t status;
	/* Posts not answered yet, plus one until all are launched. */
	atomic_t pending;
	struct completion answered;
	atomic_t duplicates;
	u32 posted;
	u32 written;
	struct scan_post posts[DDI_SCAN_CHUNK_BLOCKS];
};

struct ddi_scanner {
	struct ddi_target *target;
	struct scan_chunk *chunks[2];
	/* What the allocators gave for all of it, counted in target->scan_bytes. */
	unsigned long bytes;
};

/*
 * This run of the scan thread, on its stack, as it outlives the scanner:
 * when it started, blocks it read, the last tenth logged.
 */
struct scan_run {
	ktime_t started;
	u64 blocks;
	u64 decile;
};

/* What a chunk whose posts are all answered adds to the scan's progress. */
struct chunk_tally {
	u64 end;
	u32 count;
	u32 posted;
	u32 written;
	u32 duplicates;
};

static void free_chunk(struct scan_chunk *chunk)
{
	unsigned int i;

	if (!chunk)
		return;
	for (i = 0; i < SCAN_CHUNK_PAGES; i++) {
		if (chunk->pages[i])
			__free_page(chunk->pages[i]);
	}
	kvfree(chunk);
}

static void free_scanner(struct ddi_scanner *scanner)
{
	free_chunk(scanner->chunks[0]);
	free_chunk(scanner->chunks[1]);
	kfree(scanner);
}

/*
 * What kvzalloc() took for @size bytes at @p: a kmalloc() bucket (whole
 * pages to the next power of two, past the largest slab cache), or the
 * pages vmalloc() rounds it up to.
 */
static size_t kv_bytes(const void *p, size_t size)
{
	return is_vmalloc_addr(p) ? PAGE_ALIGN(size) : kmalloc_size_roundup(size);
}

/*
 * About 2.1 MiB a scanning table: two chunks of data and their posts (a
 * chunk's posts, bio and page list, under 64 KiB even with lock
 * debugging, take a 64 KiB allocation). What it really takes is counted
 * in scan_bytes until release_scanner().
 */
static struct ddi_scanner *alloc_scanner(struct ddi_target *target)
{
	struct ddi_scanner *scanner = kzalloc(sizeof(*scanner), GFP_KERNEL);
	unsigned int c, i;

	if (!scanner)
		return NULL;
	scanner->target = target;
	scanner->bytes = kmalloc_size_roundup(sizeof(*scanner));
	for (c = 0; c < 2; c++) {
		struct scan_chunk *chunk = kvzalloc(sizeof(*chunk), GFP_KERNEL);

		if (!chunk)
			goto fail;
		scanner->chunks[c] = chunk;
		chunk->scanner = scanner;
		chunk->window = c;
		for (i = 0; i < SCAN_CHUNK_PAGES; i++) {
			chunk->pages[i] = alloc_page(GFP_KERNEL);
			if (!chunk->pages[i])
				goto fail;
		}
		scanner->bytes += kv_bytes(chunk, sizeof(*chunk)) + SCAN_CHUNK_PAGES * PAGE_SIZE;
	}
	atomic_long_add(scanner->bytes, &target->scan_bytes);
	return scanner;
fail:
	free_scanner(scanner);
	return NULL;
}

/* Free a scanner alloc_scanner() made, and stop counting it. */
static void release_scanner(struct ddi_scanner *scanner)
{
	atomic_long_sub(scanner->bytes, &scanner->target->scan_bytes);
	free_scanner(scanner);
}

/* Whether any window is open; map reads it without the lock. */
static void update_windows_open(struct ddi_target *target)
{
	lockdep_assert_held(&target->window_lock);
	WRITE_ONCE(target->windows_open,
		   target->windows[0].count || target->windows[1].count);
}

/*
 * Open a chunk's window, then wait for the writes mapped before it. The
 * full barrier orders the window's opening before the epoch flip and the
 * reads of the counts of writes in flight; it pairs with the one in
 * ddi_target_scan_map() between counting a write and looking at the
 * windows. Either the scan sees the write counted and waits for it, or the
 * write sees the window and marks its blocks.
 */
static void open_window(struct ddi_target *target, struct scan_chunk *chunk)
{
	struct ddi_scan_window *window = &target->windows[chunk->window];
	unsigned int old;

	spin_lock_irq(&target->window_lock);
	bitmap_zero(window->written, DDI_SCAN_CHUNK_BLOCKS);
	window->first = chunk->first;
	window->count = chunk->count;
	update_windows_open(target);
	spin_unlock_irq(&target->window_lock);
	/* Open, then flip: pairs with smp_mb__after_atomic() in ddi_target_scan_map(). */
	smp_mb();
	/*
	 * Only this thread flips the epoch. Writes counted in the old one
	 * were mapped before the window opened, or saw it; new writes count
	 * in the other, so the old count can only fall.
	 */
	old = target->write_epoch;
	WRITE_ONCE(target->write_epoch, !old);
	/* Flip, then read the old count: a write that read the old epoch is in it. */
	smp_mb();
	wait_event(target->scan_wait, !atomic_read(&target->writes_in_flight[old]));
}

static void close_window(struct ddi_target *target, struct scan_chunk *chunk)
{
	spin_lock_irq(&target->window_lock);
	target->windows[chunk->window].count = 0;
	update_windows_open(target);
	spin_unlock_irq(&target->window_lock);
}

/**
 * ddi_target_scan_map() - Count a bio that changes data, and mark it in the
 * scan's windows.
 * @target: the target.
 * @bio: a bio being mapped; only those with sectors that change data count.
 *
 * Also notes that the device is in use, which the scan yields to.
 *
 * Return: the write epoch the bio counts in, for ddi_target_scan_end_io(),
 * or -1 if it does not count.
 */
int ddi_target_scan_map(struct ddi_target *target, struct bio *bio)
{
	unsigned long now = jiffies;
	unsigned int epoch;
	unsigned long flags;
	u64 first, last;
	unsigned int w;

	if (!bio_sectors(bio))
		return -1;
	if (READ_ONCE(target->last_io) != now)
		WRITE_ONCE(target->last_io, now);
	if (!op_is_write(bio_op(bio)))
		return -1;
	epoch = READ_ONCE(target->write_epoch);
	atomic_inc(&target->writes_in_flight[epoch]);
	/* Pairs with the barrier in open_window(): count, then look. */
	smp_mb__after_atomic();
	if (!READ_ONCE(target->windows_open))
		return epoch;

	/* Every block the bio touches, whole or in part. */
	first = bio->bi_iter.bi_sector / DDI_BLOCK_SECTORS;
	last = (bio_end_sector(bio) - 1) / DDI_BLOCK_SECTORS;
	spin_lock_irqsave(&target->window_lock, flags);
	for (w = 0; w < ARRAY_SIZE(target->windows); w++) {
		struct ddi_scan_window *window = &target->windows[w];
		u64 from = max(first, window->first);
		u64 to = min(last + 1, window->first + window->count);

		if (window->count && from < to)
			bitmap_set(window->written, from - window->first, to - from);
	}
	spin_unlock_irqrestore(&target->window_lock, flags);
	return epoch;
}

/**
 * ddi_target_scan_end_io() - A bio counted by ddi_target_scan_map() is done.
 * @target: the target.
 * @epoch: what ddi_target_scan_map() returned for it.
 */
void ddi_target_scan_end_io(struct ddi_target *target, int epoch)
{
	if (epoch < 0)
		return;
	/* wq_has_sleeper() has the barrier the waiter's check pairs with. */
	if (atomic_dec_and_test(&target->writes_in_flight[epoch]) &&
	    wq_has_sleeper(&target->scan_wait))
		wake_up(&target->scan_wait);
}

static void read_done(struct bio *bio)
{
	struct scan_chunk *chunk = bio->bi_private;

	chunk->status = bio->bi_status;
	complete(&chunk->read_done);
}

static void start_read(struct ddi_target *target, struct scan_chunk *chunk, u64 first, u64 end)
{
	u32 bytes, i;

	chunk->first = first;
	chunk->count = min_t(u64, end - first, DDI_SCAN_CHUNK_BLOCKS);
	open_window(target, chunk);

	init_completion(&chunk->read_done);
	bio_init(&chunk->bio, target->data->bdev, chunk->bvecs, SCAN_CHUNK_PAGES, REQ_OP_READ);
	chunk->bio.bi_iter.bi_sector = first * DDI_BLOCK_SECTORS;
	chunk->bio.bi_ioprio = IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 0);
	chunk->bio.bi_end_io = read_done;
	chunk->bio.bi_private = chunk;
	bytes = chunk->count * DDI_BLOCK_SIZE;
	for (i = 0; bytes; i++) {
		u32 len = min_t(u32, bytes, PAGE_SIZE);

		__bio_add_page(&chunk->bio, chunk->pages[i], len, 0);
		bytes -= len;
	}
	submit_bio(&chunk->bio);
}

static void put_post(struct scan_chunk *chunk)
{
	if (atomic_dec_and_test(&chunk->pending))
		complete(&chunk->answered);
}

/*
 * With verify, advice to the scan is checked as a write's is; only advice
 * that holds counts as a duplicate of the scan. The chunk is answered once
 * its checks are done too.
 */
static void verify_advice(struct work_struct *work)
{
	struct scan_post *post = container_of(work, struct scan_post, verify_work);
	struct scan_chunk *chunk = post->chunk;
	struct ddi_target *target = chunk->scanner->target;

	if (ddi_target_io_advice_holds(target, ddi_target_data_block(&post->request.old_data),
				       &post->request.name)) {
		atomic_inc(&chunk->duplicates);
		atomic64_inc(&target->stats.verified_duplicates);
	} else {
		atomic64_inc(&target->stats.stale_advice);
	}
	put_post(chunk);
}

/* Runs on a zone thread: count the answer, never block. */
static void post_done(struct ddi_request *request)
{
	struct scan_post *post = container_of(request, struct scan_post, request);
	struct scan_chunk *chunk = post->chunk;
	struct ddi_target *target = chunk->scanner->target;

	/* As for a write: a block found as itself is no duplicate. */
	if (!request->status && request->found &&
	    ddi_target_data_block(&request->old_data) != post->block) {
		atomic64_inc(&target->stats.duplicate_advice);
		if (target->config.verify) {
			INIT_WORK(&post->verify_work, verify_advice);
			queue_work(target->verify_wq, &post->verify_work);
			return;
		}
		atomic_inc(&chunk->duplicates);
	}
	put_post(chunk);
}

/* Name every block of a chunk just read. */
static void hash_chunk(struct scan_chunk *chunk)
{
	u32 i;

	for (i = 0; i < chunk->count; i++) {
		struct scan_post *post = &chunk->posts[i];
		u8 *data = kmap_local_page(chunk->pages[i / SCAN_BLOCKS_PER_PAGE]);

		post->chunk = chunk;
		post->block = chunk->first + i;
		post->request = (struct ddi_request) {
			.type = DDI_POST,
			.callback = post_done,
		};
		ddi_target_block_to_data(&post->request.new_data, post->block);
		ddi_murmur3_128(data + (i % SCAN_BLOCKS_PER_PAGE) * DDI_BLOCK_SIZE,
				DDI_BLOCK_SIZE, 0, post->request.name.bytes);
		kunmap_local(data);
		cond_resched();
	}
}

/* Launch the posts of the blocks no write marked; see the file comment. */
static void launch_chunk(struct ddi_target *target, struct scan_chunk *chunk)
{
	struct ddi_scan_window *window = &target->windows[chunk->window];
	u32 i = 0;

	chunk->posted = 0;
	chunk->written = 0;
	atomic_set(&chunk->duplicates, 0);
	atomic_set(&chunk->pending, 1);
	init_completion(&chunk->answered);
	while (i < chunk->count) {
		u32 end = min_t(u32, i + SCAN_LAUNCH_BATCH, chunk->count);

		spin_lock_irq(&target->window_lock);
		for (; i < end; i++) {
			if (test_bit(i, window->written)) {
				chunk->written++;
				continue;
			}
			chunk->posted++;
			atomic_inc(&chunk->pending);
			/* Counted before launched, as gather() in target-status.c expects. */
			atomic64_inc(&target->stats.blocks_indexed);
			ddi_index_launch(target->index, &chunk->posts[i].request);
		}
		spin_unlock_irq(&target->window_lock);
	}
	close_window(target, chunk);
	put_post(chunk);
}

static u64 rate_mib_s(u64 blocks, ktime_t started)
{
	u64 us = max_t(s64, ktime_us_delta(ktime_get(), started), 1);

	return div64_u64(blocks * DDI_BLOCK_SIZE, us) * USEC_PER_SEC / SZ_1M;
}

/* Take a chunk's counts, so that it may be freed before they are retired. */
static void tally_chunk(const struct scan_chunk *chunk, struct chunk_tally *tally)
{
	*tally = (struct chunk_tally) {
		.end = chunk->first + chunk->count,
		.count = chunk->count,
		.posted = chunk->posted,
		.written = chunk->written,
		.duplicates = atomic_read(&chunk->duplicates),
	};
}

/* Move the position past a chunk whose posts are all answered. */
static void retire_chunk(struct ddi_target *target, struct scan_run *run,
			 const struct chunk_tally *tally)
{
	struct ddi_scan_progress p;
	u64 decile;

	spin_lock_irq(&target->scan_state->lock);
	p = target->scan_state->progress;
	p.done = tally->end;
	p.posted += tally->posted;
	p.written += tally->written;
	p.duplicates += tally->duplicates;
	if (p.done == p.end)
		p.phase = DDI_SCAN_DONE;
	target->scan_state->progress = p;
	spin_unlock_irq(&target->scan_state->lock);

	run->blocks += tally->count;
	decile = div64_u64((p.done - p.first) * 10, p.end - p.first);
	if (p.phase == DDI_SCAN_DONE) {
		char ratio[24];

		ddi_target_status_ratio(p.posted, p.duplicates, ratio, sizeof(ratio));
		DMINFO("%s: scan done: blocks %llu..%llu, %llu MiB/s", target->data->name,
		       p.first, p.end, rate_mib_s(run->blocks, run->started));
		DMINFO("%s: scan: %llu posted, %llu duplicates (ratio %s), %llu written meanwhile",
		       target->data->name, p.posted, p.duplicates, ratio, p.written);
	} else if (decile > run->decile) {
		DMINFO("%s: scan %llu0%%: block %llu of %llu..%llu, %llu duplicates; %llu MiB/s",
		       target->data->name, decile, p.done, p.first, p.end, p.duplicates,
		       rate_mib_s(run->blocks, run->started));
	}
	/* A crash loses at most a tenth of the scan (and of the writes meanwhile). */
	if (decile > run->decile || p.phase == DDI_SCAN_DONE)
		ddi_index_save(target->index);
	run->decile = decile;
}

/* Sleep for @ms, or until told to stop. */
static void scan_sleep(unsigned int ms)
{
	set_current_state(TASK_INTERRUPTIBLE);
	if (!kthread_should_stop())
		schedule_timeout(msecs_to_jiffies(ms));
	__set_current_state(TASK_RUNNING);
}

/* Let foreground I/O go first; keep under scan_rate. */
static void scan_pace(struct ddi_target *target, const struct scan_run *run)
{
	unsigned long give_up = jiffies + msecs_to_jiffies(SCAN_YIELD_MS);
	unsigned int rate = target->config.scan_rate_mib;

	while (!kthread_should_stop() && time_before(jiffies, give_up) &&
	       time_before(jiffies, READ_ONCE(target->last_io) +
			   msecs_to_jiffies(SCAN_QUIET_MS)))
		scan_sleep(SCAN_QUIET_MS / 2);
	while (rate && !kthread_should_stop()) {
		/* Microseconds the blocks read so far may take at the rate. */
		u64 due = div_u64(run->blocks * DDI_BLOCK_SIZE * USEC_PER_SEC, rate * SZ_1M);
		s64 ahead = (s64)due - ktime_us_delta(ktime_get(), run->started);

		if (ahead <= 0)
			break;
		scan_sleep(min_t(s64, DIV_ROUND_UP(ahead, USEC_PER_MSEC), MSEC_PER_SEC));
	}
}

/* Record that the scan stopped on an error; the admin may resume it. */
static void scan_failed(struct ddi_target *target, u64 block, int error)
{
	spin_lock_irq(&target->scan_state->lock);
	target->scan_state->progress.phase = DDI_SCAN_FAILED;
	target->scan_state->progress.error = error;
	spin_unlock_irq(&target->scan_state->lock);
	DMERR("%s: scan stopped: reading block %llu failed: %d; \"scan\" resumes it",
	      target->data->name, block, error);
}

/*
 * The scan reads no more and every post of its chunks is answered: free
 * the scanner now rather than when the thread is stopped, so that a table
 * whose scan has ended holds none of it (see the file comment). The thread
 * clears target->scanner, which stop_scan_thread() reads only once the
 * thread has exited, to free a scanner whose thread never ran.
 */
static void end_reading(struct ddi_target *target, struct ddi_scanner **scanner)
{
	target->scanner = NULL;
	release_scanner(*scanner);
	*scanner = NULL;
}

static int scan_thread(void *arg)
{
	struct ddi_scanner *scanner = arg;
	struct ddi_target *target = scanner->target;
	struct scan_chunk *chunk = scanner->chunks[0];
	struct ddi_scan_progress p;
	struct chunk_tally tally;
	struct scan_run run;
	bool reading;

	ddi_scan_state_get(target->scan_state, &p);
	run.started = ktime_get();
	run.blocks = 0;
	run.decile = div64_u64((p.done - p.first) * 10, max(p.end - p.first, 1ULL));
	DMINFO("%s: scan %s at block %llu of %llu..%llu", target->data->name,
	       p.done == p.first ? "started" : "resumed", p.done, p.first, p.end);
	reading = p.done < p.end;
	if (reading)
		start_read(target, chunk, p.done, p.end);
	while (reading) {
		struct scan_chunk *next = scanner->chunks[chunk == scanner->chunks[0]];
		u64 after = chunk->first + chunk->count;

		wait_for_completion(&chunk->read_done);
		bio_uninit(&chunk->bio);
		if (chunk->status) {
			u64 first = chunk->first;
			int error = blk_status_to_errno(chunk->status);

			/* The other chunk was retired last time round: both are idle. */
			close_window(target, chunk);
			end_reading(target, &scanner);
			scan_failed(target, first, error);
			break;
		}
		hash_chunk(chunk);
		/*
		 * Launched before pacing, so that the window, which costs the
		 * blocks of writes that fall into it, is not kept open while
		 * the scan sleeps; the next read goes on while the posts of
		 * this chunk are answered.
		 */
		launch_chunk(target, chunk);
		reading = after < p.end && !kthread_should_stop();
		if (reading) {
			scan_pace(target, &run);
			reading = !kthread_should_stop();
		}
		if (reading)
			start_read(target, next, after, p.end);
		wait_for_completion(&chunk->answered);
		tally_chunk(chunk, &tally);
		/* The last chunk: freed before the scan may be seen done. */
		if (!reading)
			end_reading(target, &scanner);
		retire_chunk(target, &run, &tally);
		chunk = next;
	}
	/* A saved scan with nothing left to read: no chunk was read. */
	if (scanner)
		end_reading(target, &scanner);
	/* kthread_stop() needs the thread until it is called. */
	while (!kthread_should_stop())
		scan_sleep(MSEC_PER_SEC);
	return 0;
}

/*
 * Claim the scan for this table: to change it, or to run its thread. Two
 * live devices on one index (the same data_dev and index_dev twice) share
 * its scan; the one holding the claim alone may touch it.
 */
static bool claim_scan(struct ddi_target *target)
{
	bool claimed;

	spin_lock_irq(&target->scan_state->lock);
	claimed = !target->scan_state->busy;
	target->scan_state->busy = true;
	spin_unlock_irq(&target->scan_state->lock);
	return claimed;
}

static void unclaim_scan(struct ddi_target *target)
{
	spin_lock_irq(&target->scan_state->lock);
	target->scan_state->busy = false;
	spin_unlock_irq(&target->scan_state->lock);
}

/*
 * Stop the scan thread, if one runs; its chunks are retired and the
 * scanner freed first, by the thread. A thread stopped before it ran never
 * called scan_thread(), and left its scanner here.
 */
static void stop_scan_thread(struct ddi_target *target)
{
	lockdep_assert_held(&target->scan_mutex);
	if (!target->scan_task)
		return;
	kthread_stop(target->scan_task);
	if (target->scanner)
		release_scanner(target->scanner);
	target->scan_task = NULL;
	target->scanner = NULL;
	unclaim_scan(target);
}

/*
 * Start the thread of the scan this table has claimed, if the scan is
 * running and the table live. Otherwise, or if the thread cannot start,
 * the claim goes: it is held exactly while a thread runs.
 */
static int start_claimed(struct ddi_target *target)
{
	struct ddi_scan_progress p;
	struct task_struct *task;
	int ret = 0;

	lockdep_assert_held(&target->scan_mutex);
	ddi_scan_state_get(target->scan_state, &p);
	if (target->suspended || p.phase != DDI_SCAN_RUNNING)
		goto unclaim;
	if (p.end > target->blocks) {
		DMERR("%s: the saved scan ends past the table (block %llu of %llu): scan again",
		      target->data->name, p.end, target->blocks);
		p.phase = DDI_SCAN_FAILED;
		p.error = -ERANGE;
		ddi_scan_state_set(target->scan_state, &p);
		ret = -ERANGE;
		goto unclaim;
	}
	target->scanner = alloc_scanner(target);
	task = target->scanner ? kthread_run(scan_thread, target->scanner, "ddi-scan") :
				 ERR_PTR(-ENOMEM);
	if (IS_ERR(task)) {
		if (target->scanner)
			release_scanner(target->scanner);
		target->scanner = NULL;
		DMERR("%s: no memory to scan with", target->data->name);
		ret = -ENOMEM;
		goto unclaim;
	}
	target->scan_task = task;
	return 0;

unclaim:
	unclaim_scan(target);
	return ret;
}

/**
 * ddi_target_scan_init() - Set up a new table's side of the scan.
 * @target: the target, its index open.
 * @blocks: the whole blocks the table maps.
 */
void ddi_target_scan_init(struct ddi_target *target, u64 blocks)
{
	mutex_init(&target->scan_mutex);
	spin_lock_init(&target->window_lock);
	init_waitqueue_head(&target->scan_wait);
	target->blocks = min_t(u64, blocks, DDI_SCAN_MAX_BLOCKS);
	target->scan_state = ddi_target_registry_scan(target->shared);
	/* Not live until resumed. */
	target->suspended = true;
}

/**
 * ddi_target_scan_resume() - The table is live: go on with a running scan.
 * @target: the target.
 */
void ddi_target_scan_resume(struct ddi_target *target)
{
	mutex_lock(&target->scan_mutex);
	target->suspended = false;
	/* A scan another device on this index runs is left to it. */
	if (!target->scan_task && claim_scan(target))
		start_claimed(target);
	mutex_unlock(&target->scan_mutex);
}

/**
 * ddi_target_scan_suspend() - Stop the scan thread; the scan stays running.
 * @target: the target.
 *
 * On return no scan post is in flight, and a save records where the scan
 * is; the next resume (of this table or the next one) goes on from there.
 */
void ddi_target_scan_suspend(struct ddi_target *target)
{
	mutex_lock(&target->scan_mutex);
	target->suspended = true;
	stop_scan_thread(target);
	mutex_unlock(&target->scan_mutex);
}

/* "scan [<first_block> [<count>]]": the new range, or -EINVAL. */
static int parse_range(struct ddi_target *target, unsigned int argc, char **argv,
		       struct ddi_scan_progress *p)
{
	u64 first = 0, count = 0;

	if (argc > 1 && kstrtou64(argv[1], 10, &first))
		return -EINVAL;
	if (argc > 2 && (kstrtou64(argv[2], 10, &count) || !count))
		return -EINVAL;
	if (first >= target->blocks)
		return -EINVAL;
	if (!count || count > target->blocks - first)
		count = target->blocks - first;
	*p = (struct ddi_scan_progress) {
		.phase = DDI_SCAN_RUNNING,
		.first = first,
		.end = first + count,
		.done = first,
	};
	return 0;
}

/**
 * ddi_target_scan_message() - Handle "scan", "scan <first> [<count>]" and
 * "scan stop".
 * @target: the target.
 * @argc: argument count, at least 1.
 * @argv: the arguments, argv[0] being "scan".
 *
 * "scan" alone resumes a scan that was stopped, failed or cut off, and
 * starts one over the whole device if there is none or the last is done;
 * with a range it starts a new scan of that range. A table that is
 * suspended starts scanning when resumed.
 *
 * Return: 0, -EINVAL for a bad range, -EBUSY if another device on the
 * same index is scanning it, or why the scan could not start.
 */
int ddi_target_scan_message(struct ddi_target *target, unsigned int argc, char **argv)
{
	struct ddi_scan_progress p;
	int ret = 0;

	if (argc > 3)
		return -EINVAL;
	mutex_lock(&target->scan_mutex);
	stop_scan_thread(target);
	/* Only the device holding the claim may change the scan. */
	if (!claim_scan(target)) {
		DMERR("%s: another device on this index is scanning it", target->data->name);
		ret = -EBUSY;
		goto out;
	}
	ddi_scan_state_get(target->scan_state, &p);
	if (argc == 2 && !strcasecmp(argv[1], "stop")) {
		if (p.phase == DDI_SCAN_RUNNING) {
			p.phase = DDI_SCAN_PAUSED;
			DMINFO("%s: scan stopped at block %llu of %llu..%llu",
			       target->data->name, p.done, p.first, p.end);
		}
	} else if (argc > 1 || p.phase == DDI_SCAN_NONE || p.phase == DDI_SCAN_DONE ||
		   p.end > target->blocks) {
		ret = parse_range(target, argc, argv, &p);
		if (ret)
			DMWARN("scan needs a first block below %llu and a count above 0",
			       target->blocks);
	} else {
		p.phase = DDI_SCAN_RUNNING;
		p.error = 0;
	}
	if (!ret)
		ddi_scan_state_set(target->scan_state, &p);
	/* Lets the claim go unless a thread now runs the scan. */
	if (ret)
		unclaim_scan(target);
	else
		ret = start_claimed(target);
out:
	mutex_unlock(&target->scan_mutex);
	return ret;
}

/**
 * ddi_target_scan_memory_bytes() - The memory the table's scanner holds.
 * @target: the target.
 *
 * Context: any; takes no lock.
 * Return: the bytes the scanner's chunks and their pages took from the
 * allocators, or 0 while the table has no scanner. The scan thread's
 * stack is not counted.
 */
unsigned long ddi_target_scan_memory_bytes(struct ddi_target *target)
{
	return atomic_long_read(&target->scan_bytes);
}

/**
 * ddi_target_scan_exit() - A table goes: stop its scan thread if it runs.
 * @target: the target.
 */
void ddi_target_scan_exit(struct ddi_target *target)
{
	mutex_lock(&target->scan_mutex);
	stop_scan_thread(target);
	mutex_unlock(&target->scan_mutex);
}
