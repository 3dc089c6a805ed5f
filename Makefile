# SPDX-License-Identifier: GPL-2.0
#
# Bulkhead - one non-recursive Makefile. Object lists come from ./Kbuild.
# Output goes to build/. Quiet like kbuild; `make V=1` prints full commands.

include Kbuild

BUILD     ?= build
CC        ?= gcc
CLANG     ?= clang
BPFTOOL   ?= bpftool
PKG_CONFIG ?= pkg-config
PREFIX    ?= /usr/local
SBINDIR   ?= $(PREFIX)/sbin
UNITDIR   ?= $(PREFIX)/lib/systemd/system
MANDIR    ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions

comma := ,

# every core unless the command line says how many jobs (make -jN)
ifeq ($(filter -j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 1)
endif

ifeq ($(V),1)
  Q =
  msg =
else
  Q = @
  msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

.DELETE_ON_ERROR:
.SUFFIXES:
.SECONDARY:

PKGS      := libbpf libnftnl libmnl yaml-0.1 libkmod zlib
ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

CFLAGS    ?= -O2 -g
CFLAGS    += -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers -Wno-format-truncation \
	     -D_GNU_SOURCE -I$(BUILD)/bpf -Ibpf -Iuserspace \
	     $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
LDLIBS    += $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
SANFLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

BPF_CFLAGS := -target bpf -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
	      -D__TARGET_ARCH_$(ARCH) -I/usr/include/$(MULTIARCH) -Ibpf
# e.g. BPF_EXTRA="-DBH_EV_RATE=100000" (bench/events.sh: the event limits raised)
BPF_CFLAGS += $(BPF_EXTRA)

BPF_OBJS  := $(addprefix $(BUILD)/bpf/,$(bpf-y))
BPF_SKELS := $(BPF_OBJS:.bpf.o=.skel.h)
BH_OBJS   := $(addprefix $(BUILD)/userspace/,$(bulkhead-y))
CORE_OBJS := $(addprefix $(BUILD)/userspace/,$(bhcore-y))
DP_OBJS   := $(addprefix $(BUILD)/userspace/,$(dataplane-y))
TESTS     := $(addprefix $(BUILD)/selftests/,$(unit-y) $(prog-y))
ASAN_TESTS := $(addprefix $(BUILD)/asan/,$(unit-y))

.PHONY: all check check-quick check-stress check-kernels check-headers insns bench demo install uninstall clean help deps tests fuzz
all: $(BUILD)/bulkhead

# ---- eBPF ----------------------------------------------------------------
$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c bpf/*.h bpf/lib/*.h | $(BUILD)/bpf
	$(call msg,CLANG,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bpf/%.skel.h: $(BUILD)/bpf/%.bpf.o
	$(call msg,GENSKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# Every BPF header compiles on its own: a one-line .c including it, built
# with the BPF flags (a header's out-of-line helpers go unused there).
BPF_HDRS  := bpf/bulkhead_abi.h bpf/verdict.h $(sort $(wildcard bpf/lib/*.h))
HDR_OBJS  := $(patsubst bpf/%.h,$(BUILD)/check-headers/%.o,$(BPF_HDRS))

check-headers: $(HDR_OBJS)

$(BUILD)/check-headers/%.o: bpf/%.h bpf/*.h bpf/lib/*.h
	$(call msg,HDRCHECK,$<)
	$(Q)mkdir -p $(@D)
	$(Q)echo '#include "$*.h"' | $(CLANG) $(BPF_CFLAGS) -Wno-unused-function -x c -c - -o $@

# per-program instruction counts of the dataplane (llvm-objdump, no kernel)
insns: $(BUILD)/bpf/bulkhead.bpf.o
	$(Q)sh bench/insns.sh $<

# ---- controller -----------------------------------------------------------
$(BUILD)/userspace/%.o: userspace/%.c userspace/*.h bpf/bulkhead_abi.h bpf/lib/detect_core.h $(BPF_SKELS) | $(BUILD)/userspace
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/bulkhead: $(BH_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# ---- tests ------------------------------------------------------------------
# One rule per variant; each program's objects come from its NAME-objs list
# in Kbuild, given by source path (selftests/..., userspace/...). Unit tests
# (unit-y) are built a second time under ASan+UBSan into $(BUILD)/asan/.
TEST_HDRS := $(wildcard selftests/*/*.h selftests/*/*/*.h)

# BPF objects of the tests (testbpf-y, selftests/prog/NAME.bpf.c), each with a skeleton
TEST_SKELS := $(patsubst %.bpf.o,$(BUILD)/selftests/prog/%.skel.h,$(testbpf-y))

$(BUILD)/selftests/prog/%.bpf.o: selftests/prog/%.bpf.c bpf/*.h bpf/lib/*.h
	$(call msg,CLANG,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/selftests/prog/%.skel.h: $(BUILD)/selftests/prog/%.bpf.o
	$(call msg,GENSKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(BUILD)/selftests/%.o: selftests/%.c $(TEST_HDRS) userspace/*.h bpf/bulkhead_abi.h $(BPF_SKELS) $(TEST_SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Iselftests/prog -I$(BUILD)/selftests/prog -c $< -o $@

$(BUILD)/asan/%.o: %.c $(TEST_HDRS) userspace/*.h bpf/bulkhead_abi.h bpf/lib/detect_core.h
	$(call msg,CC-ASAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -Iselftests/prog -c $< -o $@

.SECONDEXPANSION:
$(TESTS): $(BUILD)/selftests/%: $$(addprefix $(BUILD)/,$$($$*-objs))
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) -lcmocka

$(ASAN_TESTS): $(BUILD)/asan/%: $$(addprefix $(BUILD)/asan/,$$($$*-objs))
	$(call msg,CCLD-ASAN,$@)
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) $^ -o $@ $(LDLIBS) -lcmocka

# ---- benchmarks -------------------------------------------------------------
BENCH_BPF := $(addprefix $(BUILD)/bench/,$(benchbpf-y))
BENCHES   := $(addprefix $(BUILD)/bench/,$(bench-y))

$(BUILD)/bench/%.bpf.o: bench/%.bpf.c | $(BUILD)/bench
	$(call msg,CLANG,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/%.skel.h: $(BUILD)/bench/%.bpf.o
	$(call msg,GENSKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(BUILD)/bench/bench_%: bench/bench_%.c bench/*.h selftests/prog/*.h $(BENCH_BPF:.bpf.o=.skel.h) $(BPF_SKELS) $(CORE_OBJS) $(DP_OBJS) $(BUILD)/userspace/nl.o | $(BUILD)/bench
	$(call msg,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) -I$(BUILD)/bench -Iselftests/prog $(filter %.c %.o,$^) -o $@ $(LDLIBS)

# ---- fuzzing (libFuzzer, clang) ----------------------------------------------
FUZZERS    := $(addprefix $(BUILD)/fuzz/,$(fuzz-y))
FUZZ_FLAGS := -std=gnu11 -g -O1 -D_GNU_SOURCE -Ibpf -Iuserspace -fno-omit-frame-pointer \
	      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	      $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
FUZZ_SECONDS ?= 60

# each source compiled once (-fsanitize=fuzzer-no-link), shared by the
# harnesses that list it; libFuzzer's main comes in at the link
$(BUILD)/fuzz/obj/%.o: %.c userspace/*.h
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(subst fuzzer$(comma),fuzzer-no-link$(comma),$(FUZZ_FLAGS)) -c $< -o $@

$(FUZZERS): $(BUILD)/fuzz/%: $$(patsubst %.c,$(BUILD)/fuzz/obj/%.o,$$($$*-srcs)) | $(BUILD)/fuzz
	$(call msg,FUZZ-LD,$@)
	$(Q)$(CLANG) $(FUZZ_FLAGS) $^ -o $@ $(LDLIBS)

fuzz: $(FUZZERS)
	$(Q)for f in $(fuzz-y); do \
		name=$${f#fuzz_}; mkdir -p $(BUILD)/fuzz/corpus-$$name; \
		echo "  FUZZ     $$f for $(FUZZ_SECONDS)s"; \
		$(BUILD)/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus-$$name \
			selftests/fuzz/corpus/$$name > $(BUILD)/fuzz/$$f.log 2>&1; rc=$$?; \
		grep -E "stat::number_of_executed_units|ERROR|SUMMARY|Test unit written" $(BUILD)/fuzz/$$f.log; \
		[ $$rc -eq 0 ] || { echo "  FUZZ     $$f FAILED: see $(BUILD)/fuzz/$$f.log"; exit 1; }; \
	done

tests: all $(TESTS) $(ASAN_TESTS) $(FUZZERS)

check: tests
	$(Q)BUILD=$(BUILD) bash selftests/run.sh

# everything but the namespace suites of net/ (each in three modes): minutes
check-quick: tests
	$(Q)BUILD=$(BUILD) bash selftests/run.sh '^(build|unit|prog|cli|golden|fuzz|kernel):'

# the long runs of the suites tagged "bh: stress" (e.g. 1,000 policy swaps)
check-stress: tests
	$(Q)BUILD=$(BUILD) bash selftests/run.sh --stress

# Debian 12's kernels (6.1, 6.12) under QEMU: docs/kernels.md
check-kernels: tests
	$(Q)BUILD=$(BUILD) bash selftests/kernels/run.sh --no-build $(if $(KERNELS),--kernel "$(KERNELS)") \
		$(if $(SUITES),--suites "$(SUITES)") $(if $(MODES),--modes "$(MODES)")

demo: all
	$(Q)bash selftests/demo.sh

bench: all $(BENCHES)
	$(Q)BUILD=$(BUILD) bash bench/run.sh

deps:
	$(Q)bash .ci/deps.sh

# the binary, the systemd unit (ExecStart pointing at $(SBINDIR)), the man
# pages and the bash completion; DESTDIR for staging, PREFIX for the tree
install: all
	$(call msg,INSTALL,$(DESTDIR)$(SBINDIR)/bulkhead)
	$(Q)install -D -m 0755 $(BUILD)/bulkhead $(DESTDIR)$(SBINDIR)/bulkhead
	$(call msg,INSTALL,$(DESTDIR)$(UNITDIR)/bulkhead.service)
	$(Q)install -d -m 0755 $(DESTDIR)$(UNITDIR)
	$(Q)sed -e 's|^ExecStart=[^ ]*/bulkhead |ExecStart=$(SBINDIR)/bulkhead |' \
		userspace/bulkhead.service > $(DESTDIR)$(UNITDIR)/bulkhead.service
	$(Q)chmod 0644 $(DESTDIR)$(UNITDIR)/bulkhead.service
	$(call msg,INSTALL,$(DESTDIR)$(MANDIR)/man8/bulkhead.8)
	$(Q)install -D -m 0644 docs/man/bulkhead.8 $(DESTDIR)$(MANDIR)/man8/bulkhead.8
	$(call msg,INSTALL,$(DESTDIR)$(MANDIR)/man5/bulkhead-policy.5)
	$(Q)install -D -m 0644 docs/man/bulkhead-policy.5 $(DESTDIR)$(MANDIR)/man5/bulkhead-policy.5
	$(call msg,INSTALL,$(DESTDIR)$(BASHCOMPDIR)/bulkhead)
	$(Q)install -D -m 0644 userspace/bulkhead.bash-completion $(DESTDIR)$(BASHCOMPDIR)/bulkhead

uninstall:
	$(Q)rm -f $(DESTDIR)$(SBINDIR)/bulkhead $(DESTDIR)$(UNITDIR)/bulkhead.service \
		$(DESTDIR)$(MANDIR)/man8/bulkhead.8 $(DESTDIR)$(MANDIR)/man5/bulkhead-policy.5 \
		$(DESTDIR)$(BASHCOMPDIR)/bulkhead

$(BUILD)/bpf $(BUILD)/userspace $(BUILD)/bench $(BUILD)/fuzz:
	$(Q)mkdir -p $@

clean:
	$(call msg,CLEAN,$(BUILD))
	$(Q)rm -rf $(BUILD)

help:
	@echo 'Targets:'
	@echo '  all       build build/bulkhead and the eBPF objects (default)'
	@echo '  deps      install the Debian packages needed to build and test (apt-get)'
	@echo '  check     run every test: unit (also under ASan+UBSan), BPF_PROG_TEST_RUN, netns end to end'
	@echo '            (in parallel, BH_JOBS at a time; selftests/run.sh REGEX for some)'
	@echo '  check-quick   every test but the namespace suites of selftests/net (minutes)'
	@echo '  check-stress  the long runs: 1,000 policy swaps under traffic and the like'
	@echo '  check-kernels  the kernel-dependent suites on Debian 12'"'"'s 6.1 and 6.12 under QEMU'
	@echo '            (KERNELS=6.1|6.12|all SUITES="..." MODES="..."), writes docs/kernels.md'
	@echo '  check-headers  compile bpf/verdict.h, bpf/bulkhead_abi.h and each bpf/lib/*.h alone'
	@echo '  insns     per-program instruction counts of build/bpf/bulkhead.bpf.o (bench/insns.sh)'
	@echo '  demo      build a namespace network, load policies/demo.yaml, show what passes'
	@echo '  bench     run the benchmarks and write docs/benchmarks.md'
	@echo '  fuzz      run the libFuzzer harnesses for FUZZ_SECONDS each (default 60)'
	@echo '  install   install bulkhead into $(SBINDIR), bulkhead.service into $(UNITDIR),'
	@echo '            the man pages into $(MANDIR), the bash completion into $(BASHCOMPDIR)'
	@echo '  clean     remove build/'
	@echo 'Variables: V=1 (full commands), BUILD=dir, CLANG=, BPFTOOL=, PREFIX=, DESTDIR=,'
	@echo '           SBINDIR=, UNITDIR=, MANDIR=, BASHCOMPDIR='
