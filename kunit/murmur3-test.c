// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for MurmurHash3 x64-128: published test vectors, and the
 * properties record names rely on.
 */

#include <kunit/test.h>
#include <linux/prandom.h>
#include <linux/string.h>

#include "murmur3.h"

struct murmur3_vector {
	u32 seed;
	const char *text;
	u8 hash[DDI_MURMUR3_BYTES];
};

/* Published vectors (seed 0 and seed 0x9747b28c), output bytes h1 then h2. */
static const struct murmur3_vector vectors[] = {
	{ 0, "", { 0 } },
	{ 0, "The quick brown fox jumps over the lazy dog",
	  { 0x6c, 0x1b, 0x07, 0xbc, 0x7b, 0xbc, 0x4b, 0xe3,
	    0x47, 0x93, 0x9a, 0xc4, 0xa9, 0x3c, 0x43, 0x7a } },
	{ 0x9747b28c, "",
	  { 0xb3, 0xbb, 0xaa, 0x1d, 0x8a, 0x20, 0x2b, 0x39,
	    0x7a, 0x95, 0x02, 0xe3, 0x8f, 0x60, 0xb0, 0x93 } },
	{ 0x9747b28c, "The quick brown fox jumps over the lazy dog",
	  { 0x21, 0x31, 0x63, 0xd2, 0x3b, 0x7f, 0x8a, 0x73,
	    0xe5, 0x16, 0xc0, 0x7e, 0x72, 0x73, 0x45, 0xf9 } },
	{ 0x9747b28c, "The quick brown fox jumps over the lazy cog",
	  { 0x94, 0x61, 0x82, 0x70, 0xb0, 0x57, 0xcd, 0xb8,
	    0x3c, 0xf8, 0x73, 0x58, 0x5b, 0x45, 0x6f, 0x55 } },
	{ 0x9747b28c, "THE QUICK BROWN FOX JUMPS OVER THE LAZY DOG",
	  { 0x6c, 0x8a, 0xd0, 0x27, 0xe3, 0x90, 0x89, 0x78,
	    0x8a, 0xd2, 0xcb, 0x67, 0x78, 0x9c, 0xa4, 0xcf } },
	{ 0x9747b28c, "the quick brown fox jumps over the lazy cog",
	  { 0x71, 0x4c, 0x9a, 0x5a, 0xdd, 0x16, 0xaa, 0x27,
	    0x1f, 0x90, 0xa7, 0x21, 0x83, 0xfd, 0x2b, 0xe0 } },
};

static void murmur3_matches_published_vectors(struct kunit *test)
{
	u32 i;

	for (i = 0; i < ARRAY_SIZE(vectors); i++) {
		u8 hash[DDI_MURMUR3_BYTES];

		ddi_murmur3_128(vectors[i].text, strlen(vectors[i].text), vectors[i].seed, hash);
		KUNIT_EXPECT_MEMEQ_MSG(test, hash, vectors[i].hash, sizeof(hash),
				       "seed %#x \"%s\"", vectors[i].seed, vectors[i].text);
	}
}

/* Every tail length takes its own path: each must see every byte it covers. */
static void murmur3_uses_every_byte(struct kunit *test)
{
	u8 buffer[64], hash[DDI_MURMUR3_BYTES], flipped[DDI_MURMUR3_BYTES];
	struct rnd_state rnd;
	u32 length, byte;

	prandom_seed_state(&rnd, 3);
	prandom_bytes_state(&rnd, buffer, sizeof(buffer));
	for (length = 1; length <= 48; length++) {
		ddi_murmur3_128(buffer, length, 0, hash);
		for (byte = 0; byte < length; byte++) {
			buffer[byte] ^= 0x01;
			ddi_murmur3_128(buffer, length, 0, flipped);
			buffer[byte] ^= 0x01;
			KUNIT_EXPECT_NE_MSG(test, memcmp(hash, flipped, sizeof(hash)), 0,
					    "length %u byte %u", length, byte);
		}
		/* A byte past the end must not matter. */
		buffer[length] ^= 0xff;
		ddi_murmur3_128(buffer, length, 0, flipped);
		buffer[length] ^= 0xff;
		KUNIT_EXPECT_MEMEQ(test, hash, flipped, sizeof(hash));
	}
}

/* A 4 KiB block changed in one bit flips about half of the 128 output bits. */
static void murmur3_avalanches_on_blocks(struct kunit *test)
{
	static u8 block[4096];
	u8 hash[DDI_MURMUR3_BYTES], other[DDI_MURMUR3_BYTES];
	struct rnd_state rnd;
	u32 trial, i, flipped_bits = 0;

	prandom_seed_state(&rnd, 4);
	prandom_bytes_state(&rnd, block, sizeof(block));
	for (trial = 0; trial < 64; trial++) {
		u32 bit = prandom_u32_state(&rnd) % (sizeof(block) * 8);

		ddi_murmur3_128(block, sizeof(block), 0, hash);
		block[bit / 8] ^= 1 << (bit % 8);
		ddi_murmur3_128(block, sizeof(block), 0, other);
		for (i = 0; i < DDI_MURMUR3_BYTES; i++)
			flipped_bits += hweight8(hash[i] ^ other[i]);
	}
	/* Mean 64 per trial; 4096 expected, sd 45: a wide margin still catches a weak mix. */
	KUNIT_EXPECT_GT(test, flipped_bits, 3700U);
	KUNIT_EXPECT_LT(test, flipped_bits, 4500U);
}

static struct kunit_case murmur3_cases[] = {
	KUNIT_CASE(murmur3_matches_published_vectors),
	KUNIT_CASE(murmur3_uses_every_byte),
	KUNIT_CASE(murmur3_avalanches_on_blocks),
	{}
};

static struct kunit_suite murmur3_suite = {
	.name = "dm_dedup_index_murmur3",
	.test_cases = murmur3_cases,
};

kunit_test_suite(murmur3_suite);
