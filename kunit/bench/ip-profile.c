// SPDX-License-Identifier: GPL-2.0-only
/*
 * A sampling profiler for the benchmarks: where the CPUs spend a timed run.
 *
 * Under qemu's TCG there is no perf in the guest, and perf on the host
 * sees only translated code. So, with dm_dedup_index.bench_profile_us=N,
 * a pinned hard-irq hrtimer on every online CPU fires each N microseconds
 * of host time and records the kernel instruction pointer it interrupted
 * (or 0 for user mode, which a KUnit kernel does not run). At the end of
 * the run the samples are grouped by the function holding them and the
 * busiest functions are printed as "ddi-profile:" lines, which
 * scripts/bench does not parse. An idle CPU shows up as its idle routine,
 * so waits are counted as well as work.
 *
 * x86 only: there the timer interrupt's registers are the interrupted
 * context. On UML, the kernel is a host process, and perf on the host
 * profiles it directly; ddi_bench_profile_start() says no.
 *
 * The samples go into a buffer of fixed size, allocated for the run; once
 * it is full, further samples are counted as dropped rather than stored.
 * Off by default: the timer interrupts take time from what is measured.
 */

#include "ip-profile.h"

#ifdef CONFIG_X86

#include <linux/cpu.h>
#include <linux/hrtimer.h>
#include <linux/kallsyms.h>
#include <linux/moduleparam.h>
#include <linux/percpu.h>
#include <linux/smp.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>
#include <asm/irq_regs.h>

enum {
	PROFILE_MAX_SAMPLES = 1 << 18,
	PROFILE_TOP = 24,
};

static unsigned int bench_profile_us;
module_param(bench_profile_us, uint, 0444);
MODULE_PARM_DESC(bench_profile_us,
		 "Benchmarks: sample each CPU's instruction pointer every N us of a timed run (0: off)");

static DEFINE_PER_CPU(struct hrtimer, profile_timer);
static unsigned long *profile_ips;
static atomic_t profile_count;
static ktime_t profile_period;

static enum hrtimer_restart profile_tick(struct hrtimer *timer)
{
	struct pt_regs *regs = get_irq_regs();
	int n = atomic_inc_return(&profile_count) - 1;

	if (n < PROFILE_MAX_SAMPLES)
		profile_ips[n] = regs && !user_mode(regs) ? instruction_pointer(regs) : 0;
	hrtimer_forward_now(timer, profile_period);
	return HRTIMER_RESTART;
}

static void profile_start_cpu(void *unused)
{
	struct hrtimer *timer = this_cpu_ptr(&profile_timer);

	hrtimer_init(timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL_PINNED_HARD);
	timer->function = profile_tick;
	hrtimer_start(timer, profile_period, HRTIMER_MODE_REL_PINNED_HARD);
}

/**
 * ddi_bench_profile_start() - Start sampling, if bench_profile_us asks for it.
 *
 * Return: true if sampling started; then call ddi_bench_profile_stop().
 */
bool ddi_bench_profile_start(void)
{
	unsigned int cpu;

	if (!bench_profile_us)
		return false;
	profile_ips = vmalloc_array(PROFILE_MAX_SAMPLES, sizeof(*profile_ips));
	if (!profile_ips)
		return false;
	atomic_set(&profile_count, 0);
	profile_period = ns_to_ktime((u64)bench_profile_us * NSEC_PER_USEC);
	cpus_read_lock();
	for_each_online_cpu(cpu)
		smp_call_function_single(cpu, profile_start_cpu, NULL, 1);
	cpus_read_unlock();
	return true;
}

static int profile_cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return x < y ? -1 : x > y;
}

struct profile_entry {
	unsigned long start;
	u32 samples;
};

static int profile_cmp_samples(const void *a, const void *b)
{
	const struct profile_entry *x = a, *y = b;

	return x->samples > y->samples ? -1 : x->samples < y->samples;
}

/**
 * ddi_bench_profile_stop() - Stop sampling and print the busiest functions.
 * @test: the case, to print with.
 * @label: names the run in each line printed.
 */
void ddi_bench_profile_stop(struct kunit *test, const char *label)
{
	struct profile_entry *top;
	unsigned long size, offset;
	unsigned int cpu, n, i, runs = 0, taken;

	cpus_read_lock();
	for_each_online_cpu(cpu)
		hrtimer_cancel(per_cpu_ptr(&profile_timer, cpu));
	cpus_read_unlock();
	taken = atomic_read(&profile_count);
	n = min_t(unsigned int, taken, PROFILE_MAX_SAMPLES);
	/* Group by the function that holds each sample. */
	for (i = 0; i < n; i++) {
		if (profile_ips[i] && kallsyms_lookup_size_offset(profile_ips[i], &size, &offset))
			profile_ips[i] -= offset;
	}
	sort(profile_ips, n, sizeof(*profile_ips), profile_cmp_ulong, NULL);
	top = kvcalloc(n ? n : 1, sizeof(*top), GFP_KERNEL);
	if (!top)
		goto out;
	for (i = 0; i < n; i++) {
		if (!runs || top[runs - 1].start != profile_ips[i])
			top[runs++].start = profile_ips[i];
		top[runs - 1].samples++;
	}
	sort(top, runs, sizeof(*top), profile_cmp_samples, NULL);
	kunit_info(test, "ddi-profile: %s samples=%u dropped=%u period_us=%u cpus=%u\n", label,
		   n, taken - n, bench_profile_us, num_online_cpus());
	for (i = 0; i < min_t(unsigned int, runs, PROFILE_TOP); i++)
		kunit_info(test, "ddi-profile: %s %3u.%u%% %6u %ps\n", label,
			   top[i].samples * 100 / max(n, 1U),
			   top[i].samples * 1000 / max(n, 1U) % 10, top[i].samples,
			   (void *)top[i].start);
	kvfree(top);
out:
	vfree(profile_ips);
	profile_ips = NULL;
}

#else /* !CONFIG_X86 */

bool ddi_bench_profile_start(void)
{
	return false;
}

void ddi_bench_profile_stop(struct kunit *test, const char *label)
{
}

#endif /* CONFIG_X86 */
