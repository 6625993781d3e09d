/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A sampling profiler for the benchmarks' timed runs, on when the kernel is
 * booted with dm_dedup_index.bench_profile_us=N (see ip-profile.c).
 */
#ifndef DDI_BENCH_IP_PROFILE_H
#define DDI_BENCH_IP_PROFILE_H

#include <kunit/test.h>

bool ddi_bench_profile_start(void);
void ddi_bench_profile_stop(struct kunit *test, const char *label);

#endif /* DDI_BENCH_IP_PROFILE_H */
