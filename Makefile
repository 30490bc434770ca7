# Thin wrapper over CMake. `make` builds, `make test` runs the whole suite,
# `make demo` runs the bundled busybox container, `make install` installs husk.
BUILD ?= build
PREFIX ?= /usr/local
JOBS ?= $(shell nproc)

.PHONY: all build test unit integration demo install clean deps rootfs

all: build

deps:
	./scripts/install-deps.sh

# Order-only on deps: `make deps demo` (or -j) on a machine without cmake must install
# the packages before configuring. install-deps.sh is a no-op when all are present.
$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

rootfs: build
	./scripts/make-rootfs.sh $(BUILD)/rootfs

test: build rootfs
	cd $(BUILD) && ctest --output-on-failure -j 1

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
