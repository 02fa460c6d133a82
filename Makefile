# llamagen: LLaMA-style model -> synthesizable, float-free Verilog decoder.
# `make help` lists the targets. Build output goes to $(BUILD) (out of tree).

CC        ?= cc
VERILATOR ?= verilator
IVERILOG  ?= iverilog
YOSYS     ?= yosys
BUILD     ?= build
# Real test weights live beside the project (never copied into it).
MODELS    ?= $(abspath ../shared/models)

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wno-unused-parameter
CFLAGS  ?= -O2 -g
# -ffp-contract=off: the float model must do exactly llama2.c's float ops
# (no fused multiply-adds), so its greedy text is reproducible anywhere.
ALL_CFLAGS := -std=c11 -D_POSIX_C_SOURCE=200809L $(WARN) $(CFLAGS) -ffp-contract=off -Iinclude
LDLIBS  := -lm
ifeq ($(SAN),1)
  ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
  LDFLAGS    += -fsanitize=address,undefined
  BUILD      := $(BUILD)-san
endif

# The bit-exact reference (src/ref_*.c) is the inference path of the integer
# model: it is compiled so that any floating-point use fails the build.
# -mgeneral-regs-only (x86-64 gcc/clang, aarch64) forbids every FP/SIMD
# register, so a stray float, double or libm call is a compile error.
NOFLOAT := -mgeneral-regs-only

LIB_SRCS  := $(sort $(wildcard src/*.c))
LIB_OBJS  := $(LIB_SRCS:src/%.c=$(BUILD)/obj/%.o)
LIB       := $(BUILD)/libllamagen.a
CLI       := $(BUILD)/llamagen
TEST_SRCS := $(sort $(wildcard tests/test_*.c))
TEST_BINS := $(TEST_SRCS:tests/%.c=$(BUILD)/tests/%)
HDRS      := $(wildcard include/llamagen/*.h) $(wildcard src/*.h)

.PHONY: all help deps test test-unit test-cli clean bench-accuracy

## all: build the llamagen CLI and libllamagen.a
all: $(CLI) $(LIB)

## help: list the targets
help:
	@grep -hE '^## ' Makefile $(wildcard tests/hdl/*.mk) | sed 's/^## /  /'

## deps: install the Debian packages the project uses (as root), else print the command
deps:
	@tools/deps.sh

$(BUILD)/obj/ref_%.o: src/ref_%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(NOFLOAT) -c $< -o $@

$(BUILD)/obj/%.o: src/%.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(CLI): gen/llamagen.c $(LIB) $(HDRS)
	$(CC) $(ALL_CFLAGS) gen/llamagen.c $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/%.c tests/test_util.h $(LIB) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests $< $(LIB) $(LDFLAGS) -lcmocka $(LDLIBS) -o $@

# HDL benches: each tests/hdl/*.mk appends runnable bench scripts/binaries to
# HDL_TESTS (each exits 0 on a bit-exact pass) and may add rules.
HDL_TESTS :=
-include $(sort $(wildcard tests/hdl/*.mk))

## test: run every test (unit tests, CLI tests, HDL benches); the CI command
test: deps-check $(CLI) $(TEST_BINS) $(HDL_TESTS)
	@LG_MODELS_DIR=$(MODELS) LG_CLI=$(abspath $(CLI)) tools/run_tests.sh $(TEST_BINS) tests/cli_test.sh $(HDL_TESTS)

deps-check:
	@tools/deps.sh --check-test

## bench-accuracy: integer vs float model agreement on stories260K (needs ../shared/models)
bench-accuracy: $(CLI)
	$(CLI) eval --checkpoint $(MODELS)/stories260K.bin --steps 512

## clean: remove the build directories
clean:
	rm -rf $(BUILD) $(BUILD)-san

# ---- demo ---------------------------------------------------------------------
# (Owned by the CLI/README work; keep this block at the end of the Makefile.)
# Today: the stories260K float model generating text. Coming: emit the 260k
# decoder and simulate it in Verilator.
.PHONY: demo

## demo: the main job: build the CLI and run stories260K (float model) from $(MODELS)
demo: deps $(CLI)
	@if [ ! -r "$(MODELS)/stories260K.bin" ] || [ ! -r "$(MODELS)/tok512.bin" ]; then \
	  echo "llamagen: make demo needs $(MODELS)/stories260K.bin and $(MODELS)/tok512.bin" \
	       "(Karpathy's tinyllamas, see README.md 'Model files'); set MODELS=DIR" >&2; \
	  exit 1; \
	fi
	$(CLI) run --float --checkpoint $(MODELS)/stories260K.bin --tokenizer $(MODELS)/tok512.bin -n 200 -t 0
