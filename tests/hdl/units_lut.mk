# LUT function units, RMSNorm, RoPE, SiLU gate and residual add (included by
# the main Makefile after emit_core.mk, whose HDL_DIR, VLT_FLAGS,
# HDL_CXXFLAGS, HDL_VRT and LG_EMITTED_RTL it uses).
#
#  - tests/hdl/gen_lut_units emits every configuration with the library's
#    emitters into $(HDL_DIR)/<unit>_<cfg>/rtl/ (RTL + $readmemh images),
#    the constants each was built from into $(HDL_DIR)/<unit>_<cfg>/bench_data.txt,
#    and one top wrapper per bench into $(HDL_DIR)/tb_<unit>/ that puts all
#    configurations of the unit into a single Verilator model (four builds
#    for eight configurations).
#  - The emission goes to a scratch tree and only files whose text changed
#    are copied, so library edits elsewhere do not re-verilate the benches.
#  - Benches: $(HDL_DIR)/tb_<unit>/tb (tests/hdl/tb_<unit>.cpp, linked with
#    the C twins), appended to HDL_TESTS; the unit RTL joins LG_EMITTED_RTL
#    (coarse lint in `make test`, full lint in `make lint`).

LUT_CFG_FILES := \
	lut_std/rtl/lg_exp2.v lut_std/rtl/lg_sigmoid.v lut_std/rtl/lg_sincos.v \
	lut_std/rtl/lg_rsqrt.v lut_std/rtl/lg_exp2_lut.hex lut_std/rtl/lg_sigmoid_lut.hex \
	lut_std/rtl/lg_sine_lut.hex lut_std/rtl/lg_rsqrt_lut.hex \
	rmsnorm_260k/rtl/lg_rmsnorm_d64.v rmsnorm_260k/rtl/lg_rsqrt.v \
	rmsnorm_260k/rtl/lg_rmsnorm_d64_gain.hex rmsnorm_260k/rtl/lg_rsqrt_lut.hex \
	rmsnorm_260k/rtl/lg_rmsnorm_d64s.v rmsnorm_260k/rtl/lg_rmsnorm_d64s_gain.hex \
	rmsnorm_260k/bench_data.txt \
	rmsnorm_d4096/rtl/lg_rmsnorm_d4096.v rmsnorm_d4096/rtl/lg_rsqrt.v \
	rmsnorm_d4096/rtl/lg_rmsnorm_d4096_gain.hex rmsnorm_d4096/rtl/lg_rsqrt_lut.hex \
	rmsnorm_d4096/rtl/lg_rmsnorm_d4096s.v rmsnorm_d4096/rtl/lg_rmsnorm_d4096s_gain.hex \
	rmsnorm_d4096/bench_data.txt \
	rmsnorm_15m/rtl/lg_rmsnorm_d288.v rmsnorm_15m/rtl/lg_rsqrt.v \
	rmsnorm_15m/rtl/lg_rmsnorm_d288_gain.hex rmsnorm_15m/rtl/lg_rsqrt_lut.hex \
	rmsnorm_15m/rtl/lg_rmsnorm_d288s.v rmsnorm_15m/rtl/lg_rmsnorm_d288s_gain.hex \
	rmsnorm_15m/bench_data.txt \
	rmsnorm_h172/rtl/lg_rmsnorm_d172.v rmsnorm_h172/rtl/lg_rsqrt.v \
	rmsnorm_h172/rtl/lg_rmsnorm_d172_gain.hex rmsnorm_h172/rtl/lg_rsqrt_lut.hex \
	rmsnorm_h172/rtl/lg_rmsnorm_d172s.v rmsnorm_h172/rtl/lg_rmsnorm_d172s_gain.hex \
	rmsnorm_h172/bench_data.txt \
	rmsnorm_w64/rtl/lg_rmsnorm_w64s.v rmsnorm_w64/rtl/lg_rmsnorm_w64s_gain.hex \
	rmsnorm_w64/rtl/lg_rsqrt_lut.hex rmsnorm_w64/bench_data.txt \
	rope_260k/rtl/lg_rope_h8.v rope_260k/rtl/lg_sincos.v rope_260k/rtl/lg_rope_h8_inc.hex \
	rope_260k/rtl/lg_sine_lut.hex rope_260k/bench_data.txt \
	rope_h128/rtl/lg_rope_h128.v rope_h128/rtl/lg_sincos.v \
	rope_h128/rtl/lg_rope_h128_inc.hex rope_h128/rtl/lg_sine_lut.hex \
	rope_h128/bench_data.txt \
	rope_260k_share/rtl/lg_rope_h8_share.v rope_260k_share/rtl/lg_sincos_share.v \
	rope_260k_share/rtl/lg_rope_h8_share_inc.hex rope_260k_share/rtl/lg_sine_lut.hex \
	rope_260k_share/bench_data.txt \
	rope_h128_share/rtl/lg_rope_h128_share.v rope_h128_share/rtl/lg_sincos_share.v \
	rope_h128_share/rtl/lg_rope_h128_share_inc.hex rope_h128_share/rtl/lg_sine_lut.hex \
	rope_h128_share/bench_data.txt \
	silu_260k/rtl/lg_silu_gate.v silu_260k/rtl/lg_sigmoid.v silu_260k/rtl/lg_residual.v \
	silu_260k/rtl/lg_sigmoid_lut.hex \
	silu_260k_share/rtl/lg_silu_gate_share.v silu_260k_share/rtl/lg_sigmoid_share.v \
	silu_260k_share/rtl/lg_residual_share.v silu_260k_share/rtl/lg_sigmoid_lut.hex \
	tb_lut/tb_lut_top.v tb_rmsnorm/tb_rmsnorm_top.v tb_rope/tb_rope_top.v tb_silu/tb_silu_top.v
LUT_FILES := $(addprefix $(HDL_DIR)/,$(LUT_CFG_FILES))

# Emits the bench configurations with the library (tests/hdl/gen_lut_units.c).
$(HDL_DIR)/gen_lut_units: tests/hdl/gen_lut_units.c $(LIB) $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

# The wrappers' $readmemh paths point at $(HDL_DIR) (second argument), not at
# the scratch tree.
$(HDL_DIR)/lut_units.stamp: $(HDL_DIR)/gen_lut_units
	@rm -rf $(HDL_DIR)/lut_units.new
	$(HDL_DIR)/gen_lut_units $(HDL_DIR)/lut_units.new $(HDL_DIR)
	@cd $(HDL_DIR)/lut_units.new && for f in $(LUT_CFG_FILES); do \
	  test -f $$f || { echo "gen_lut_units did not write $$f" >&2; exit 1; }; \
	  mkdir -p ../$$(dirname $$f); cmp -s $$f ../$$f || cp $$f ../$$f; done
	@rm -rf $(HDL_DIR)/lut_units.new
	@touch $@

# Updated (when their text changes) by the stamp's recipe.
$(LUT_FILES): $(HDL_DIR)/lut_units.stamp ;

# lg_lut_bench: one Verilator model (the tb_<unit>_top wrapper and the units
# of every configuration), one bench binary.
#   $(1) bench (lut | rmsnorm | rope | silu)   $(2) RTL files besides the wrapper
define lg_lut_bench
$(HDL_DIR)/tb_$(1)/obj/Vdut.h: $(HDL_DIR)/tb_$(1)/tb_$(1)_top.v $(2)
	@rm -rf $(HDL_DIR)/tb_$(1)/obj
	$(VERILATOR) $(VLT_FLAGS) --top-module tb_$(1)_top -Mdir $(HDL_DIR)/tb_$(1)/obj $$^
	@cd $(HDL_DIR)/tb_$(1)/obj && for f in Vdut*.cpp; do echo "#include \"$$$$f\""; done > all.cpp

$(HDL_DIR)/tb_$(1)/model.o: $(HDL_DIR)/tb_$(1)/obj/Vdut.h
	$(CXX) $(HDL_CXXFLAGS) -I$(HDL_DIR)/tb_$(1)/obj -c $(HDL_DIR)/tb_$(1)/obj/all.cpp -o $$@

$(HDL_DIR)/tb_$(1)/tb.o: tests/hdl/tb_$(1).cpp sim/testb.h $(HDL_DIR)/tb_$(1)/obj/Vdut.h $(HDRS)
	$(CXX) $(HDL_CXXFLAGS) -Isim -Iinclude -I$(HDL_DIR)/tb_$(1)/obj \
	  -DLG_HDL_ROOT='"$(abspath $(HDL_DIR))"' -c $$< -o $$@

$(HDL_DIR)/tb_$(1)/tb: $(HDL_DIR)/tb_$(1)/tb.o $(HDL_DIR)/tb_$(1)/model.o $(HDL_VRT) $(LIB)
	$(CXX) $$^ $(LDFLAGS) -pthread -latomic $(LDLIBS) -o $$@

HDL_TESTS += $(HDL_DIR)/tb_$(1)/tb
endef

LUT_RTL_lut := $(addprefix $(HDL_DIR)/lut_std/rtl/,lg_exp2.v lg_sigmoid.v lg_sincos.v lg_rsqrt.v)
# the lean form (mul_share) of each RMSNorm configuration
LUT_RTL_rmsnorm_share := $(HDL_DIR)/rmsnorm_260k/rtl/lg_rmsnorm_d64s.v \
	$(HDL_DIR)/rmsnorm_d4096/rtl/lg_rmsnorm_d4096s.v $(HDL_DIR)/rmsnorm_15m/rtl/lg_rmsnorm_d288s.v \
	$(HDL_DIR)/rmsnorm_h172/rtl/lg_rmsnorm_d172s.v $(HDL_DIR)/rmsnorm_w64/rtl/lg_rmsnorm_w64s.v
LUT_RTL_rmsnorm := $(HDL_DIR)/rmsnorm_260k/rtl/lg_rmsnorm_d64.v \
	$(HDL_DIR)/rmsnorm_260k/rtl/lg_rsqrt.v $(HDL_DIR)/rmsnorm_d4096/rtl/lg_rmsnorm_d4096.v \
	$(HDL_DIR)/rmsnorm_15m/rtl/lg_rmsnorm_d288.v $(HDL_DIR)/rmsnorm_h172/rtl/lg_rmsnorm_d172.v \
	$(LUT_RTL_rmsnorm_share)
LUT_RTL_rope := $(HDL_DIR)/rope_260k/rtl/lg_rope_h8.v $(HDL_DIR)/rope_260k/rtl/lg_sincos.v \
	$(HDL_DIR)/rope_h128/rtl/lg_rope_h128.v \
	$(HDL_DIR)/rope_260k_share/rtl/lg_rope_h8_share.v \
	$(HDL_DIR)/rope_260k_share/rtl/lg_sincos_share.v \
	$(HDL_DIR)/rope_h128_share/rtl/lg_rope_h128_share.v
LUT_RTL_silu := $(addprefix $(HDL_DIR)/silu_260k/rtl/,lg_silu_gate.v lg_sigmoid.v lg_residual.v) \
	$(addprefix $(HDL_DIR)/silu_260k_share/rtl/,lg_silu_gate_share.v lg_sigmoid_share.v \
	  lg_residual_share.v)

$(eval $(call lg_lut_bench,lut,$(LUT_RTL_lut)))
$(eval $(call lg_lut_bench,rmsnorm,$(LUT_RTL_rmsnorm)))
$(eval $(call lg_lut_bench,rope,$(LUT_RTL_rope)))
$(eval $(call lg_lut_bench,silu,$(LUT_RTL_silu)))

# Lint: every emitted module once (a unit's submodules sit beside it).
LUT_LINT_RTL := $(LUT_RTL_lut) $(HDL_DIR)/rmsnorm_260k/rtl/lg_rmsnorm_d64.v \
	$(HDL_DIR)/rmsnorm_d4096/rtl/lg_rmsnorm_d4096.v $(HDL_DIR)/rmsnorm_15m/rtl/lg_rmsnorm_d288.v \
	$(HDL_DIR)/rmsnorm_h172/rtl/lg_rmsnorm_d172.v $(HDL_DIR)/rope_260k/rtl/lg_rope_h8.v \
	$(HDL_DIR)/rope_h128/rtl/lg_rope_h128.v $(HDL_DIR)/silu_260k/rtl/lg_silu_gate.v \
	$(HDL_DIR)/rope_260k_share/rtl/lg_rope_h8_share.v \
	$(HDL_DIR)/rope_h128_share/rtl/lg_rope_h128_share.v \
	$(HDL_DIR)/rope_260k_share/rtl/lg_sincos_share.v \
	$(HDL_DIR)/silu_260k_share/rtl/lg_silu_gate_share.v \
	$(HDL_DIR)/silu_260k_share/rtl/lg_sigmoid_share.v \
	$(HDL_DIR)/silu_260k/rtl/lg_residual.v \
	$(HDL_DIR)/silu_260k_share/rtl/lg_residual_share.v
LUT_LINT_RTL += $(LUT_RTL_rmsnorm_share)
LG_EMITTED_RTL += $(LUT_LINT_RTL)
$(HDL_DIR)/lint_units.sh: $(LUT_LINT_RTL)

.PHONY: hdl-lut-benches

## hdl-lut-benches: build and run only the LUT/RMSNorm/RoPE/SiLU benches
hdl-lut-benches: $(HDL_DIR)/tb_lut/tb $(HDL_DIR)/tb_rmsnorm/tb $(HDL_DIR)/tb_rope/tb \
	$(HDL_DIR)/tb_silu/tb
	@tools/run_tests.sh $^
