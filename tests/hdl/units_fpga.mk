# FPGA board units: QSPI weight stream, UART, host token protocol (included
# by the main Makefile after emit_core.mk, whose HDL_DIR, VLT_FLAGS,
# HDL_CXXFLAGS and HDL_VRT it reuses; appends to HDL_TESTS).
#
#  - tests/hdl/gen_fpga_units emits the units with the library's template
#    machinery into $(FPGA_OUT)/gen/rtl/, plus per bench a wrapper
#    ($(FPGA_OUT)/gen/tb_<b>/tb_<b>_top.v, every configuration in one
#    Verilator model) and the same table as a C header (tb_<b>_cfg.h). It
#    writes into gen.new; only changed files are copied over, so library
#    edits elsewhere do not re-verilate.
#  - tb_qspi: lg_qspi_stream against the pin-level flash model
#    (sim/flash_model.h) serving images packed by
#    examples/fpga/icebreaker/flash_image.h; tb_uart: UART loopback through
#    lg_uart_tokens with a C++ stand-in for the decoder (tb_uart2: the same
#    bench on a second lg_uart_tokens shape); tb_probe: the
#    iCEBreaker probe's logic (examples/fpga/icebreaker/icebreaker_probe_core.v:
#    flash -> lg_qspi_stream -> lg_matvec -> UART) end to end, every result
#    against lg_ref_matvec (examples/fpga/icebreaker/sim_probe.cpp).
#  - $(FPGA_OUT)/lint_fpga.sh lints the emitted units (tools/lint_rtl.sh
#    --coarse) as a test program; `make lint` runs the full flow on them.
#  - $(FPGA_OUT)/up5k_probe.sh: the UP5K build in make test. It runs
#    examples/fpga/icebreaker/up5k_check.sh: the iCEBreaker probe through yosys,
#    nextpnr-ice40 and icepack (in $(FPGA_UP5K), shared with `make fpga-probe`),
#    prints the report and fails when the probe exceeds the UP5K (LC, EBR,
#    SPRAM, DSP) or misses the Makefile's FREQ. About 40 s from scratch, 1 s
#    when up to date. Retarget with FREQ / LANES / SEED / LIMITS in the
#    environment (see the script).
#  - $(FPGA_OUT)/up5k_decoder.sh: the complete decoder's UP5K build in make
#    test (examples/fpga/icebreaker/up5k_decoder.sh: `make decoder` into
#    $(FPGA_UP5K_DEC), the stories260K weights from MODELS when present):
#    fails when it no longer places on the UP5K or misses DEC_FREQ, in
#    nextpnr's timing or with the SB_MAC16 delays nextpnr leaves out
#    (paths_by_unit.py; $(FPGA_OUT)/paths_by_unit.sh tests that check). About
#    1.5 min from scratch.
#  - synth-estimates: yosys synth_ecp5 / synth_xilinx of the 260k, 15m and 110m
#    decoders (tools/synth_estimates.sh; not part of make test).

FPGA_OUT     := $(HDL_DIR)/fpga
FPGA_GEN     := $(HDL_DIR)/gen_fpga_units
FPGA_BENCHES := qspi uart uart2
FPGA_UNITS   := lg_qspi_stream lg_uart_rx lg_uart_tx lg_uart_tokens

$(FPGA_GEN): tests/hdl/gen_fpga_units.c $(LIB) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

# Touched only when some emitted file changed (make re-stats it afterwards).
$(FPGA_OUT)/gen/.changed: $(FPGA_GEN)
	@rm -rf $(FPGA_OUT)/gen.new && mkdir -p $(FPGA_OUT)/gen
	$(FPGA_GEN) bench $(FPGA_OUT)/gen.new $(FPGA_OUT)/gen
	@cd $(FPGA_OUT)/gen.new && changed=0 && \
	  for f in $$(find . -type f); do \
	    if ! cmp -s $$f ../gen/$$f; then mkdir -p ../gen/$$(dirname $$f); \
	      cp $$f ../gen/$$f; changed=1; fi; \
	  done && \
	  if [ $$changed = 1 ] || [ ! -f ../gen/.changed ]; then touch ../gen/.changed; fi
	@rm -rf $(FPGA_OUT)/gen.new

# $(1) = bench. The RTL list is a shell glob: it exists only after generation.
define FPGA_BENCH_RULE
$(FPGA_OUT)/$(1)/obj/Vdut.h: $(FPGA_OUT)/gen/.changed
	@rm -rf $(FPGA_OUT)/$(1)/obj && mkdir -p $(FPGA_OUT)/$(1)/obj
	$(VERILATOR) $(VLT_FLAGS) --top-module tb_$(1)_top -Mdir $(FPGA_OUT)/$(1)/obj \
	  $(FPGA_OUT)/gen/tb_$(1)/tb_$(1)_top.v $(FPGA_OUT)/gen/rtl/*.v
	@cd $(FPGA_OUT)/$(1)/obj && for f in Vdut*.cpp; do echo "#include \"$$$$f\""; done > all.cpp

$(FPGA_OUT)/$(1)/model.o: $(FPGA_OUT)/$(1)/obj/Vdut.h
	$(CXX) $(HDL_CXXFLAGS) -I$(FPGA_OUT)/$(1)/obj -c $(FPGA_OUT)/$(1)/obj/all.cpp -o $$@

$(FPGA_OUT)/$(1)/tb.o: tests/hdl/tb_$(1).cpp sim/testb.h sim/flash_model.h \
  examples/fpga/icebreaker/flash_image.h $(FPGA_OUT)/$(1)/obj/Vdut.h $(HDRS)
	$(CXX) $(HDL_CXXFLAGS) -Isim -Iinclude -Iexamples/fpga/icebreaker \
	  -I$(FPGA_OUT)/gen/tb_$(1) -I$(FPGA_OUT)/$(1)/obj -c $$< -o $$@

$(FPGA_OUT)/tb_$(1): $(FPGA_OUT)/$(1)/tb.o $(FPGA_OUT)/$(1)/model.o $(HDL_VRT) $(LIB)
	$(CXX) $$^ $(LDFLAGS) -pthread -latomic $(LDLIBS) -o $$@
endef
$(foreach b,$(FPGA_BENCHES),$(eval $(call FPGA_BENCH_RULE,$(b))))
# tb_uart2.cpp is tb_uart.cpp on another configuration
$(FPGA_OUT)/uart2/tb.o: tests/hdl/tb_uart.cpp

# ---- the probe, end to end (lanes 4, 512 x 172; the board's IO registers
# are modelled in the bench, IN_LAT 2) ----
FPGA_PROBE := $(FPGA_OUT)/probe
FPGA_PROBE_MV := lg_matvec_l4_g32_r512_c172
FPGA_PROBE_SRC := examples/fpga/icebreaker

$(FPGA_PROBE)/rtl/.changed: $(FPGA_GEN)
	@rm -rf $(FPGA_PROBE)/rtl.new && mkdir -p $(FPGA_PROBE)/rtl.new $(FPGA_PROBE)/rtl
	$(FPGA_GEN) board $(FPGA_PROBE)/rtl.new 4 512 172 >/dev/null
	@cd $(FPGA_PROBE)/rtl.new && changed=0 && for f in *.v; do \
	    if ! cmp -s $$f ../rtl/$$f; then cp $$f ../rtl/$$f; changed=1; fi; done && \
	  if [ $$changed = 1 ] || [ ! -f ../rtl/.changed ]; then touch ../rtl/.changed; fi
	@rm -rf $(FPGA_PROBE)/rtl.new

$(FPGA_PROBE)/obj/Vdut.h: $(FPGA_PROBE)/rtl/.changed $(FPGA_PROBE_SRC)/icebreaker_probe_core.v
	@rm -rf $(FPGA_PROBE)/obj && mkdir -p $(FPGA_PROBE)/obj
	$(VERILATOR) $(VLT_FLAGS) --top-module icebreaker_probe_core -Mdir $(FPGA_PROBE)/obj \
	  -GCLK_HZ=1152000 -GIN_LAT=2 -GLANES=4 -GROWS=512 -GCOLS=172 \
	  +define+LG_MATVEC=$(FPGA_PROBE_MV) $(FPGA_PROBE)/rtl/*.v \
	  $(FPGA_PROBE_SRC)/icebreaker_probe_core.v
	@cd $(FPGA_PROBE)/obj && for f in Vdut*.cpp; do echo "#include \"$$f\""; done > all.cpp

$(FPGA_PROBE)/model.o: $(FPGA_PROBE)/obj/Vdut.h
	$(CXX) $(HDL_CXXFLAGS) -I$(FPGA_PROBE)/obj -c $(FPGA_PROBE)/obj/all.cpp -o $@

$(FPGA_PROBE)/tb.o: $(FPGA_PROBE_SRC)/sim_probe.cpp sim/testb.h sim/flash_model.h sim/pty_link.h \
  $(FPGA_PROBE_SRC)/flash_image.h $(FPGA_PROBE)/obj/Vdut.h $(HDRS)
	$(CXX) $(HDL_CXXFLAGS) -Isim -Iinclude -I$(FPGA_PROBE_SRC) -I$(FPGA_PROBE)/obj \
	  -DSIM_LANES=4 -DSIM_ROWS=512 -DSIM_COLS=172 -c $< -o $@

$(FPGA_OUT)/tb_probe: $(FPGA_PROBE)/tb.o $(FPGA_PROBE)/model.o $(HDL_VRT) $(LIB)
	$(CXX) $^ $(LDFLAGS) -pthread -latomic $(LDLIBS) -o $@

FPGA_BENCHES += probe

FPGA_LINT := $(addprefix $(FPGA_OUT)/gen/rtl/,$(addsuffix .v,$(FPGA_UNITS)))

$(FPGA_OUT)/lint_fpga.sh: tests/hdl/units_fpga.mk $(FPGA_OUT)/gen/.changed
	@{ echo '#!/bin/sh'; echo '# generated by tests/hdl/units_fpga.mk: lint the FPGA board units'; \
	   echo 'exec tools/lint_rtl.sh --coarse $(FPGA_LINT)'; } > $@
	@chmod +x $@

# lg_fpga_wrap: the recipe of a generated test script $@ that says $(1) and
# runs $(2) (no commas in either)
define lg_fpga_wrap
	@mkdir -p $(dir $@)
	@{ echo '#!/bin/sh'; echo '# generated by tests/hdl/units_fpga.mk: $(1)'; \
	   echo 'exec $(2)'; } > $@
	@chmod +x $@
endef

# lg_qspi_stream's impossible parameter sets (SCK_DDR without an input
# register, ...) rejected at elaboration, the used ones accepted (Icarus)
$(FPGA_OUT)/qspi_params.sh: $(FPGA_OUT)/gen/.changed tests/hdl/units_fpga.mk
	$(call lg_fpga_wrap,lg_qspi_stream rejects impossible parameters,sh tests/hdl/test_qspi_params.sh $(FPGA_OUT)/gen/rtl/lg_qspi_stream.v)

# icebreaker_shell's flash pins through yosys' SB_IO simulation model at
# SCK = clk (DDR SCK output, falling-edge input) and SCK = clk / 2: the
# assumptions the pin models of sim_decoder.cpp and sim_probe.cpp make,
# checked at every edge (Icarus)
$(FPGA_OUT)/shell_pins.sh: tests/hdl/units_fpga.mk
	$(call lg_fpga_wrap,the board shell flash pins with the SB_IO model,sh tests/hdl/test_shell_pins.sh $(FPGA_OUT)/shell_pins)

# ---- UP5K fit and timing of the probe (yosys, nextpnr-ice40, icepack) ----
FPGA_UP5K := $(abspath $(BUILD))/fpga/icebreaker

$(FPGA_OUT)/up5k_probe.sh: tests/hdl/units_fpga.mk $(LIB)
	$(call lg_fpga_wrap,the iCEBreaker probe must fit the UP5K and meet FREQ,sh examples/fpga/icebreaker/up5k_check.sh $(FPGA_UP5K) $(abspath $(LIB)))

# ---- UP5K fit and timing of the complete decoder (make decoder, ~1.5 min) ----
FPGA_UP5K_DEC := $(abspath $(BUILD))/fpga/icebreaker_decoder

$(FPGA_OUT)/up5k_decoder.sh: tests/hdl/units_fpga.mk $(LIB) $(CLI)
	$(call lg_fpga_wrap,the complete decoder must place on the UP5K and meet DEC_FREQ,sh examples/fpga/icebreaker/up5k_decoder.sh $(FPGA_UP5K_DEC) $(abspath $(CLI)) $(abspath $(LIB)) $(abspath $(MODELS)))

# the UP5K checks' verdict on that build's real report, forced to fail (a
# clock target above its Fmax, one LC too many, a --limit below the count);
# runs after up5k_decoder.sh, whose report it reads
$(FPGA_OUT)/up5k_report_fail.sh: tests/hdl/units_fpga.mk
	$(call lg_fpga_wrap,report.py must fail a missed clock or an overflow,sh tests/hdl/test_report_fail.sh $(FPGA_UP5K_DEC))

# paths_by_unit.py (the decoder build's timing check with the SB_MAC16
# delays) on that build's SDF and on a hand-made one; runs after
# up5k_decoder.sh
$(FPGA_OUT)/paths_by_unit.sh: tests/hdl/units_fpga.mk
	$(call lg_fpga_wrap,the timing check with the DSP delays,sh tests/hdl/test_paths_by_unit.sh $(FPGA_UP5K_DEC))

# the board build re-emits the decoder's RTL when DEC_ARGS or the checkpoint
# change, and only then (about a second)
$(FPGA_OUT)/decoder_args.sh: tests/hdl/units_fpga.mk
	$(call lg_fpga_wrap,the builds follow DEC_ARGS; the synthesis options and SEED,sh tests/hdl/test_decoder_args.sh $(FPGA_OUT)/decoder_args $(abspath $(CLI)))

# lc_by_unit.py (the decoder report's LCs per unit) on a small real netlist
$(FPGA_OUT)/lc_by_unit.sh: tests/hdl/units_fpga.mk
	$(call lg_fpga_wrap,lc_by_unit.py against a synthesized netlist,sh tests/hdl/test_lc_by_unit.sh $(FPGA_OUT)/lc_by_unit)

# chains_by_unit.py (the cells nextpnr adds to legalise carry chains) on a
# small real placement
$(FPGA_OUT)/chains_by_unit.sh: tests/hdl/units_fpga.mk
	$(call lg_fpga_wrap,chains_by_unit.py against a placed netlist,sh tests/hdl/test_chains_by_unit.sh $(FPGA_OUT)/chains_by_unit)

# the placement experiments kept as patches still apply (docs/fpga.md quotes their figures)
$(FPGA_OUT)/experiments.sh: tests/hdl/units_fpga.mk
	$(call lg_fpga_wrap,the experiment patches still apply,sh tests/hdl/test_experiments.sh)

# (in make test's order: the report and timing checks read up5k_decoder.sh's build)
FPGA_TESTS := $(addprefix $(FPGA_OUT)/tb_,$(FPGA_BENCHES)) $(FPGA_OUT)/lint_fpga.sh \
  $(FPGA_OUT)/up5k_probe.sh $(FPGA_OUT)/up5k_decoder.sh $(FPGA_OUT)/up5k_report_fail.sh \
  $(FPGA_OUT)/paths_by_unit.sh $(FPGA_OUT)/decoder_args.sh $(FPGA_OUT)/lc_by_unit.sh \
  $(FPGA_OUT)/chains_by_unit.sh $(FPGA_OUT)/experiments.sh $(FPGA_OUT)/qspi_params.sh \
  $(FPGA_OUT)/shell_pins.sh
HDL_TESTS += $(FPGA_TESTS)

.PHONY: test-fpga lint-fpga synth fpga-probe fpga-up5k-check synth-estimates

## test-fpga: QSPI flash stream, UART/token protocol and probe benches, their lint, the probe's UP5K build (fit + FREQ) and the complete decoder's (fit + DEC_FREQ)
test-fpga: $(FPGA_TESTS)
	@tools/run_tests.sh $^

## lint-fpga: full RTL lint of the FPGA board units
lint-fpga: $(FPGA_OUT)/gen/.changed
	tools/lint_rtl.sh $(FPGA_LINT)
lint: lint-fpga

## synth: the complete 260k decoder's iCEBreaker build (make -C examples/fpga/icebreaker, into build/fpga/icebreaker_decoder): yosys synth_ice40, nextpnr-ice40 --up5k --package sg48 at the PLL's DEC_FREQ, icepack; bitstream, flash image, report, timing check with the SB_MAC16 delays (the build make test checks; ~1.5 min)
synth: $(CLI) $(LIB)
	sh examples/fpga/icebreaker/up5k_decoder.sh $(FPGA_UP5K_DEC) $(abspath $(CLI)) $(abspath $(LIB)) $(abspath $(MODELS))

## fpga-probe: iCEBreaker probe build (yosys, nextpnr-ice40, icepack) and its resource/Fmax report
fpga-probe: $(LIB)
	$(MAKE) -C examples/fpga/icebreaker BUILD=$(FPGA_UP5K) LG_LIB=$(abspath $(LIB)) probe

## fpga-up5k-check: the probe's UP5K build as make test runs it: report, fail on overflow or a missed FREQ
fpga-up5k-check: $(FPGA_OUT)/up5k_probe.sh
	$<

# ---- synthesis estimates for bigger parts (docs/fpga.md): not part of make test ----
## synth-estimates: yosys synth_ecp5 + synth_xilinx of the 260k top (lanes 16) and the 15m/110m decoders: LUT/FF/BRAM/DSP table and memory check (slow: over 1 h on 2 cores; docs/fpga.md)
synth-estimates: $(CLI)
	LLAMAGEN=$(CLI) tools/synth_estimates.sh -o $(BUILD)/synth-estimates

# ---- the whole decoder as the iCEBreaker runs it (docs/fpga.md, "The decoder
# on the iCEBreaker, simulated"): `llamagen --config 260k --lanes 2 --seq-len
# 256 --kv-ports 1 --vec-lanes 1 --embed-stream 1 --mul-share 1` (K/V in
# single-port RAMs, the SPRAM form; one element per cycle through the norm
# and quantizers; each token's embedding row read from flash as a range of
# the classifier's rows, a second burst per token; the element-wise units
# and the attention on one multiplier each; the real checkpoint when ../shared/models has it, else synthetic
# weights), its <prefix>_decoder inside examples/fpga/icebreaker/
# icebreaker_decoder_core.v with the QSPI reader and the UART host protocol;
# examples/fpga/icebreaker/sim_decoder.cpp serves the weight image from the
# pin-level flash model and talks to the core over the UART line. Every
# position reads the whole image from flash (~1.57 M cycles at lanes 2), so
# make test runs 3 generated tokens and the error frames; `make sim` 24
# tokens at temperature 0.8.
FPGA_DEC := $(FPGA_OUT)/icedec
# the reader's SCK as the board build has it (icebreaker_decoder.v: SCK = clk);
# sim_decoder.cpp models those pins and refuses to build for another value
FPGA_DEC_SCK_DDR := 1
# the flash image's layout as the board build has it (MARKS: mkflash weights
# --marks); the harness packs the image the same way
FPGA_DEC_MARKS := 1
FPGA_DEC_ARGS := --config 260k --lanes 2 --seq-len 256 --kv-ports 1 --vec-lanes 1 --embed-stream 1 --mul-share 1 \
  $(if $(DEC_REAL_260K),--checkpoint $(DEC_MODELS_260K) --tokenizer $(DEC_TOK_260K))
FPGA_DEC_PLUS := +config=260k +lanes=2 +seq-len=256 +kv-ports=1 +vec-lanes=1 +embed-stream=1 +mul-share=1 \
  $(if $(DEC_REAL_260K),+checkpoint=$(DEC_MODELS_260K) +tokenizer=$(DEC_TOK_260K))
FPGA_BOARD_RTL := $(addprefix $(FPGA_OUT)/gen/rtl/,$(addsuffix .v,$(FPGA_UNITS)))

# (lg_emit, tests/hdl/decoder.mk: emitted again when the arguments change,
# synthetic or real weights as MODELS has them, whatever the last run had)
$(eval $(call lg_emit,$(FPGA_DEC),$(FPGA_DEC_ARGS),$(FPGA_DEC)/rtl,$(DEC_MODELS_260K)))

$(FPGA_DEC)/obj/Vdut.h: $(FPGA_DEC)/emit.stamp $(FPGA_OUT)/gen/.changed \
  $(FPGA_PROBE_SRC)/icebreaker_decoder_core.v $(FPGA_PROBE_SRC)/decoder_params.sh
	@rm -rf $(FPGA_DEC)/obj
	$(VERILATOR) $(DEC_VLT_FLAGS) $(DEC_VLT_trace) --top-module icebreaker_decoder_core \
	  -Mdir $(FPGA_DEC)/obj -GCLK_HZ=1152000 -GIN_LAT=2 -GSCK_DDR=$(FPGA_DEC_SCK_DDR) -GMARKS=$(FPGA_DEC_MARKS) \
	  $$(sh $(FPGA_PROBE_SRC)/decoder_params.sh $(FPGA_DEC)/rtl) -F $(FPGA_DEC)/rtl/files.f \
	  $(FPGA_BOARD_RTL) $(FPGA_PROBE_SRC)/icebreaker_decoder_core.v
	@cd $(FPGA_DEC)/obj && for f in Vdut*.cpp; do echo "#include \"$$f\""; done > all.cpp

$(FPGA_DEC)/model.o: $(FPGA_DEC)/obj/Vdut.h
	$(CXX) $(DEC_CXXFLAGS) $(DEC_DEF_trace) -O1 -I$(FPGA_DEC)/obj -c $(FPGA_DEC)/obj/all.cpp -o $@

# the board build's clock in Hz as the iCEBreaker Makefile makes it (its
# DEC_FREQ default through its pll_of: icepll's achieved frequency), for the
# harness's tokens/s line; asked when the recipe runs (icepll may be
# installed by deps-check in the same make test)
$(FPGA_DEC)/tb.o: $(FPGA_PROBE_SRC)/sim_decoder.cpp sim/dec_common.h sim/testb.h sim/flash_model.h sim/pty_link.h \
  $(FPGA_PROBE_SRC)/flash_image.h $(FPGA_DEC)/obj/Vdut.h $(HDRS) $(FPGA_PROBE_SRC)/Makefile
	@hz=$$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL $(MAKE) -s --no-print-directory \
	  -C $(FPGA_PROBE_SRC) print-dec-clock) && [ -n "$$hz" ] || \
	  { echo "units_fpga.mk: no decoder clock from $(FPGA_PROBE_SRC)/Makefile (icepll missing?)" >&2; exit 1; }; \
	echo "$(CXX) ... -DBOARD_HZ=$$hz -c $< -o $@"; \
	$(CXX) $(DEC_CXXFLAGS) $(DEC_DEF_trace) -O2 -Isim -Iinclude -I$(FPGA_PROBE_SRC) \
	  -DBOARD_HZ=$$hz -DSIM_SCK_DDR=$(FPGA_DEC_SCK_DDR) -DSIM_MARKS=$(FPGA_DEC_MARKS) -I$(FPGA_DEC)/obj -c $< -o $@

$(FPGA_DEC)/tb: $(FPGA_DEC)/tb.o $(FPGA_DEC)/model.o $(DEC_VRT) $(LIB)
	$(CXX) $^ $(LDFLAGS) -pthread -latomic -lz $(LDLIBS) -o $@

# the board's flash image as the iCEBreaker Makefile's decoder-weights writes
# it (mkflash weights --marks with the emission's own arguments, refused unless
# its tag is the manifest's weight_tag): the harness serves this file
FPGA_DEC_IMG := $(FPGA_DEC)/weights_marked.bin
$(FPGA_DEC_IMG): $(FPGA_OUT)/mkflash $(FPGA_DEC)/emit.stamp $(FPGA_PROBE_SRC)/decoder_params.sh
	$(FPGA_OUT)/mkflash weights --marks $(FPGA_DEC_ARGS) \
	  --expect-tag $$(sh $(FPGA_PROBE_SRC)/decoder_params.sh $(FPGA_DEC)/rtl tag) -o $@ >/dev/null

# $(1) script name, $(2) harness arguments
define FPGA_DEC_RUN
$(FPGA_OUT)/$(1).sh: $(FPGA_DEC)/tb $(FPGA_DEC_IMG) tests/hdl/units_fpga.mk
	@{ echo '#!/bin/sh'; echo '# generated by tests/hdl/units_fpga.mk: the iCEBreaker decoder system, co-simulated'; \
	   echo 'exec $(abspath $(FPGA_DEC)/tb) +dir=$(abspath $(FPGA_DEC)/rtl) $(strip $(FPGA_DEC_PLUS)) $(2) "$$$$@"'; \
	 } > $$@
	@chmod +x $$@
endef
$(eval $(call FPGA_DEC_RUN,test_icebreaker_decoder,+n=3 +errtest +image=$(abspath $(FPGA_DEC_IMG))))
$(eval $(call FPGA_DEC_RUN,sim_icebreaker_decoder,+n=24 +temp=0.8 +seed=1234 +errtest +image=$(abspath $(FPGA_DEC_IMG))))

HDL_TESTS += $(FPGA_OUT)/test_icebreaker_decoder.sh

# lgtok.py, the host script, against the same co-simulated system over a
# pseudo-terminal (sim_decoder +pty): info, a sampled run of 3 tokens checked
# bit-exactly, a prompt id >= vocab, and its usage and timeout errors (about
# 10 s; tests/hdl/test_lgtok.sh)
$(FPGA_OUT)/lgtok.sh: $(FPGA_DEC)/tb tests/hdl/units_fpga.mk
	$(call lg_fpga_wrap,lgtok.py against the co-simulated iCEBreaker system,sh $(abspath tests/hdl/test_lgtok.sh) $(abspath $(FPGA_OUT))/lgtok $(abspath $(FPGA_DEC)/tb) +dir=$(abspath $(FPGA_DEC)/rtl) $(strip $(FPGA_DEC_PLUS)))

HDL_TESTS += $(FPGA_OUT)/lgtok.sh

# the probe's bring-up rehearsed: mkflash probe's image and expectation,
# the probe harness on a pseudo-terminal, lgtok.py probe (a few seconds;
# tests/hdl/test_lgtok_probe.sh)
$(FPGA_OUT)/mkflash: $(FPGA_PROBE_SRC)/mkflash.c $(FPGA_PROBE_SRC)/flash_image.h $(LIB) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -I$(FPGA_PROBE_SRC) $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

$(FPGA_OUT)/lgtok_probe.sh: $(FPGA_OUT)/mkflash $(FPGA_OUT)/tb_probe tests/hdl/units_fpga.mk
	$(call lg_fpga_wrap,lgtok.py probe against the co-simulated iCEBreaker probe,sh $(abspath tests/hdl/test_lgtok_probe.sh) $(abspath $(FPGA_OUT))/lgtok_probe $(abspath $(FPGA_OUT)/mkflash) $(abspath $(FPGA_OUT)/tb_probe))

HDL_TESTS += $(FPGA_OUT)/lgtok_probe.sh

.PHONY: sim-icebreaker
## sim-icebreaker: the 260k decoder with weights from the QSPI flash model and tokens over the UART (lanes 2, seq_len 256), 24 tokens at T 0.8, bit-exact
sim-icebreaker: $(FPGA_OUT)/sim_icebreaker_decoder.sh
	$<
