# SPDX-License-Identifier: GPL-2.0-only
#
# Out-of-tree build of dm-dedup-index and the project's test entry points.
# Kbuild (not this file) describes the module to the kernel build system.

KDIR ?= $(shell bash scripts/kdir)

.PHONY: all modules clean check kunit kunit-uml kunit-x86_64 kunit-kcsan vm-test crash-test \
	bench fuzz lint demo

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) CONFIG_DM_DEDUP_INDEX=m W=1 modules

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

# Everything CI runs: KUnit on UML and on SMP x86_64 under qemu, then the
# end-to-end tests in a qemu VM. Ends with one "N passed, N failed" line.
check:
	scripts/check

kunit: kunit-uml kunit-x86_64

kunit-uml:
	scripts/kunit --arch um

kunit-x86_64:
	scripts/kunit --arch x86_64

# The x86_64 SMP run under KCSAN (in place of KASAN, which it cannot share
# a kernel with): a data race it reports fails the run, as a splat does.
kunit-kcsan:
	scripts/kunit --arch x86_64 --kunitconfig kunit/kcsan.kunitconfig \
		--build-name kunit-x86_64-kcsan

vm-test: modules
	scripts/vm-test

# The crash tests at full length: 20 crashes in a row on the same disks
# (make check runs 5), with the power-loss replay and the two-boot crash.
crash-test: modules
	scripts/vm-test --filter '*[-_]crash*' --boots 21
	scripts/vm-test --filter '*power-loss*'

bench: modules
	scripts/bench

# The main job in one command: a VM with real files on its data disk, a
# dedup-index device over it, a scan, a copy, and what the index saw.
demo: modules
	scripts/demo

# The on-disk format fuzz suite with 100,000 mutations (make check runs a
# few thousand); prints how many opened, rebuilt and were refused.
fuzz:
	scripts/fuzz

lint:
	scripts/lint
