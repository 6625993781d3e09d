// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the scan state kept in the index's saves: what is
 * encoded comes back, and client bytes that are damaged, crafted or
 * inconsistent are refused rather than resumed.
 */

#include <kunit/test.h>
#include <linux/crc32.h>
#include <linux/string.h>
#include <linux/unaligned.h>

#include "target.h"

static const struct ddi_scan_progress sample = {
	.phase = DDI_SCAN_RUNNING,
	.first = 1000,
	.end = 5000,
	.done = 3048,
	.posted = 2040,
	.duplicates = 700,
	.written = 8,
};

static void scan_state_round_trip(struct kunit *test)
{
	struct ddi_client_state state;
	struct ddi_scan_progress p, failed = sample;

	ddi_scan_state_encode(&sample, &state);
	KUNIT_ASSERT_EQ(test, 0, ddi_scan_state_decode(&state, &p));
	KUNIT_EXPECT_EQ(test, 0, memcmp(&p, &sample, sizeof(p)));

	/* A failed scan is kept as paused: "scan" goes on from its place. */
	failed.phase = DDI_SCAN_FAILED;
	failed.error = -EIO;
	ddi_scan_state_encode(&failed, &state);
	KUNIT_ASSERT_EQ(test, 0, ddi_scan_state_decode(&state, &p));
	KUNIT_EXPECT_EQ(test, DDI_SCAN_PAUSED, p.phase);
	KUNIT_EXPECT_EQ(test, 0, p.error);
	KUNIT_EXPECT_EQ(test, sample.done, p.done);
}

static void scan_state_none_is_zeros(struct kunit *test)
{
	struct ddi_client_state state, zero = {};
	struct ddi_scan_progress none = {}, p;

	/* Saves made before scans existed hold zeros: no scan. */
	memset(&p, 0xff, sizeof(p));
	KUNIT_EXPECT_EQ(test, 0, ddi_scan_state_decode(&zero, &p));
	KUNIT_EXPECT_EQ(test, DDI_SCAN_NONE, p.phase);
	KUNIT_EXPECT_EQ(test, 0ULL, p.end);
	memset(&state, 0xff, sizeof(state));
	ddi_scan_state_encode(&none, &state);
	KUNIT_EXPECT_EQ(test, 0, memcmp(&state, &zero, sizeof(state)));
}

/* Re-stamp the state's own CRC, as a crafted save would. */
static void restamp(struct ddi_client_state *state)
{
	u32 at = DDI_CLIENT_STATE_BYTES - sizeof(u32);

	put_unaligned_le32(crc32_le(~0, state->bytes, at), state->bytes + at);
}

struct bad_state {
	const char *what;
	struct ddi_scan_progress progress;
};

static const struct bad_state bad_states[] = {
	{ "position before the first block",
	  { DDI_SCAN_RUNNING, 1000, 5000, 999, 0, 0, 0 } },
	{ "position past the end", { DDI_SCAN_RUNNING, 1000, 5000, 5001, 4001, 0, 0 } },
	{ "more blocks counted than passed",
	  { DDI_SCAN_RUNNING, 1000, 5000, 3048, 2040, 0, 9 } },
	{ "fewer blocks counted than passed",
	  { DDI_SCAN_RUNNING, 1000, 5000, 3048, 2000, 0, 8 } },
	{ "more duplicates than posts",
	  { DDI_SCAN_RUNNING, 1000, 5000, 3048, 2040, 2041, 8 } },
	{ "done before its end", { DDI_SCAN_DONE, 1000, 5000, 3048, 2040, 0, 8 } },
	{ "an end past 2^52 blocks",
	  { DDI_SCAN_RUNNING, 0, DDI_SCAN_MAX_BLOCKS + 1, 0, 0, 0, 0 } },
	{ "counts that wrap",
	  { DDI_SCAN_RUNNING, 0, 100, 100, U64_MAX, 0, 101 } },
	{ "an unknown phase", { 9, 0, 100, 0, 0, 0, 0 } },
	{ "a failed phase, which is never saved", { DDI_SCAN_FAILED, 0, 100, 0, 0, 0, 0 } },
};

static void scan_state_refuses_inconsistent(struct kunit *test)
{
	struct ddi_client_state state;
	struct ddi_scan_progress p;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad_states); i++) {
		const struct bad_state *bad = &bad_states[i];

		/* Encode a good state, then forge the fields and its CRC. */
		ddi_scan_state_encode(&sample, &state);
		put_unaligned_le32(bad->progress.phase, state.bytes + 4);
		put_unaligned_le64(bad->progress.first, state.bytes + 8);
		put_unaligned_le64(bad->progress.end, state.bytes + 16);
		put_unaligned_le64(bad->progress.done, state.bytes + 24);
		put_unaligned_le64(bad->progress.posted, state.bytes + 32);
		put_unaligned_le64(bad->progress.duplicates, state.bytes + 40);
		put_unaligned_le64(bad->progress.written, state.bytes + 48);
		restamp(&state);
		KUNIT_EXPECT_EQ_MSG(test, -EBADMSG, ddi_scan_state_decode(&state, &p),
				    "%s", bad->what);
		KUNIT_EXPECT_EQ_MSG(test, DDI_SCAN_NONE, p.phase, "%s", bad->what);
	}
}

static void scan_state_refuses_damage(struct kunit *test)
{
	struct ddi_client_state state;
	struct ddi_scan_progress p;
	unsigned int byte, bit;

	/* Every single flipped bit: the CRC or the magic catches it. */
	for (byte = 0; byte < DDI_CLIENT_STATE_BYTES; byte++) {
		for (bit = 0; bit < 8; bit++) {
			ddi_scan_state_encode(&sample, &state);
			state.bytes[byte] ^= 1 << bit;
			KUNIT_EXPECT_EQ_MSG(test, -EBADMSG, ddi_scan_state_decode(&state, &p),
					    "byte %u bit %u", byte, bit);
		}
	}
	/* Another user's bytes: no magic. */
	ddi_scan_state_encode(&sample, &state);
	state.bytes[0] ^= 0xff;
	restamp(&state);
	KUNIT_EXPECT_EQ(test, -EBADMSG, ddi_scan_state_decode(&state, &p));
}

static struct kunit_case scan_state_cases[] = {
	KUNIT_CASE(scan_state_round_trip),
	KUNIT_CASE(scan_state_none_is_zeros),
	KUNIT_CASE(scan_state_refuses_inconsistent),
	KUNIT_CASE(scan_state_refuses_damage),
	{}
};

static struct kunit_suite scan_state_suite = {
	.name = "dm_dedup_index_target_scan_state",
	.test_cases = scan_state_cases,
};

kunit_test_suite(scan_state_suite);
