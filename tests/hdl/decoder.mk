# Whole-decoder co-simulation (included by the main Makefile; self-contained:
# it is read before emit_core.mk, so it defines its own Verilator flags).
#
#  - lg_dec_model NAME, LLAMAGEN-ARGS, OPT, trace|fast, DIR, DEPS: the CLI
#    emits the decoder into DIR (the real `llamagen ... -o DIR` flow); a
#    checksum of the emitted tree ($(DEC_OUT)/NAME/emit.stamp, touched only
#    when the text changed) decides whether Verilator runs again, so
#    colleagues' library edits do not re-verilate; the model and
#    sim/tb_decoder.cpp (linked with libllamagen.a) give $(DEC_OUT)/NAME/tb.
#    trace models write FST on +trace; fast ones run about twice as fast.
#  - lg_dec_test NAME, SCRIPT, DIR, TB-ARGS: a runnable script
#    $(DEC_OUT)/SCRIPT.sh (exit 0 = every logit and token bit-exact).
#
# In `make test` (about a minute with verilating, on two cores): stories260K
# with the real checkpoint when ../shared/models has it (a few greedy tokens
# and the error sequences), two small synthetic configs (GQA 2:1 with lanes 8
# and a ragged hidden_dim; GQA 4:1 with lanes 64 > group, 6-bit K/V,
# temperature sampling, the weight image loaded through the boot port) and a
# tiny one (dim 8 with 8 vector lanes), each run to the end of its seq_len by
# the error sequences, and the lint of the controller, buffers and top. The long regressions (`make sim`, `make
# bench`) and the demo sit at the end of the Makefile and use these macros.

DEC_OUT      := $(BUILD)/dec
DEC_VLT_ROOT := $(shell $(VERILATOR) --getenv VERILATOR_ROOT 2>/dev/null)
# Verilator: -Wall --assert, X randomized (testb.h's randReset(2) then
# exposes any missing reset); FST tracing (+trace) only in traced models
# (it halves the simulation speed).
DEC_VLT_FLAGS := --cc -Wall --assert --x-initial unique --x-assign unique --prefix Vdut
DEC_VLT_trace := --trace-fst
DEC_VLT_fast :=
DEC_DEF_trace := -DVM_TRACE=1 -DVM_TRACE_FST=1 -DVM_TRACE_VCD=0
DEC_DEF_fast := -DVM_TRACE=0
DEC_CXXFLAGS = -std=gnu++17 -faligned-new -I$(DEC_VLT_ROOT)/include \
	-I$(DEC_VLT_ROOT)/include/vltstd -DVM_COVERAGE=0 -DVM_SC=0 -Wno-unused-parameter \
	-Wno-bool-operation -Wno-sign-compare -Wno-uninitialized -Wno-unused-but-set-variable \
	-Wno-unused-variable -Wno-shadow
DEC_VRT := $(addprefix $(DEC_OUT)/vrt/,verilated.o verilated_fst_c.o verilated_threads.o)
DEC_MODELS_260K := $(wildcard $(MODELS)/stories260K.bin)
DEC_TOK_260K := $(wildcard $(MODELS)/tok512.bin)
# both present: the real-weights runs (else they report a visible skip)
DEC_REAL_260K := $(and $(DEC_MODELS_260K),$(DEC_TOK_260K))

$(DEC_OUT)/vrt/%.o: $(DEC_VLT_ROOT)/include/%.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(DEC_CXXFLAGS) -DVM_TRACE=1 -DVM_TRACE_FST=1 -O2 -c $< -o $@

.PHONY: lg_dec_force
lg_dec_force:

# lg_emit: one emission, remade when llamagen, $(4) or the arguments change.
#   $(1) stamp directory (emit.args, emit.stamp, emit.sum)
#   $(2) llamagen arguments (no commas)   $(3) output directory
#   $(4) extra prerequisites
# The arguments are kept in emit.args (rewritten only when they change), so
# a model emitted with synthetic weights is emitted again once MODELS has
# the real ones, and the other way round. emit.stamp moves only when the
# emitted tree's checksum does, so an emission that changed nothing
# verilates nothing (emit.args then takes emit.stamp's time).
define lg_emit
$(1)/emit.args: lg_dec_force
	@mkdir -p $(1)
	@printf '%s\n' '$(strip $(2))' | cmp -s - $$@ || printf '%s\n' '$(strip $(2))' >$$@

$(1)/emit.stamp: $(CLI) $(4) $(1)/emit.args
	@mkdir -p $(1)
	$(CLI) $(2) -o $(3)
	@cd $(3) && sum=$$$$(cat $$$$(ls | LC_ALL=C sort) | cksum) && cd $(abspath $(1)) && \
	  if [ ! -f emit.stamp ] || [ "$$$$(cat emit.sum 2>/dev/null)" != "$$$$sum" ]; then \
	    echo "$$$$sum" > emit.sum; touch emit.stamp; else touch -r emit.stamp emit.args; fi
endef

# lg_dec_model: one emitted decoder, one verilated model, one harness binary.
#   $(1) name (the model lives in $(DEC_OUT)/$(1))   $(2) llamagen arguments
#   $(3) C++ -O level of the model   $(4) trace | fast
#   $(5) emit directory   $(6) extra prerequisites of the emission
define lg_dec_model
$$(eval $$(call lg_emit,$(DEC_OUT)/$(1),$(2),$(5),$(6)))

$(DEC_OUT)/$(1)/obj/Vdut.h: $(DEC_OUT)/$(1)/emit.stamp
	@rm -rf $(DEC_OUT)/$(1)/obj
	$(VERILATOR) $(DEC_VLT_FLAGS) $(DEC_VLT_$(4)) -Mdir $(DEC_OUT)/$(1)/obj -F $(5)/files.f
	@cd $(DEC_OUT)/$(1)/obj && for f in Vdut*.cpp; do echo "#include \"$$$$f\""; done > all.cpp

$(DEC_OUT)/$(1)/model.o: $(DEC_OUT)/$(1)/obj/Vdut.h
	$(CXX) $(DEC_CXXFLAGS) $(DEC_DEF_$(4)) $(3) -I$(DEC_OUT)/$(1)/obj -c $(DEC_OUT)/$(1)/obj/all.cpp -o $$@

$(DEC_OUT)/$(1)/tb.o: sim/tb_decoder.cpp sim/dec_common.h sim/testb.h $(DEC_OUT)/$(1)/obj/Vdut.h $(HDRS)
	$(CXX) $(DEC_CXXFLAGS) $(DEC_DEF_$(4)) -O2 -Isim -Iinclude -I$(DEC_OUT)/$(1)/obj -c $$< -o $$@

$(DEC_OUT)/$(1)/tb: $(DEC_OUT)/$(1)/tb.o $(DEC_OUT)/$(1)/model.o $(DEC_VRT) $(LIB)
	$(CXX) $$^ $(LDFLAGS) -pthread -latomic -lz $(LDLIBS) -o $$@
endef

# lg_dec_test: a runnable co-simulation script.
#   $(1) model name   $(2) script name ($(DEC_OUT)/$(2).sh)   $(3) emit directory
#   $(4) tb arguments (the config as plusargs: the same model as the emission)
define lg_dec_test
$(DEC_OUT)/$(2).sh: $(DEC_OUT)/$(1)/tb tests/hdl/decoder.mk
	@{ echo '#!/bin/sh'; echo '# generated by tests/hdl/decoder.mk: decoder co-simulation $(2)'; \
	   echo 'exec $(abspath $(DEC_OUT)/$(1)/tb) +dir=$(abspath $(3)) $(4) "$$$$@"'; \
	 } > $$@
	@chmod +x $$@
endef

# A script that reports a visible skip (exit 0) when the real weights are absent.
define lg_dec_skip
$(DEC_OUT)/$(1).sh: tests/hdl/decoder.mk
	@mkdir -p $(DEC_OUT)
	@{ echo '#!/bin/sh'; echo 'echo "$(1): SKIP (no $(MODELS)/stories260K.bin and tok512.bin)"'; } > $$@
	@chmod +x $$@
endef

# Synthetic configurations are written as key=value lists: these turn them
# into llamagen options and harness plusargs.
lg_dec_opts = $(foreach a,$(1),--$(subst =, ,$(a)))
lg_dec_plus = $(foreach a,$(1),+$(a))

# ---- the short co-simulations of `make test` -------------------------------------

# stories260K, real weights: 6 greedy tokens (the story's start), then the
# error sequences (rejected ids; seq_len 512 is too long to run out here).
ifneq ($(DEC_REAL_260K),)
$(eval $(call lg_dec_model,t260k,--config 260k --checkpoint $(DEC_MODELS_260K) --tokenizer $(DEC_TOK_260K),-O1,trace,$(DEC_OUT)/t260k/rtl,$(DEC_MODELS_260K)))
$(eval $(call lg_dec_test,t260k,test_dec_260k,$(DEC_OUT)/t260k/rtl,+config=260k +checkpoint=$(DEC_MODELS_260K) +tokenizer=$(DEC_TOK_260K) +n=6 +errtest))
else
$(eval $(call lg_dec_skip,test_dec_260k))
endif

# GQA 2:1, lanes 8 with 2 vector lanes (--vec-lanes 2), the embedding read
# from the weight stream (--embed-stream 1), ragged hidden_dim (90 = 11.25
# beats, group 32 ragged), seq_len 10 (runs into seq_len), seeded synthetic
# weights.
DEC_TA_ARGS := dim=32 hidden-dim=90 n-layers=2 n-heads=4 n-kv-heads=2 vocab-size=96 seq-len=10 lanes=8 vec-lanes=2 embed-stream=1
$(eval $(call lg_dec_model,ta,--config 260k $(call lg_dec_opts,$(DEC_TA_ARGS)),-O1,trace,$(DEC_OUT)/ta/rtl,))
$(eval $(call lg_dec_test,ta,test_dec_gqa2_l8,$(DEC_OUT)/ta/rtl,$(call lg_dec_plus,$(DEC_TA_ARGS)) +n=4 +errtest +quiet))

# GQA 4:1, lanes 64 > group 16 (4 dexps per beat), 6-bit K/V with one
# exponent per 8 elements, temperature 0.8, seq_len 8.
DEC_TB_ARGS := dim=64 hidden-dim=100 n-layers=1 n-heads=4 n-kv-heads=1 vocab-size=130 seq-len=8 lanes=64 group-size=16 kv-bits=6 kv-group=8
$(eval $(call lg_dec_model,tb,--config 260k $(call lg_dec_opts,$(DEC_TB_ARGS)),-O1,trace,$(DEC_OUT)/tb/rtl,))
$(eval $(call lg_dec_test,tb,test_dec_gqa4_l64,$(DEC_OUT)/tb/rtl,$(call lg_dec_plus,$(DEC_TB_ARGS)) +n=3 +temp=0.8 +seed=5 +errtest +boot +quiet))

# A vector shorter than a beat of squares: dim 8 with 8 vector lanes, so the
# RMSNorm's 34-bit sum of squares is narrower than a beat of 8 squares (35
# bits; such shapes were refused once), GQA 1:1, 2 layers, seq_len 8.
DEC_TC_ARGS := dim=8 hidden-dim=16 n-layers=2 n-heads=2 n-kv-heads=2 vocab-size=24 seq-len=8 lanes=8
$(eval $(call lg_dec_model,tc,--config 260k $(call lg_dec_opts,$(DEC_TC_ARGS)),-O1,trace,$(DEC_OUT)/tc/rtl,))
$(eval $(call lg_dec_test,tc,test_dec_dim8_vl8,$(DEC_OUT)/tc/rtl,$(call lg_dec_plus,$(DEC_TC_ARGS)) +n=8 +errtest +quiet))

# The lean form (--mul-share 1, the UP5K's) at the same tiny shape, K/V
# groups of 2 (two a head): its RoPE, shared K/V quantizer and SiLU, not the
# mat-vec, set the pace here, so the K elements wait for the quantizer, the
# RoPE for its K outputs, the engine for both.
DEC_TD_ARGS := $(DEC_TC_ARGS) kv-ports=1 vec-lanes=1 mul-share=1 kv-group=2
$(eval $(call lg_dec_model,td,--config 260k $(call lg_dec_opts,$(DEC_TD_ARGS)),-O1,trace,$(DEC_OUT)/td/rtl,))
$(eval $(call lg_dec_test,td,test_dec_lean_dim8,$(DEC_OUT)/td/rtl,$(call lg_dec_plus,$(DEC_TD_ARGS)) +n=8 +temp=0.8 +seed=11 +errtest +quiet))

# The external weight stream (--ext-weights 1): the GQA 2:1 design above,
# whose top brings the weight stream out; the harness is the memory, serving
# the emitted weights.bin with 4 cycles of latency and 30 % idle cycles
# (the embedding rows come as requests of their own, --embed-stream).
DEC_TX_ARGS := $(DEC_TA_ARGS) ext-weights=1
$(eval $(call lg_dec_model,tx,--config 260k $(call lg_dec_opts,$(DEC_TX_ARGS)),-O1,trace,$(DEC_OUT)/tx/rtl,))
$(eval $(call lg_dec_test,tx,test_dec_ext_weights,$(DEC_OUT)/tx/rtl,$(call lg_dec_plus,$(DEC_TX_ARGS)) +n=4 +temp=0.8 +seed=3 +errtest +wlat=4 +wstall=30 +quiet))
# ... and over AXI4 (--ext-weights 2: lg_axi_wreader in the top, a 128-bit
# bus for the 68-bit beats): the harness is an AXI memory with 10 cycles of
# latency a burst and 30 % idle cycles on AR and R, the image 384 bytes
# below a 4 KiB boundary
DEC_TY_ARGS := $(DEC_TA_ARGS) ext-weights=2
$(eval $(call lg_dec_model,ty,--config 260k $(call lg_dec_opts,$(DEC_TY_ARGS)),-O1,trace,$(DEC_OUT)/ty/rtl,))
$(eval $(call lg_dec_test,ty,test_dec_axi_weights,$(DEC_OUT)/ty/rtl,$(call lg_dec_plus,$(DEC_TY_ARGS)) +n=4 +temp=0.8 +seed=3 +errtest +wlat=10 +wstall=30 +quiet))

# The cycle model (lg_decoder_cycles, the manifest's cycles/token) against
# the same four designs, teacher-forced without stalls to their last
# position, each within 0.2 % (measured: 0.05 % at most). The default-form
# ones were 1.2 % off before the attention's overlap with Wk / Wv was run
# cycle by cycle (lg_attn_cycles_at); the lean one 13.7 % before its Wq ->
# Wk -> Wv stretch was modelled element by element (lean_qkv_cycles), and
# 0.3 % before the attention's overlap counted its K groups.
$(eval $(call lg_dec_test,ta,test_dec_model_gqa2_l8,$(DEC_OUT)/ta/rtl,$(call lg_dec_plus,$(DEC_TA_ARGS)) +teacher=10 +n=0 +stall=0 +quiet +model=0.2))
$(eval $(call lg_dec_test,tb,test_dec_model_gqa4_l64,$(DEC_OUT)/tb/rtl,$(call lg_dec_plus,$(DEC_TB_ARGS)) +teacher=8 +n=0 +stall=0 +quiet +model=0.2))
$(eval $(call lg_dec_test,tc,test_dec_model_dim8_vl8,$(DEC_OUT)/tc/rtl,$(call lg_dec_plus,$(DEC_TC_ARGS)) +teacher=8 +n=0 +stall=0 +quiet +model=0.2))
$(eval $(call lg_dec_test,td,test_dec_model_lean_dim8,$(DEC_OUT)/td/rtl,$(call lg_dec_plus,$(DEC_TD_ARGS)) +teacher=8 +n=0 +stall=0 +quiet +model=0.2))
# (and the external stream at full rate: the on-chip memory's cycles)
$(eval $(call lg_dec_test,tx,test_dec_model_ext_weights,$(DEC_OUT)/tx/rtl,$(call lg_dec_plus,$(DEC_TX_ARGS)) +teacher=10 +n=0 +stall=0 +quiet +model=0.2))

HDL_TESTS += $(DEC_OUT)/test_dec_260k.sh $(DEC_OUT)/test_dec_gqa2_l8.sh \
	$(DEC_OUT)/test_dec_gqa4_l64.sh $(DEC_OUT)/test_dec_dim8_vl8.sh \
	$(DEC_OUT)/test_dec_model_gqa2_l8.sh $(DEC_OUT)/test_dec_model_gqa4_l64.sh \
	$(DEC_OUT)/test_dec_model_dim8_vl8.sh $(DEC_OUT)/test_dec_lean_dim8.sh \
	$(DEC_OUT)/test_dec_model_lean_dim8.sh $(DEC_OUT)/test_dec_ext_weights.sh \
	$(DEC_OUT)/test_dec_model_ext_weights.sh $(DEC_OUT)/test_dec_axi_weights.sh

.PHONY: test-decoder
## test-decoder: build and run only the short decoder co-simulations of make test
test-decoder: $(DEC_OUT)/test_dec_260k.sh $(DEC_OUT)/test_dec_gqa2_l8.sh $(DEC_OUT)/lint_dec.sh \
  $(DEC_OUT)/test_dec_model_gqa2_l8.sh $(DEC_OUT)/test_dec_model_gqa4_l64.sh \
  $(DEC_OUT)/test_dec_model_dim8_vl8.sh $(DEC_OUT)/test_dec_lean_dim8.sh \
  $(DEC_OUT)/test_dec_model_lean_dim8.sh $(DEC_OUT)/test_dec_ext_weights.sh \
  $(DEC_OUT)/test_dec_model_ext_weights.sh $(DEC_OUT)/test_dec_axi_weights.sh \
	$(DEC_OUT)/test_dec_gqa4_l64.sh $(DEC_OUT)/test_dec_dim8_vl8.sh
	@tools/run_tests.sh $^

# ---- lint of the emitted decoder ----------------------------------------------------
# tools/lint_rtl.sh on emitted files: verilator -Wall (local waivers only),
# iverilog -g2005, yosys synth with no latches and RAMs kept as memories. In
# `make test`: the controller, the vector buffer and the top of the small
# GQA 2:1 config (coarse yosys; the units below them are synthesized with
# them), and the tops of its --ext-weights forms (and the AXI reader); `make lint`: every emitted file of it and of the 260k decoder.
$(DEC_OUT)/lint_dec.sh: $(DEC_OUT)/ta/emit.stamp $(DEC_OUT)/tx/emit.stamp $(DEC_OUT)/ty/emit.stamp tests/hdl/decoder.mk
	@{ echo '#!/bin/sh'; echo '# generated by tests/hdl/decoder.mk: lint the decoder controller and both tops'; \
	   echo 'set -e'; \
	   echo 'cd $(abspath $(DEC_OUT)/ta/rtl) && $(abspath tools/lint_rtl.sh) --coarse *_vecbuf.v *_decoder.v *_top.v'; \
	   echo 'cd $(abspath $(DEC_OUT)/tx/rtl) && $(abspath tools/lint_rtl.sh) --coarse *_top.v'; \
	   echo 'cd $(abspath $(DEC_OUT)/ty/rtl) && $(abspath tools/lint_rtl.sh) --coarse *_axi_wreader.v *_top.v'; \
	 } > $@
	@chmod +x $@
HDL_TESTS += $(DEC_OUT)/lint_dec.sh

# A model narrower than its vector lanes (dim 4, hidden_dim 6 at the default
# 16: the mat-vec's write lanes 6..15 feed no bank; both forms): lint of the
# mat-vec and the top, which once failed -Wall on the unused lanes.
DEC_TE_ARGS := dim=4 hidden-dim=6 n-layers=1 n-heads=2 n-kv-heads=1 vocab-size=20 seq-len=4
$(eval $(call lg_dec_model,te,--config 260k $(call lg_dec_opts,$(DEC_TE_ARGS)),-O1,fast,$(DEC_OUT)/te/rtl,))
$(eval $(call lg_dec_model,tf,--config 260k $(call lg_dec_opts,$(DEC_TE_ARGS)) --mul-share 1,-O1,fast,$(DEC_OUT)/tf/rtl,))
# tg: the lean form at seq_len 2 with a single-port cache: 2 mantissa words,
# too few for the cache's exponents-in-the-mantissa-banks layout (SPX), whose
# bank address [MAW-1:1] was then backwards (iverilog refused it, verilator
# crashed in V3DfgPeephole)
DEC_TG_ARGS := dim=4 hidden-dim=6 n-layers=1 n-heads=2 n-kv-heads=1 vocab-size=20 seq-len=2 kv-ports=1 mul-share=1
$(eval $(call lg_dec_model,tg,--config 260k $(call lg_dec_opts,$(DEC_TG_ARGS)),-O1,fast,$(DEC_OUT)/tg/rtl,))
$(DEC_OUT)/lint_dec_narrow.sh: $(DEC_OUT)/te/emit.stamp $(DEC_OUT)/tf/emit.stamp $(DEC_OUT)/tg/emit.stamp tests/hdl/decoder.mk
	@{ echo '#!/bin/sh'; echo '# generated by tests/hdl/decoder.mk: lint a decoder narrower than its vector lanes, and a 2-word K/V cache'; \
	   echo 'set -e'; \
	   echo 'cd $(abspath $(DEC_OUT)/te/rtl) && $(abspath tools/lint_rtl.sh) --coarse *_matvec.v *_top.v'; \
	   echo 'cd $(abspath $(DEC_OUT)/tf/rtl) && $(abspath tools/lint_rtl.sh) --coarse *_matvec.v *_top.v'; \
	   echo 'cd $(abspath $(DEC_OUT)/tg/rtl) && $(abspath tools/lint_rtl.sh) --coarse *_kvcache.v *_top.v'; \
	 } > $@
	@chmod +x $@
HDL_TESTS += $(DEC_OUT)/lint_dec_narrow.sh

DEC_LINT_DIRS := $(DEC_OUT)/ta/rtl $(DEC_OUT)/tx/rtl $(DEC_OUT)/ty/rtl $(if $(DEC_REAL_260K),$(DEC_OUT)/t260k/rtl)

.PHONY: lint-decoder
## lint-decoder: full RTL lint of every file of four emitted decoders (small synthetic, its two --ext-weights forms, 260k)
lint-decoder: $(DEC_OUT)/ta/emit.stamp $(DEC_OUT)/tx/emit.stamp $(DEC_OUT)/ty/emit.stamp $(if $(DEC_REAL_260K),$(DEC_OUT)/t260k/emit.stamp)
	@set -e; for d in $(DEC_LINT_DIRS); do \
	  tools/lint_rtl.sh $$(sed "s|^|$$d/|" $$d/files.f); done
lint: lint-decoder
