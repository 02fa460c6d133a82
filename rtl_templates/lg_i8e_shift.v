`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: one I8E mantissa to Q16, by its decoded shift (template
 * rtl_templates/lg_i8e_shift.v; used by lg_embed, whose numerics it is:
 * docs/numerics.md, the embedding lookup).
 *
 * Why: the embedding ROM unit dequantizes x = sat32(round_shift(m, -e))
 * with e = ebase + dexp + 16 for any decoded shift. (lg_embstream computes
 * the same with its table's EBASE baked in: a 4-bit shift by dexp, then a
 * constant one, which is smaller than this general form; tb_embed and
 * tb_embstream check each unit against the C twin.) Purely combinational: the
 * caller decodes e into the shift fields (registered or not) and registers
 * the result.
 *
 *   sh_left = 1: result = m << sh_lamt, saturated symmetrically to
 *                +-(2^31 - 1) (sh_lamt is clamped to 32 by the caller: any
 *                nonzero mantissa saturates by then)
 *   sh_left = 0: result = m >> (sh_ramt + 1) rounded half up:
 *                floor(m / 2^s) + bit s-1 of m = (t >>> 1) + t[0],
 *                t = m >>> (s - 1) (s clamped to 15 by the caller)
 */
module ${MODULE} (
    input  wire signed [7:0] mant,
    input  wire              sh_left,
    input  wire [5:0]        sh_lamt,   // left shift amount, 0..32
    input  wire [3:0]        sh_ramt,   // right shift amount minus one, 0..14
    output wire [31:0]       result
);

wire signed [40:0] m_ext = {{33{mant[7]}}, mant};
wire signed [40:0] v_left = m_ext <<< sh_lamt;
wire signed [7:0] t_right = mant >>> sh_ramt;
wire [7:0] v_right = {t_right[7], t_right[7:1]} + {7'd0, t_right[0]};
// symmetric saturation of the left shift to +-(2^31 - 1)
wire hi_zero = ~|v_left[40:31];
wire hi_ones = &v_left[40:31];
wire fits = hi_zero || (hi_ones && |v_left[30:0]);
wire [31:0] sat_left = fits ? v_left[31:0] : (v_left[40] ? 32'h8000_0001 : 32'h7fff_ffff);

assign result = sh_left ? sat_left : {{24{v_right[7]}}, v_right};

endmodule

`resetall
