# Thin driver over CMake: the two set-up commands of the README and friends.
#   make demo    build, run the whole chain (broker, hub, two edges) until Ctrl-C
#   make test    install what is missing, build, run the whole suite (ctest)
#   make bench   build, print throughput and memory figures as JSON
#   make plate-model  train the plate reader again (docs/plate-model.md)
#   make format  apply .clang-format to the C and C++ sources (make test checks)
JOBS ?= 2
BUILD ?= build
CMAKE_FLAGS ?=

.PHONY: all deps build test test-sanitize bench demo fuzz format clean plate-model

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFL_WERROR=ON $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# The suite under AddressSanitizer and UndefinedBehaviorSanitizer: every unit
# and fuzz test, and the edge end to end on the real clips; the long synthetic
# suite runs only in the optimised build (make test).
test-sanitize: deps
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DFL_SANITIZE=ON -DFL_WERROR=ON >/dev/null
	@cmake --build build-asan -j$(JOBS)
	cd build-asan && ctest --output-on-failure -j$(JOBS) -E scene_suite

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

clean:
	rm -rf build build-asan build-fuzz
