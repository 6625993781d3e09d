// SPDX-License-Identifier: GPL-2.0-only
/*
 * Where a scan of the data device stands, and how that is kept in the
 * index's saves. The state belongs to the shared index, not to a table: a
 * reload hands it to the new table, which goes on from where the old one
 * stopped, and every save of the index records it, so a crash resumes the
 * scan from the last save.
 *
 * The position saved is that of the blocks whose posts were all answered
 * before the save paused the zones: those posts are in the saved state, or
 * in chapters written after it. Posts answered after the position (a chunk
 * in flight) are in the index too but not in the position; after a crash
 * they are scanned again, and each then finds itself, which is not a
 * duplicate, or an earlier copy, which is: the counts come out the same.
 */

#include <linux/crc32.h>
#include <linux/device-mapper.h>
#include <linux/spinlock.h>
#include <linux/unaligned.h>

#include "target.h"

#define DM_MSG_PREFIX "dedup-index"

/* The scan state in a save's client bytes, little-endian. */
enum {
	SCAN_MAGIC = 0x314e4353, /* "SCN1" */
	SCAN_AT_MAGIC = 0,
	SCAN_AT_PHASE = 4,
	SCAN_AT_FIRST = 8,
	SCAN_AT_END = 16,
	SCAN_AT_DONE = 24,
	SCAN_AT_POSTED = 32,
	SCAN_AT_DUPLICATES = 40,
	SCAN_AT_WRITTEN = 48,
	SCAN_AT_CRC = DDI_CLIENT_STATE_BYTES - sizeof(u32),
};

static_assert(SCAN_AT_WRITTEN + sizeof(u64) <= SCAN_AT_CRC);

/**
 * ddi_scan_state_encode() - Put a scan's progress into a save's client bytes.
 * @progress: the progress to keep.
 * @state: where to put it. A scan never started leaves it all zero.
 */
void ddi_scan_state_encode(const struct ddi_scan_progress *progress,
			   struct ddi_client_state *state)
{
	u8 *b = state->bytes;
	/* A failed scan goes on when asked to, as a paused one does. */
	enum ddi_scan_phase phase = progress->phase == DDI_SCAN_FAILED ?
				    DDI_SCAN_PAUSED : progress->phase;

	memset(state, 0, sizeof(*state));
	if (phase == DDI_SCAN_NONE)
		return;
	put_unaligned_le32(SCAN_MAGIC, b + SCAN_AT_MAGIC);
	put_unaligned_le32(phase, b + SCAN_AT_PHASE);
	put_unaligned_le64(progress->first, b + SCAN_AT_FIRST);
	put_unaligned_le64(progress->end, b + SCAN_AT_END);
	put_unaligned_le64(progress->done, b + SCAN_AT_DONE);
	put_unaligned_le64(progress->posted, b + SCAN_AT_POSTED);
	put_unaligned_le64(progress->duplicates, b + SCAN_AT_DUPLICATES);
	put_unaligned_le64(progress->written, b + SCAN_AT_WRITTEN);
	put_unaligned_le32(crc32_le(~0, b, SCAN_AT_CRC), b + SCAN_AT_CRC);
}

/**
 * ddi_scan_state_decode() - Read a scan's progress from a save's client bytes.
 * @state: the client bytes of the save the index was opened from.
 * @progress: set to the scan's progress; no scan if the bytes hold none.
 *
 * Bytes that are not all zero and not a whole, consistent scan state are
 * refused: the scan is forgotten rather than resumed at a crafted place.
 *
 * Return: 0, or -EBADMSG if the bytes were refused.
 */
int ddi_scan_state_decode(const struct ddi_client_state *state,
			  struct ddi_scan_progress *progress)
{
	const u8 *b = state->bytes;
	struct ddi_scan_progress p = {};
	u64 seen;

	memset(progress, 0, sizeof(*progress));
	if (!memchr_inv(b, 0, sizeof(state->bytes)))
		return 0;
	if (get_unaligned_le32(b + SCAN_AT_MAGIC) != SCAN_MAGIC ||
	    get_unaligned_le32(b + SCAN_AT_CRC) != crc32_le(~0, b, SCAN_AT_CRC))
		return -EBADMSG;
	p.phase = get_unaligned_le32(b + SCAN_AT_PHASE);
	p.first = get_unaligned_le64(b + SCAN_AT_FIRST);
	p.end = get_unaligned_le64(b + SCAN_AT_END);
	p.done = get_unaligned_le64(b + SCAN_AT_DONE);
	p.posted = get_unaligned_le64(b + SCAN_AT_POSTED);
	p.duplicates = get_unaligned_le64(b + SCAN_AT_DUPLICATES);
	p.written = get_unaligned_le64(b + SCAN_AT_WRITTEN);
	if (p.phase != DDI_SCAN_RUNNING && p.phase != DDI_SCAN_PAUSED &&
	    p.phase != DDI_SCAN_DONE)
		return -EBADMSG;
	/* Every block behind the position was posted or skipped, once. */
	if (p.first > p.done || p.done > p.end || p.end > DDI_SCAN_MAX_BLOCKS ||
	    check_add_overflow(p.posted, p.written, &seen) || seen != p.done - p.first ||
	    p.duplicates > p.posted || (p.phase == DDI_SCAN_DONE && p.done != p.end))
		return -EBADMSG;
	*progress = p;
	return 0;
}

/* Called by every save of the index, its zones paused: no answer moves it. */
static void fill_save(void *context, struct ddi_client_state *state)
{
	struct ddi_scan_state *scan = context;
	struct ddi_scan_progress progress;

	ddi_scan_state_get(scan, &progress);
	ddi_scan_state_encode(&progress, state);
}

/**
 * ddi_scan_state_init() - Take up the scan an index's save recorded.
 * @scan: the shared index's scan state.
 * @index: the index, just opened.
 *
 * From here every save of @index records @scan.
 */
void ddi_scan_state_init(struct ddi_scan_state *scan, struct ddi_index *index)
{
	struct ddi_client_state state;

	spin_lock_init(&scan->lock);
	ddi_index_get_client_state(index, &state);
	if (ddi_scan_state_decode(&state, &scan->progress))
		DMWARN("the saved scan state is damaged: forgotten; scan again to start over");
	ddi_index_set_save_hook(index, fill_save, scan);
}

/**
 * ddi_scan_state_get() - A consistent copy of a scan's progress.
 * @scan: the scan state.
 * @progress: the copy.
 */
void ddi_scan_state_get(struct ddi_scan_state *scan, struct ddi_scan_progress *progress)
{
	spin_lock_irq(&scan->lock);
	*progress = scan->progress;
	spin_unlock_irq(&scan->lock);
}

/**
 * ddi_scan_state_set() - Replace a scan's progress.
 * @scan: the scan state.
 * @progress: the new progress.
 */
void ddi_scan_state_set(struct ddi_scan_state *scan, const struct ddi_scan_progress *progress)
{
	spin_lock_irq(&scan->lock);
	scan->progress = *progress;
	spin_unlock_irq(&scan->lock);
}

/**
 * ddi_scan_phase_name() - How status and stats name a scan's phase.
 * @phase: the phase.
 *
 * Return: a word.
 */
const char *ddi_scan_phase_name(enum ddi_scan_phase phase)
{
	switch (phase) {
	case DDI_SCAN_NONE:
		return "none";
	case DDI_SCAN_RUNNING:
		return "running";
	case DDI_SCAN_PAUSED:
		return "paused";
	case DDI_SCAN_DONE:
		return "done";
	case DDI_SCAN_FAILED:
		return "failed";
	}
	return "unknown";
}
