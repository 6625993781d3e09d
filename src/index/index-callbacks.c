// SPDX-License-Identifier: GPL-2.0-only
/*
 * The callback thread. A zone thread that has finished a request hands it
 * here instead of running its callback itself, so that what the caller does
 * with an answer (complete a bio, queue a verify, wake a poster) runs on
 * another CPU while the zone goes on with the next name. One thread serves
 * every zone: callbacks are short, and a request's answer stays ordered
 * after those of its zone that finished before it.
 */

#include <linux/kthread.h>
#include <linux/llist.h>
#include <linux/wait.h>

#include "index.h"

/*
 * Run a batch of callbacks, then drop each zone's in_flight by the number
 * of its requests that completed: one atomic a zone and batch rather than
 * one a request, on the line the zone's launchers write.
 */
static void run_batch(struct ddi_index *index, struct llist_node *batch)
{
	struct ddi_request *request, *next;
	unsigned int done[DDI_MAX_ZONES] = { 0 };
	unsigned int z;

	llist_for_each_entry_safe(request, next, batch, priv.zone_node) {
		/* After the callback the request may be gone: read its zone first. */
		done[request->priv.zone]++;
		request->callback(request);
	}
	for (z = 0; z < index->zone_count; z++) {
		/*
		 * Full barrier (value-returning atomic): every callback is
		 * done before a flush that sees in_flight at 0 returns.
		 */
		if (done[z] && atomic64_sub_return(done[z], &index->zones[z]->in_flight) == 0)
			wake_up_all(&index->flush_wait);
	}
}

static int callback_thread(void *arg)
{
	struct ddi_index *index = arg;
	struct ddi_index_callbacks *cb = &index->callbacks;

	for (;;) {
		struct llist_node *batch;

		wait_event_idle(cb->wait, !llist_empty(&cb->queue) || kthread_should_stop());
		/* llist_add pushes at the head: reverse to answer in order. */
		batch = llist_reverse_order(llist_del_all(&cb->queue));
		if (!batch && kthread_should_stop())
			return 0;
		run_batch(index, batch);
	}
}

/**
 * ddi_index_callbacks_queue() - Hand a finished request to the callback thread.
 * @index: the index.
 * @request: the request, with its answer and status set; the zone is done
 *	with it, so its zone_node is free to carry it here.
 *
 * Called by zone threads; never sleeps.
 */
void ddi_index_callbacks_queue(struct ddi_index *index, struct ddi_request *request)
{
	struct ddi_index_callbacks *cb = &index->callbacks;

	/*
	 * As for a zone's queue (see ddi_index_launch()): only the add that
	 * finds the queue empty wakes the thread, and llist_add()'s full
	 * barrier pairs with the one in wait_event_idle()'s
	 * set_current_state(), so the wake-up is not lost; it also publishes
	 * the request's answer to the callback thread.
	 */
	if (llist_add(&request->priv.zone_node, &cb->queue))
		wake_up(&cb->wait);
}

/**
 * ddi_index_callbacks_start() - Start the callback thread.
 * @index: the index.
 *
 * Return: 0 or a negative errno.
 */
int ddi_index_callbacks_start(struct ddi_index *index)
{
	struct ddi_index_callbacks *cb = &index->callbacks;
	struct task_struct *thread;

	init_llist_head(&cb->queue);
	init_waitqueue_head(&cb->wait);
	thread = kthread_run(callback_thread, index, "ddi-callback");
	if (IS_ERR(thread))
		return PTR_ERR(thread);
	cb->thread = thread;
	return 0;
}

/**
 * ddi_index_callbacks_stop() - Stop the callback thread.
 * @index: the index, whose zone threads have stopped; nothing more can be
 *	queued. Requests still queued are answered first.
 */
void ddi_index_callbacks_stop(struct ddi_index *index)
{
	struct ddi_index_callbacks *cb = &index->callbacks;

	if (!cb->thread)
		return;
	kthread_stop(cb->thread);
	cb->thread = NULL;
}
