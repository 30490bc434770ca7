# Thin wrapper over CMake. `make` builds, `make test` runs the whole suite,
# `make demo` runs the bundled busybox container, `make install` installs husk.
BUILD ?= build
PREFIX ?= /usr/local
JOBS ?= $(shell nproc)
RUNTIMES ?= husk runc crun

.PHONY: all build test unit integration demo install clean deps rootfs vm-prepare vm-test

all: build

deps:
	./scripts/install-deps.sh

# Order-only on deps: `make deps demo` (or -j) on a machine without cmake must install
# the packages before configuring. install-deps.sh is a no-op when all are present.
$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

rootfs: build
	./scripts/make-rootfs.sh $(BUILD)/rootfs

# The whole suite: the cross-runtime conformance table (husk, runc, crun side by side;
# only a husk failure fails), then every ctest test (its husk-only conformance entry is
# the same run, so it is skipped here), then the same kind of tests on a pure cgroup v2
# guest (vm-test). Nothing is skipped under CI: a guest that cannot boot fails the target.
test: build rootfs
	$(BUILD)/conformance/husk-conformance --build-dir $(BUILD) --report-dir $(BUILD)/conformance --strict husk $(RUNTIMES)
	cd $(BUILD) && ctest --output-on-failure -j 1 -LE conformance
	./tests/vm/suite.sh $(BUILD)

# Tests on a pure cgroup v2 host: a QEMU/TCG guest booted with cgroup_no_v1=all whose root
# is this host's (tests/vm/README.md). The list of tests is tests/vm/suite.sh; one command:
# tests/vm/run-in-vm.sh --build $(BUILD) -- CMD... Guest assets are cached in $(BUILD)/vm.
vm-prepare: | deps
	./tests/vm/prepare.sh $(BUILD)

vm-test: build rootfs vm-prepare
	./tests/vm/suite.sh $(BUILD)

# The benchmark on pure cgroup v2 (in the guest; report in $(BUILD)/vm-bench). TCG makes
# every instruction ~20x dearer, so only the ratios mean anything; quick by default
# (~2.5 min), VM_BENCH_ARGS= for the full run.
VM_BENCH_ARGS ?= --quick
.PHONY: vm-bench
vm-bench: bench-build vm-prepare
	mkdir -p $(BUILD)/vm-bench
	./tests/vm/run-in-vm.sh --build $(BUILD) --timeout 3600 --rw $(BUILD)/vm-bench -- \
		tests/vm/bench.sh $(BUILD) $(BUILD)/vm-bench $(VM_BENCH_ARGS)

# containerd, Podman and Docker end to end, on husk and on runc (tests/engines).
.PHONY: engines
engines: build rootfs
	cd $(BUILD) && ctest --output-on-failure -L engines

unit: build
	cd $(BUILD) && ctest --output-on-failure -L unit

integration: build rootfs
	cd $(BUILD) && ctest --output-on-failure -L integration

demo: build rootfs
	./scripts/demo.sh $(BUILD)

install: build
	install -D -m 0755 $(BUILD)/runtime/cli/husk $(DESTDIR)$(PREFIX)/sbin/husk

clean:
	rm -rf $(BUILD)

# Cross-runtime OCI conformance suite (conformance/): table on stdout, reports in
# $(BUILD)/conformance/report.{md,json}; fails only when a husk case fails.
.PHONY: conformance
conformance: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target husk-conformance
	./scripts/make-rootfs.sh $(BUILD)/rootfs
	$(BUILD)/conformance/husk-conformance --build-dir $(BUILD) --report-dir $(BUILD)/conformance --strict husk $(RUNTIMES)

# Benchmark husk vs crun vs runc (conformance/bench, scenarios of shared/perf-notes.md):
# report in $(BUILD)/bench/report.{md,json}. BENCH_QUICK=1 (or bench-quick) = smoke run.
# Builds only what it runs, so a half-finished test elsewhere cannot stop it.
RUNC ?= /usr/sbin/runc
CRUN ?= /usr/bin/crun
BENCH_ARGS = --rootfs $(BUILD)/rootfs --out $(BUILD)/bench \
	--runtime husk=$(BUILD)/runtime/cli/husk --runtime runc=$(RUNC) --runtime crun=$(CRUN)
.PHONY: bench bench-quick bench-build
bench-build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS) --target husk husk_bench husk_bench_rss
	./scripts/make-rootfs.sh $(BUILD)/rootfs
bench: bench-build
	$(BUILD)/conformance/bench/husk_bench $(BENCH_ARGS) $(if $(filter-out 0,$(BENCH_QUICK)),--quick)
bench-quick: bench-build
	$(BUILD)/conformance/bench/husk_bench $(BENCH_ARGS) --quick
