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
 * The hash is the module's own (src/target/murmur3.c, built against the
 * small userspace stand-ins in tools/include), so the names cannot drift.
 */
#include <stdio.h>
#include <stdlib.h>

#include "murmur3.h"

#define BLOCK 4096

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
		u8 name[DDI_MURMUR3_BYTES];
		int i;

		ddi_murmur3_128(block, BLOCK, 0, name);
		for (i = 0; i < DDI_MURMUR3_BYTES; i++)
			printf("%02x", name[i]);
		printf("\n");
	}
	return 0;
}
