# Emitter core (included by the main Makefile): embedded RTL templates, the
# mat-vec / activation-quantizer Verilator benches, and RTL lint.
#
#  - rtl_templates/*.v -> $(BUILD)/gen/templates.c (tools/embed_templates.sh),
#    compiled into libllamagen.a (src/emit.c reads the table).
#  - Per bench config: tests/hdl/gen_unit emits the RTL into
#    $(BUILD)/hdl/<unit>_<cfg>/rtl/, Verilator (-Wall --assert) builds the
#    model, and the bench binary $(BUILD)/hdl/<unit>_<cfg>/tb (linked with the
#    C twins) is appended to HDL_TESTS; `make test` runs it.
#  - `make lint` runs tools/lint_rtl.sh (full mode) on every emitted file.

# ---- embedded templates --------------------------------------------------------

LG_TEMPLATES := $(sort $(wildcard rtl_templates/*.v))

# The list of template names, rewritten only when it changes, so adding or
# removing a template regenerates the table (the content is covered by the
# template files themselves).
$(BUILD)/gen/templates.list: lg_force_templates
	@mkdir -p $(dir $@)
	@echo '$(LG_TEMPLATES)' | cmp -s - $@ || echo '$(LG_TEMPLATES)' > $@

$(BUILD)/gen/templates.c: tools/embed_templates.sh $(LG_TEMPLATES) $(BUILD)/gen/templates.list
	@mkdir -p $(dir $@)
	tools/embed_templates.sh $@ $(LG_TEMPLATES)

$(BUILD)/gen/templates.o: $(BUILD)/gen/templates.c
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# An extra prerequisite of the library: its recipe archives $^.
$(LIB): $(BUILD)/gen/templates.o

.PHONY: lg_force_templates
lg_force_templates:

# ---- HDL benches ------------------------------------------------------------------

CXX        ?= g++
HDL_DIR    := $(BUILD)/hdl
# C++ of the models and benches: -O1 keeps the verilated models quick to
# compile (the build, not the simulation, dominates the bench time).
HDL_CXXOPT ?= -O1
VLT_ROOT   := $(shell $(VERILATOR) --getenv VERILATOR_ROOT 2>/dev/null)
HDL_CXXFLAGS := -std=gnu++17 $(HDL_CXXOPT) -faligned-new -I$(VLT_ROOT)/include \
	-I$(VLT_ROOT)/include/vltstd -DVM_COVERAGE=0 -DVM_SC=0 -DVM_TRACE=1 -DVM_TRACE_FST=0 \
	-DVM_TRACE_VCD=1 -Wno-unused-parameter -Wno-bool-operation -Wno-sign-compare \
	-Wno-uninitialized -Wno-unused-but-set-variable -Wno-unused-variable -Wno-shadow
# -Wall --assert; --x-initial/--x-assign unique so that randReset(2) in
# sim/testb.h really randomizes every unreset register.
VLT_FLAGS  := --cc -Wall --assert --trace --x-initial unique --x-assign unique --prefix Vdut

# The Verilator runtime, compiled once and shared by every bench.
HDL_VRT := $(addprefix $(HDL_DIR)/vrt/,verilated.o verilated_vcd_c.o verilated_threads.o)
$(HDL_DIR)/vrt/%.o: $(VLT_ROOT)/include/%.cpp
	@mkdir -p $(dir $@)
	$(CXX) $(HDL_CXXFLAGS) -c $< -o $@

# Emits one unit's RTL with the library (tests/hdl/gen_unit.c).
$(HDL_DIR)/gen_unit: tests/hdl/gen_unit.c $(LIB) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

# lg_hdl_bench: one configuration = one emitted module, one verilated model,
# one bench binary.
#   $(1) config dir name   $(2) unit (matvec | actq)   $(3) gen_unit arguments
#   $(4) module name        $(5) bench -D flags
#   $(6) extra Verilator flags (-G parameter overrides: the VL / WL variants,
#        whose RTL text is the default one's, so only the default is linted)
# The RTL is re-emitted whenever the library changes but only replaced when
# its text changes, so colleagues' library edits do not re-verilate.
define lg_hdl_bench
$(HDL_DIR)/$(1)/rtl/$(4).v: $(HDL_DIR)/gen_unit
	@rm -rf $(HDL_DIR)/$(1)/rtl.new && mkdir -p $(HDL_DIR)/$(1)/rtl.new $(HDL_DIR)/$(1)/rtl
	$(HDL_DIR)/gen_unit $(HDL_DIR)/$(1)/rtl.new $(3) >/dev/null
	@cmp -s $(HDL_DIR)/$(1)/rtl.new/$(4).v $$@ || cp $(HDL_DIR)/$(1)/rtl.new/$(4).v $$@
	@rm -rf $(HDL_DIR)/$(1)/rtl.new

$(HDL_DIR)/$(1)/obj/Vdut.h: $(HDL_DIR)/$(1)/rtl/$(4).v
	@rm -rf $(HDL_DIR)/$(1)/obj
	$(VERILATOR) $(VLT_FLAGS) $(6) --top-module $(4) -Mdir $(HDL_DIR)/$(1)/obj $$<
	@cd $(HDL_DIR)/$(1)/obj && for f in Vdut*.cpp; do echo "#include \"$$$$f\""; done > all.cpp

$(HDL_DIR)/$(1)/model.o: $(HDL_DIR)/$(1)/obj/Vdut.h
	$(CXX) $(HDL_CXXFLAGS) -I$(HDL_DIR)/$(1)/obj -c $(HDL_DIR)/$(1)/obj/all.cpp -o $$@

$(HDL_DIR)/$(1)/tb.o: tests/hdl/tb_$(2).cpp sim/testb.h $(HDL_DIR)/$(1)/obj/Vdut.h $(HDRS)
	$(CXX) $(HDL_CXXFLAGS) -Isim -Iinclude -I$(HDL_DIR)/$(1)/obj $(5) -c $$< -o $$@

$(HDL_DIR)/$(1)/tb: $(HDL_DIR)/$(1)/tb.o $(HDL_DIR)/$(1)/model.o $(HDL_VRT) $(LIB)
	$(CXX) $$^ $(LDFLAGS) -pthread -latomic $(LDLIBS) -o $$@

HDL_TESTS += $(HDL_DIR)/$(1)/tb
LG_CORE_TESTS += $(HDL_DIR)/$(1)/tb
$(if $(6),,LG_EMITTED_RTL += $(HDL_DIR)/$(1)/rtl/$(4).v)
endef

LG_EMITTED_RTL :=
LG_CORE_TESTS :=
mv = $(call lg_hdl_bench,matvec_l$(1)_g$(2)_r$(3)_c$(4),matvec,matvec $(1) $(2) $(3) $(4),lg_matvec_l$(1)_g$(2)_r$(3)_c$(4),-DTB_LANES=$(1) -DTB_GROUP=$(2) -DTB_ROWS=$(3) -DTB_COLS=$(4))
aq = $(call lg_hdl_bench,actq_c$(1),actq,actq $(1),lg_actq_c$(1),-DTB_COLS=$(1))
# the wide variants the decoder uses: WL activation writes, VL elements per beat
mvw = $(call lg_hdl_bench,matvec_l$(1)_g$(2)_r$(3)_c$(4)_w$(5),matvec,matvec $(1) $(2) $(3) $(4),lg_matvec_l$(1)_g$(2)_r$(3)_c$(4),-DTB_LANES=$(1) -DTB_GROUP=$(2) -DTB_ROWS=$(3) -DTB_COLS=$(4) -DTB_WL=$(5),-GWL=$(5))
aqv = $(call lg_hdl_bench,actq_c$(1)_v$(2),actq,actq $(1),lg_actq_c$(1),-DTB_COLS=$(1) -DTB_VL=$(2),-GVL=$(2))
# two activation vectors in one engine (COLS2: the decoder's dim and hidden
# inputs): region 1 longer (172 after 64) or shorter (64 after 172)
aq2 = $(call lg_hdl_bench,actq_c$(1)_x$(2)_v$(3),actq,actq $(1),lg_actq_c$(1),-DTB_COLS=$(1) -DTB_COLS2=$(2) -DTB_VL=$(3),-GVL=$(3) -GCOLS2=$(2))
# the lean quantizer (--mul-share: gen_unit's MUL_SHARE 1): plain (linted)
# and with VL (aqvs) / COLS2 and VL (aq2s) overrides
aqs = $(call lg_hdl_bench,actq_c$(1)_s,actq,actq $(1) 1,lg_actq_c$(1),-DTB_COLS=$(1) -DTB_MUL_SHARE=1)
aqvs = $(call lg_hdl_bench,actq_c$(1)_v$(2)_s,actq,actq $(1) 1,lg_actq_c$(1),-DTB_COLS=$(1) -DTB_VL=$(2) -DTB_MUL_SHARE=1,-GVL=$(2))
aq2s = $(call lg_hdl_bench,actq_c$(1)_x$(2)_v$(3)_s,actq,actq $(1) 1,lg_actq_c$(1),-DTB_COLS=$(1) -DTB_COLS2=$(2) -DTB_VL=$(3) -DTB_MUL_SHARE=1,-GVL=$(3) -GCOLS2=$(2))
mv2 = $(call lg_hdl_bench,matvec_l$(1)_g$(2)_r$(3)_c$(4)_x$(5)_w$(6),matvec,matvec $(1) $(2) $(3) $(4),lg_matvec_l$(1)_g$(2)_r$(3)_c$(4),-DTB_LANES=$(1) -DTB_GROUP=$(2) -DTB_ROWS=$(3) -DTB_COLS=$(4) -DTB_COLS2=$(5) -DTB_WL=$(6),-GWL=$(6) -GCOLS2=$(5))
# the lean form (--mul-share: serial output stage), plain and with COLS2
mvs = $(call lg_hdl_bench,matvec_l$(1)_g$(2)_r$(3)_c$(4)_s,matvec,matvec $(1) $(2) $(3) $(4) 1,lg_matvec_l$(1)_g$(2)_r$(3)_c$(4),-DTB_LANES=$(1) -DTB_GROUP=$(2) -DTB_ROWS=$(3) -DTB_COLS=$(4) -DTB_MUL_SHARE=1)
mv2s = $(call lg_hdl_bench,matvec_l$(1)_g$(2)_r$(3)_c$(4)_x$(5)_w$(6)_s,matvec,matvec $(1) $(2) $(3) $(4) 1,lg_matvec_l$(1)_g$(2)_r$(3)_c$(4),-DTB_LANES=$(1) -DTB_GROUP=$(2) -DTB_ROWS=$(3) -DTB_COLS=$(4) -DTB_COLS2=$(5) -DTB_WL=$(6) -DTB_MUL_SHARE=1,-GWL=$(6) -GCOLS2=$(5))

# 260k shapes at the default lanes 16 (64 x 172 is ragged: 11 beats of 16,
# last group 12 of 32); lanes 1 and 4; lanes 64 > G = 32 (two dexps per beat,
# three beats of which the last is ragged).
$(eval $(call mv,16,32,64,64))
$(eval $(call mv,16,32,172,64))
$(eval $(call mv,16,32,64,172))
$(eval $(call mv,1,32,16,172))
$(eval $(call mv,4,32,64,172))
$(eval $(call mv,64,32,64,172))
$(eval $(call aq,64))
$(eval $(call aq,172))
# WL 16 at lanes 16 (172: 11 chunks, the last ragged) and at lanes 64 (four
# chunks per bank row); VL 4 (64-bit output beat) and VL 16 (172: ragged)
$(eval $(call mvw,16,32,64,172,16))
$(eval $(call mvw,64,32,64,172,16))
$(eval $(call aqv,64,4))
$(eval $(call aqv,172,16))
# COLS2: the iCEBreaker engine (lanes 4, WL 1), the default decoder's
# (lanes 16, WL 16), and lanes 64 > G with the shorter vector second
$(eval $(call mv2,4,32,64,64,172,1))
$(eval $(call mv2,16,32,64,64,172,16))
$(eval $(call mv2,64,32,16,172,64,16))
# the lean form: the iCEBreaker engine (lanes 2: 32 and 86 beats a row; rows
# 64, 172, 512 as its matrices), lanes 4 (16 beats: one row every serial
# steps + 1 cycles, the shortest rows it takes), and a plain one (linted)
$(eval $(call mv2s,2,32,64,64,172,1))
$(eval $(call mv2s,2,32,172,64,172,1))
$(eval $(call mv2s,2,32,512,64,172,1))
$(eval $(call mv2s,4,32,64,64,172,1))
$(eval $(call mvs,4,32,64,64))
# lanes 8 > G = 4 in the lean form: two dexps a beat, each lane's mantissa
# shifted by its own group's dexp mod 8, a tree level after the slice shift
$(eval $(call mvs,8,4,16,128))
# the longer vector in region 0 (172, then 64): the lean buffer rows are
# {region, beat} only when both fit the same block RAMs this way
$(eval $(call mv2s,2,32,64,172,64,1))
# wider activation writes in the lean form (one lane a cycle: WL banks of
# element-addressed rows, the lane's bank selected after the read)
$(eval $(call mv2s,4,32,64,64,172,4))
$(eval $(call mv2s,4,32,64,64,172,2))
# one quantizer for the dim and hidden vectors (COLS2), as the decoder uses
# it: VL 1 (iCEBreaker), VL 16 (172 ragged), VL 4 with the shorter second
$(eval $(call aq2,64,172,1))
$(eval $(call aq2,64,172,16))
$(eval $(call aq2,172,64,4))
# the lean quantizer: the iCEBreaker shape (64 / 172 at VL 1), a plain 172,
# the shorter vector second at VL 4, VL 16 with 172 (ragged last beat), and
# a one-beat vector (8 at VL 8: a register, no RAM)
$(eval $(call aqs,172))
$(eval $(call aq2s,64,172,1))
$(eval $(call aq2s,172,64,4))
$(eval $(call aq2s,64,172,16))
$(eval $(call aqvs,8,8))

# Lint of every bench's emitted RTL (coarse yosys) as a test program.
$(HDL_DIR)/lint_emit_core.sh: tests/hdl/emit_core.mk
	@mkdir -p $(dir $@)
	@{ echo '#!/bin/sh'; echo '# generated by tests/hdl/emit_core.mk: lint every bench unit'; \
	   echo 'exec tools/lint_rtl.sh --coarse $(LG_EMITTED_RTL)'; } > $@
	@chmod +x $@
HDL_TESTS += $(HDL_DIR)/lint_emit_core.sh
# ... and the lint itself on modules of known verdict (a clean ROM with a
# constant bit column, a latch, an undriven wire, a real)
HDL_TESTS += tests/hdl/test_lint_rtl.sh
LG_CORE_TESTS += $(HDL_DIR)/lint_emit_core.sh
$(HDL_DIR)/lint_emit_core.sh: $(LG_EMITTED_RTL)

.PHONY: lint hdl-benches

## lint: full RTL lint (verilator -Wall, iverilog, yosys synth) of every emitted bench unit
lint: $(LG_EMITTED_RTL)
	tools/lint_rtl.sh $(LG_EMITTED_RTL)

## hdl-benches: build and run only the emitter core's HDL benches
hdl-benches: $(LG_CORE_TESTS)
	@tools/run_tests.sh $^
