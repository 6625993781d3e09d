// SPDX-License-Identifier: GPL-2.0-only
/*
 * block-names: print the name dm-dedup-index gives each 4 KiB block of a
 * file, one per line, as the target's "query" message takes it: the
 * MurmurHash3 x64-128 digest (seed 0) in 32 hex digits, h1 then h2, each
 * little-endian. The VM tests use it to ask the index about blocks they
 * wrote (busybox has no way to compute such a hash).
 *
 *   block-names FILE [FIRST [COUNT]]
 *
 * A block is a whole number of 16-byte words, so the hash's tail step,
 * for lengths that are not, never runs here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 4096

static uint64_t rotl(uint64_t v, int bits)
{
	return (v << bits) | (v >> (64 - bits));
}

static uint64_t load_le(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static uint64_t final_mix(uint64_t v)
{
	v = (v ^ (v >> 33)) * 0xff51afd7ed558ccdULL;
	v = (v ^ (v >> 33)) * 0xc4ceb9fe1a85ec53ULL;
	return v ^ (v >> 33);
}

static void name_of(const unsigned char *block, uint64_t out[2])
{
	const uint64_t m1 = 0x87c37b91114253d5ULL, m2 = 0x4cf5ad432745937fULL;
	uint64_t a = 0, b = 0;
	size_t off;

	for (off = 0; off < BLOCK; off += 16) {
		a ^= rotl(load_le(block + off) * m1, 31) * m2;
		a = (rotl(a, 27) + b) * 5 + 0x52dce729;
		b ^= rotl(load_le(block + off + 8) * m2, 33) * m1;
		b = (rotl(b, 31) + a) * 5 + 0x38495ab5;
	}
	a ^= BLOCK;
	b ^= BLOCK;
	a += b;
	b += a;
	a = final_mix(a);
	b = final_mix(b);
	a += b;
	b += a;
	out[0] = a;
	out[1] = b;
}

int main(int argc, char **argv)
{
	unsigned char block[BLOCK];
	unsigned long long first = 0, count = ~0ULL, n;
	FILE *file;

	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: block-names FILE [FIRST [COUNT]]\n");
		return 2;
	}
	if (argc > 2)
		first = strtoull(argv[2], NULL, 0);
	if (argc > 3)
		count = strtoull(argv[3], NULL, 0);
	file = fopen(argv[1], "rb");
	if (!file || fseeko(file, (off_t)(first * BLOCK), SEEK_SET)) {
		perror(argv[1]);
		return 1;
	}
	for (n = 0; n < count && fread(block, BLOCK, 1, file) == 1; n++) {
		uint64_t h[2];
		int i, j;

		name_of(block, h);
		/* Each lane's bytes in little-endian order. */
		for (i = 0; i < 2; i++)
			for (j = 0; j < 8; j++)
				printf("%02x", (unsigned int)(h[i] >> (8 * j)) & 0xff);
		printf("\n");
	}
	return 0;
}
