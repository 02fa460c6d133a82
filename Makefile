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

.PHONY: all help deps test test-unit clean bench-accuracy

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
# The coarse lint of every bench unit needs all of their RTL, which the
# fragments after emit_core.mk add to LG_EMITTED_RTL: a prerequisite list is
# expanded where it is written, so it is written here, after all of them.
$(HDL_DIR)/lint_emit_core.sh: $(LG_EMITTED_RTL)

## test: run every test (unit tests, CLI tests, HDL benches); the CI command
test: deps-check $(CLI) $(TEST_BINS) $(HDL_TESTS)
	@LG_MODELS_DIR=$(MODELS) LG_CLI=$(abspath $(CLI)) tools/run_tests.sh $(TEST_BINS) tests/cli_test.sh $(HDL_TESTS)

## test-unit: the cmocka unit tests and the CLI tests only (no HDL); `make SAN=1 test-unit` under ASan + UBSan
test-unit: $(CLI) $(TEST_BINS)
	@LG_MODELS_DIR=$(MODELS) LG_CLI=$(abspath $(CLI)) tools/run_tests.sh $(TEST_BINS) tests/cli_test.sh

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
# Emits the stories260K decoder with the real checkpoint into $(BUILD)/out260k
# and simulates it in Verilator: the story streams out of the RTL, every
# logit checked against the bit-exact C model (sim/tb_decoder.cpp).
.PHONY: demo
DEMO_N ?= 100

## demo: the main job: emit the 260k decoder and simulate it in Verilator (real weights when present)
ifneq ($(DEC_REAL_260K),)
demo: deps $(CLI)
	@$(MAKE) --no-print-directory $(DEC_OUT)/demo/tb
	$(DEC_OUT)/demo/tb +dir=$(BUILD)/out260k +config=260k +checkpoint=$(MODELS)/stories260K.bin \
	  +tokenizer=$(MODELS)/tok512.bin +n=$(DEMO_N) +stall=0

# The demo's model: emitted every time (the llamagen command above), verilated
# again only when the emitted text changes.
$(eval $(call lg_dec_model,demo,--config 260k --checkpoint $(MODELS)/stories260K.bin --tokenizer $(MODELS)/tok512.bin,-O2,fast,$(BUILD)/out260k,lg_dec_force))
else
# Without the model files: the same decoder with seeded synthetic weights
# (docs/synthetic-weights.md); it prints token ids instead of text.
demo: deps $(CLI)
	@echo "llamagen: $(MODELS)/stories260K.bin or tok512.bin missing (see README.md 'Model files'):" \
	     "running the 260k decoder with synthetic weights; set MODELS=DIR for the story" >&2
	@$(MAKE) --no-print-directory $(DEC_OUT)/demo_syn/tb
	$(DEC_OUT)/demo_syn/tb +dir=$(BUILD)/out260k +config=260k +n=$(DEMO_N) +stall=0

$(eval $(call lg_dec_model,demo_syn,--config 260k,-O2,fast,$(BUILD)/out260k,lg_dec_force))
endif

# ---- decoder co-simulation: sim, bench ------------------------------------------
# (Owned by the decoder integration; the macros lg_dec_model / lg_dec_test are
# in tests/hdl/decoder.mk, which also adds the short co-simulations to `make
# test`.) Every run compares every logit of every position and every sampled
# token with the C model; a run exits 0 only when all matched.
.PHONY: sim bench
SIM_N ?= 200
BENCH_LANES ?= 1 4 8 16 32
BENCH_POS ?= 512
SIM_W := --checkpoint $(DEC_MODELS_260K) --tokenizer $(DEC_TOK_260K)
SIM_P := +checkpoint=$(DEC_MODELS_260K) +tokenizer=$(DEC_TOK_260K)
BENCH_W := $(if $(DEC_MODELS_260K),--checkpoint $(DEC_MODELS_260K))
BENCH_P := $(if $(DEC_MODELS_260K),+checkpoint=$(DEC_MODELS_260K))

# stories260K with the real weights: SIM_N tokens greedy, and SIM_N tokens at
# temperature 0.8 (fixed seed) followed by the error sequences.
ifneq ($(DEC_REAL_260K),)
$(eval $(call lg_dec_model,s260k,--config 260k $(SIM_W),-O2,trace,$(DEC_OUT)/s260k/rtl,$(DEC_MODELS_260K)))
$(eval $(call lg_dec_test,s260k,sim_260k_t0,$(DEC_OUT)/s260k/rtl,+config=260k $(SIM_P) +n=$(SIM_N)))
$(eval $(call lg_dec_test,s260k,sim_260k_t08,$(DEC_OUT)/s260k/rtl,+config=260k $(SIM_P) +n=$(SIM_N) +temp=0.8 +seed=1234 +errtest))
# and its external-weight-stream form (--ext-weights 1): weights.bin served
# with 20 cycles of latency and 20 % idle cycles, as a DRAM reader might
$(eval $(call lg_dec_model,s260kx,--config 260k $(SIM_W) --ext-weights 1,-O2,fast,$(DEC_OUT)/s260kx/rtl,$(DEC_MODELS_260K)))
$(eval $(call lg_dec_test,s260kx,sim_260k_ext,$(DEC_OUT)/s260kx/rtl,+config=260k +ext-weights=1 $(SIM_P) +n=$(SIM_N) +temp=0.8 +seed=99 +wlat=20 +wstall=20))
# and over AXI4 (--ext-weights 2, a 256-bit bus for the 132-bit beats):
# 30 cycles of latency a burst, 20 % idle cycles on AR and R
$(eval $(call lg_dec_model,s260ka,--config 260k $(SIM_W) --ext-weights 2,-O2,fast,$(DEC_OUT)/s260ka/rtl,$(DEC_MODELS_260K)))
$(eval $(call lg_dec_test,s260ka,sim_260k_axi,$(DEC_OUT)/s260ka/rtl,+config=260k +ext-weights=2 $(SIM_P) +n=$(SIM_N) +temp=0.8 +seed=7 +wlat=30 +wstall=20))
else
$(eval $(call lg_dec_skip,sim_260k_t0))
$(eval $(call lg_dec_skip,sim_260k_t08))
$(eval $(call lg_dec_skip,sim_260k_ext))
$(eval $(call lg_dec_skip,sim_260k_axi))
endif

# Synthetic configurations (seeded weights), small enough to run to the end
# of seq_len: every one also runs the error sequences (+errtest: rejected ids,
# a prompt past seq_len, generation into seq_len, then a clean run again).
#  gqa1   GQA 1:1, lanes 4, single-port K/V mantissa RAMs (--kv-ports 1)
#  gqa2   GQA 2:1 (the 260k shape), lanes 32, seq_len 64 generated to its last position
#  gqa4   GQA 4:1, lanes 16, ragged hidden 344 (21.5 beats), 6-bit K/V, 8 per exponent, T 0.8
#  lane1  lanes 1, group 8, one layer, GQA 2:1
#  rag    dim 48 (ragged group of 32), head 16, hidden 130, lanes 8, group 16, T 0.8,
#         embedding rows from the weight stream
#  lane64 lanes 64 > group 32 (two dexps per beat), GQA 2:1, 12-bit K/V, 4 vector lanes,
#         embedding rows from the weight stream
#  seq4   seq_len 4 generated to its last position, lanes 64 > dim 32 (idle lanes)
#  share  every multiplier-sharing unit (--mul-share 1): GQA 4:1, ragged hidden 100,
#         lanes 4, single-port K/V, one vector lane, T 0.8, to its last position
#  shareq the lean form where its RoPE and shared K/V quantizer set the pace, not the
#         mat-vec (dim 32 at lanes 16): the cycle model's element-by-element stretch
#  ext    the weights streamed from outside (--ext-weights 1): the lean form with the
#         embedding rows from the stream, weights.bin served with 12 cycles of latency
#         and 40 % idle cycles, T 0.8, to its last position
SIM_gqa1 := dim=64 hidden-dim=128 n-layers=2 n-heads=4 n-kv-heads=4 vocab-size=256 seq-len=32 lanes=4 kv-ports=1
SIM_gqa2 := seq-len=64 lanes=32
SIM_gqa4 := dim=128 hidden-dim=344 n-layers=2 n-heads=8 n-kv-heads=2 vocab-size=300 seq-len=40 lanes=16 kv-bits=6 kv-group=8
SIM_lane1 := dim=32 hidden-dim=72 n-layers=1 n-heads=2 n-kv-heads=1 vocab-size=64 seq-len=16 lanes=1 group-size=8
SIM_rag := dim=48 hidden-dim=130 n-layers=2 n-heads=3 n-kv-heads=3 vocab-size=100 seq-len=24 lanes=8 group-size=16 embed-stream=1
SIM_lane64 := dim=128 hidden-dim=300 n-layers=2 n-heads=4 n-kv-heads=2 vocab-size=128 seq-len=16 lanes=64 kv-bits=12 vec-lanes=4 embed-stream=1
SIM_seq4 := dim=32 hidden-dim=64 n-layers=2 n-heads=2 n-kv-heads=1 vocab-size=40 seq-len=4 lanes=64
SIM_share := dim=64 hidden-dim=100 n-layers=2 n-heads=8 n-kv-heads=2 vocab-size=130 seq-len=20 lanes=4 kv-ports=1 vec-lanes=1 mul-share=1
SIM_shareq := dim=32 hidden-dim=64 n-layers=1 n-heads=4 n-kv-heads=4 vocab-size=40 seq-len=8 lanes=16 kv-ports=1 vec-lanes=1 mul-share=1
SIM_RUN_gqa1 := +n=20 +errtest
SIM_RUN_gqa2 := +n=64 +errtest
SIM_RUN_gqa4 := +n=30 +temp=0.8 +seed=99 +errtest
SIM_RUN_lane1 := +n=10 +errtest +boot
SIM_RUN_rag := +n=23 +temp=0.8 +seed=3 +errtest
SIM_RUN_lane64 := +n=15 +errtest
SIM_RUN_seq4 := +n=4 +errtest
SIM_RUN_share := +n=20 +temp=0.8 +seed=7 +errtest
SIM_ext := dim=64 hidden-dim=100 n-layers=2 n-heads=8 n-kv-heads=2 vocab-size=130 seq-len=20 lanes=4 kv-ports=1 vec-lanes=1 mul-share=1 embed-stream=1 ext-weights=1
SIM_RUN_shareq := +n=8 +errtest
SIM_RUN_ext := +n=19 +temp=0.8 +seed=5 +errtest +wlat=12 +wstall=40
SIM_SYN := gqa1 gqa2 gqa4 lane1 rag lane64 seq4 share shareq ext
$(foreach c,$(SIM_SYN),$(eval $(call lg_dec_model,s_$(c),--config 260k $(call lg_dec_opts,$(SIM_$(c))),-O1,trace,$(DEC_OUT)/s_$(c)/rtl,)))
$(foreach c,$(SIM_SYN),$(eval $(call lg_dec_test,s_$(c),sim_$(c),$(DEC_OUT)/s_$(c)/rtl,$(call lg_dec_plus,$(SIM_$(c))) $(SIM_RUN_$(c)) +quiet)))
# and the cycle model (lg_decoder_cycles) of each, teacher-forced to seq_len without stalls
$(foreach c,$(SIM_SYN),$(eval $(call lg_dec_test,s_$(c),sim_model_$(c),$(DEC_OUT)/s_$(c)/rtl,$(call lg_dec_plus,$(SIM_$(c))) +teacher=$(firstword $(patsubst seq-len=%,%,$(filter seq-len=%,$(SIM_$(c)))) 512) +n=0 +stall=0 +quiet +model=0.5)))
SIM_RUNS := $(DEC_OUT)/sim_260k_t0.sh $(DEC_OUT)/sim_260k_t08.sh $(DEC_OUT)/sim_260k_ext.sh \
  $(DEC_OUT)/sim_260k_axi.sh \
  $(SIM_SYN:%=$(DEC_OUT)/sim_%.sh) \
  $(SIM_SYN:%=$(DEC_OUT)/sim_model_%.sh) \
  $(FPGA_OUT)/sim_icebreaker_decoder.sh

## sim: decoder co-simulation regression: 260k real weights (T 0 and 0.8, and with the weights streamed from outside and over AXI4), 10 synthetic configs (three lean, --mul-share 1; one --ext-weights), the iCEBreaker system (flash + UART)
sim: $(SIM_RUNS)
	@LG_MODELS_DIR=$(MODELS) tools/run_tests.sh $^

# Random small configurations through emission, lint and co-simulation
# (tools/sweep_configs.sh): SWEEP_N drawn from SWEEP_SEED, the first
# SWEEP_SIM accepted ones co-simulated. About 40 s a configuration plus 1 - 2
# min a co-simulation on 2 cores.
SWEEP_N ?= 30
SWEEP_SEED ?= 1
SWEEP_SIM ?= 6
.PHONY: sweep-configs
## sweep-configs: SWEEP_N random small configs (SWEEP_SEED): emit (refusals in one line), lint, co-simulate SWEEP_SIM of them bit-exactly
sweep-configs: $(CLI) $(LIB)
	LLAMAGEN=$(CLI) tools/sweep_configs.sh $(SWEEP_N) $(SWEEP_SEED) $(SWEEP_SIM) $(BUILD)/sweep

# Bench: the 260k shapes (real weights when present, else synthetic) at each
# of BENCH_LANES, teacher-forced over BENCH_POS positions (the reference's
# greedy text), untraced models. Per position: cycles, the mat-vec /
# attention / other split, the cycle model, lane utilization = (weight MACs +
# attention MACs) / lanes / cycles; per controller stage: the cycle share.
$(foreach l,$(BENCH_LANES),$(eval $(call lg_dec_model,b_l$(l),--config 260k $(BENCH_W) --lanes $(l),-O2,fast,$(DEC_OUT)/b_l$(l)/rtl,$(DEC_MODELS_260K))))
# the weights over AXI4 (--ext-weights 2, lanes 16, the default 256-bit bus):
# cycles a token against the memory's latency a burst, with the reader's
# default 8 bursts outstanding and with 64 (the same RTL, -GMAX_OUTSTANDING)
BENCH_AXI_LAT ?= 3 30 100 150 300 1000
$(eval $(call lg_dec_model,b_axi,--config 260k $(BENCH_W) --lanes 16 --ext-weights 2,-O2,fast,$(DEC_OUT)/b_axi/rtl,$(DEC_MODELS_260K)))
$(eval $(call lg_dec_model,b_axi64,--config 260k $(BENCH_W) --lanes 16 --ext-weights 2,-O2,fast_o64,$(DEC_OUT)/b_axi64/rtl,$(DEC_MODELS_260K)))

## bench: cycles/token at position 0 and seq_len-1, lane utilization, stage breakdown, sim speed (260k, BENCH_LANES);
##   cycles/token with the weights over AXI4 by memory latency (BENCH_AXI_LAT);
##   then the complete decoder's iCE40 UP5K build: LC / EBR / SPRAM / DSP, Fmax, tokens/s, the 30 MHz gap
##   and Fmax over placer seeds BENCH_SEEDS (default 1 2 3), and the board system's measured cycles a
##   token (the co-simulated flash, UART and decoder) (BENCH_FPGA=0 skips it)
BENCH_FPGA ?= 1
BENCH_SEEDS ?= 1 2 3
bench: $(foreach l,$(BENCH_LANES),$(DEC_OUT)/b_l$(l)/tb) $(DEC_OUT)/b_axi/tb $(DEC_OUT)/b_axi64/tb \
  $(if $(filter 1,$(BENCH_FPGA)),$(CLI) $(LIB) $(FPGA_OUT)/test_icebreaker_decoder.sh)
	@set -e; for l in $(BENCH_LANES); do \
	  echo "== lanes $$l"; \
	  $(DEC_OUT)/b_l$$l/tb +dir=$(DEC_OUT)/b_l$$l/rtl +config=260k +lanes=$$l $(BENCH_P) \
	    +teacher=$(BENCH_POS) +n=0 +stall=0 +bench +quiet > $(DEC_OUT)/bench_l$$l.log || \
	    { tail -20 $(DEC_OUT)/bench_l$$l.log; exit 1; }; \
	  grep -E "^BENCH (pos|stage)|PASS|FAIL" $(DEC_OUT)/bench_l$$l.log | sed 's/^BENCH /  /'; \
	done; \
	echo; echo "lanes  cycles@pos0  util@pos0  model@pos0  cycles@last  util@last  model@last  sim cycles/s"; \
	for l in $(BENCH_LANES); do grep '^BENCH_SUMMARY' $(DEC_OUT)/bench_l$$l.log | \
	  awk '{printf "%5d  %11d  %9.3f  %10d  %11d  %9.3f  %10d  %12d\n", $$3, $$5, $$7, $$9, $$13, $$15, $$17, $$19}'; \
	done; \
	echo "(util = (weight MACs + attention MACs) / lanes / cycles: the attention has multipliers of its own,"; \
	echo " so util exceeds 1 where its MACs outnumber the lanes' idle slots, e.g. at lanes 1 late in the context)"
	@echo; echo "== weights over AXI4 (--ext-weights 2, lanes 16, 256-bit bus, bursts of 16): cycles a token, 64 positions, by memory latency"
	@set -e; for o in 8 64; do for t in $(BENCH_AXI_LAT); do \
	  m=$(DEC_OUT)/b_axi$$([ $$o = 8 ] || echo $$o); \
	  $$m/tb +dir=$$m/rtl +config=260k +lanes=16 +ext-weights=2 $(BENCH_P) +axi-max-out=$$o \
	    +teacher=64 +n=0 +stall=0 +wlat=$$t +quiet > $(DEC_OUT)/bench_axi$${o}_$$t.log || \
	    { tail -20 $(DEC_OUT)/bench_axi$${o}_$$t.log; exit 1; }; \
	  echo "$$o outstanding, latency $$t: $$(grep -h '^cycles/token' $(DEC_OUT)/bench_axi$${o}_$$t.log | cut -d: -f2-)"; \
	done; done
ifeq ($(BENCH_FPGA),1)
	@echo; echo "== iCE40 UP5K: the complete 260k decoder system (make -C examples/fpga/icebreaker decoder; ~1.5 min, a few s when built)"
	@sh examples/fpga/icebreaker/up5k_decoder.sh $(FPGA_UP5K_DEC) $(abspath $(CLI)) $(abspath $(LIB)) $(abspath $(MODELS))
	@echo; echo "== iCE40 UP5K: the gap to the 30 MHz bar, unit by unit (make -C examples/fpga/icebreaker decoder-paths)"
	@env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL $(MAKE) -s --no-print-directory -C examples/fpga/icebreaker \
	  decoder-paths BUILD=$(FPGA_UP5K_DEC) LLAMAGEN=$(abspath $(CLI)) LG_LIB=$(abspath $(LIB)) \
	  MODELS=$(abspath $(MODELS)) PATHS_N=12 > $(FPGA_UP5K_DEC)/paths_30mhz.txt
	@sed -n '/^endpoints over/,$$p' $(FPGA_UP5K_DEC)/paths_30mhz.txt
	@echo; echo "== iCE40 UP5K system, co-simulated (flash model serving the marked image, UART, decoder): cycles a token"
	@sh $(FPGA_OUT)/test_icebreaker_decoder.sh > $(FPGA_OUT)/bench_board.log 2>&1 || \
	  { tail -20 $(FPGA_OUT)/bench_board.log; exit 1; }
	@grep -E "weight beats of|cycles/token" $(FPGA_OUT)/bench_board.log
	@echo; echo "== iCE40 UP5K: Fmax over placer seeds $(BENCH_SEEDS) (make -C examples/fpga/icebreaker decoder-seeds; ~2 min a seed)"
	@env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL $(MAKE) -s --no-print-directory -C examples/fpga/icebreaker \
	  decoder-seeds BUILD=$(FPGA_UP5K_DEC) LLAMAGEN=$(abspath $(CLI)) LG_LIB=$(abspath $(LIB)) \
	  MODELS=$(abspath $(MODELS)) SEEDS="$(BENCH_SEEDS)"
endif
