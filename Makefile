# Thin driver over CMake: the two set-up commands of the README and friends.
#   make demo    build, run the whole chain (broker, hub, two edges) until Ctrl-C
#   make test    install what is missing, build, run the whole suite (ctest)
#   make bench   build, print throughput and memory figures as JSON
#   make plate-model  train the plate reader again (docs/plate-model.md)
#   make format  apply .clang-format to the C and C++ sources (make test checks)
#   make install install the daemons, configs, units and man pages (PREFIX)
#   make deb     the Debian packages firelane-edge and firelane-hub (build-deb/)
# docs/packaging.md says what is installed where, and why.
JOBS ?= 2
# ctest's slots: most integration tests wait more than they compute, and
# the CPU-heavy ones take two slots (tests/CMakeLists.txt, "Scheduling")
TEST_JOBS ?= $(shell echo $$(( $(JOBS) * 3 / 2 )))
BUILD ?= build
CMAKE_FLAGS ?=
PREFIX ?= /usr/local

.PHONY: all deps build test test-sanitize bench demo fuzz format clean \
	plate-model install deb build-matrix test-packages

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFL_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(TEST_JOBS)

# The suite under AddressSanitizer and UndefinedBehaviorSanitizer: every unit
# and fuzz test, and the edge end to end on the real clips; the long synthetic
# suite runs only in the optimised build (make test). Debug (assertions on)
# at -O2: at -O0 the edge's tests ran about twice as long under ASan as at
# -O2 (the renderer's and the detector's per-pixel loops), and the
# optimiser's own warnings (maybe-uninitialized) are errors here too.
test-sanitize: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DFL_SANITIZE=ON -DFL_WERROR=ON \
		'-DCMAKE_C_FLAGS_DEBUG=-g -O2' '-DCMAKE_CXX_FLAGS_DEBUG=-g -O2' >/dev/null
	@cmake --build build-asan -j$(JOBS)
	cd build-asan && ctest --output-on-failure -j$(TEST_JOBS) -E scene_suite

bench: build
	@scripts/bench.sh $(BUILD)

demo: build
	@scripts/demo.sh $(BUILD)

# The plate reader's model, from nothing but what model/plates/render.py
# draws: render, train on the CPU, calibrate, export to ONNX, measure the
# held-back synthetic set (docs/plate-model.md). Needs Debian's python3-torch,
# which make test does not. Overwrites model/plates/plate-reader.onnx and
# .json; the rendered sets are cached in $(BUILD)/plate-model.
plate-model:
	@scripts/deps.sh plate-model
	/usr/bin/python3 model/plates/train.py --out model/plates/plate-reader.onnx \
		--cache $(BUILD)/plate-model

# Coverage-guided fuzzing with libFuzzer (clang), FUZZ_SECONDS per target.
# Builds only the fuzz targets (tests/fuzz/fuzz_*.c) and what they link.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := $(sort $(basename $(notdir $(wildcard tests/fuzz/fuzz_*.c))))
fuzz: deps
	@cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
		-DFL_FUZZ=ON -DFL_SANITIZE=ON >/dev/null
	@cmake --build build-fuzz -j$(JOBS) --target $(FUZZ_TARGETS)
	@for t in $(FUZZ_TARGETS); do \
		name=$${t#fuzz_}; mkdir -p build-fuzz/corpus-$$name; \
		build-fuzz/tests/$$t -max_total_time=$(FUZZ_SECONDS) \
			build-fuzz/corpus-$$name tests/fuzz/corpus/$$name || exit 1; \
	done

format: deps
	@scripts/format.sh

# From source: the programs, /etc/firelane/*.yaml (an existing one is kept,
# the new one beside it as .new), the units, sysusers.d, man pages. Then, as
# root: systemd-sysusers; chgrp firelane /etc/firelane/*.yaml; systemctl
# daemon-reload (README.md, "Installing"). Not through deps: run as root on
# a server it would install the test suite's tools too (chromium, nginx);
# make build first says what is missing.
install:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)
	cmake --install $(BUILD)

# What a packager builds: Release, installed under /usr, without the test
# suite; CPack makes firelane-edge_*.deb and firelane-hub_*.deb.
deb: deps
	@cmake -S . -B build-deb -DCMAKE_BUILD_TYPE=Release \
		-DCMAKE_INSTALL_PREFIX=/usr -DBUILD_TESTING=OFF $(CMAKE_FLAGS) >/dev/null
	@cmake --build build-deb -j$(JOBS)
	@cd build-deb && cpack -G DEB >/dev/null
	@ls build-deb/*.deb

# The other compiler's view: clang, Release, warnings as errors, the
# libraries and programs only. With make test (GCC RelWithDebInfo),
# make test-sanitize (GCC Debug) and make deb (GCC Release) in CI, every
# build type meets both compilers' warnings (docs/packaging.md).
build-matrix: deps
	@cmake -S . -B build-clang -DCMAKE_C_COMPILER=clang \
		-DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release \
		-DFL_WERROR=ON -DBUILD_TESTING=OFF >/dev/null
	@cmake --build build-clang -j$(JOBS)

# The packages installed into a fresh Debian root (mmdebstrap), the units
# verified, each daemon started there as its unit would start it
# (tests/install/packages.sh; root, and Debian's archive, else skipped).
test-packages: deb
	@rc=0; FL_BUILD_DIR=build-deb bash tests/install/packages.sh || rc=$$?; \
	if [ $$rc = 77 ]; then echo "test-packages: skipped"; else exit $$rc; fi

clean:
	rm -rf build build-asan build-fuzz build-deb build-clang
