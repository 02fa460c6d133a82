`resetall
`timescale 1ns / 1ps
`default_nettype none

// ${MODULE}: quarter-wave sine table stage of the multiplier-sharing RoPE
// (mul_share form of the sin/cos unit; no multiplier of its own).
//
// Why: with mul_share the RoPE unit computes sin and cos one after the other
// on its single shared 16x16 multiplier. This module keeps what needs the
// table: the table reads, the step D and the interpolation sum; the caller
// forms the product D * fr on its multiplier:
//   m_d, m_fr          -> the caller's product p = m_d * m_fr
//   s_prod = p[29:13]  -> m_v = T + ((p + 8192) >> 14)   (combinational)
//   result = m_end ? T_END : m_neg ? -m_v : m_v.
// The packed {T, D} image (LUT_FILE, 256 x 25 bits) takes 2 EBR; this stage
// stores the T column alone (T[i] - T_MIN, 16 bits, baked in at generation
// time): 256 x 16 bits, one EBR. T[i+1] and T[i] are read on two consecutive
// cycles and D is formed by subtraction.
//
// C twin: lg_ref_sincos (src/ref_lut.c), bit-exact. For p = phase (sin) or
// p = phase + 2^30 (cos, cos(a) = sin(a + pi/2)):
//   q = p[31:30], r = p[29:0]; r' = q[0] ? 2^30 - r : r   (r' in [0, 2^30])
//   r' = 2^30 -> v = T[256] = T_END
//   otherwise v = T[r'>>22] + ((D[r'>>22] * r'[21:8] + 8192) >> 14)
//   result = q[1] ? -v : v
// No fold here: of sin and cos, the one with q[0] = 0 (sin if P[30] = 0,
// else cos; P = phase) is looked up with s_mirror = 0 and s_phase = P, so
// r' = P[29:0] and q[1] = P[31] ^ P[30]; the other one (q[0] = 1, q[1] =
// P[31]) with s_mirror = 1 and s_phase = -P mod 2^32 (the caller computes
// both), so r' = s_phase[29:0] but for r = 0 (r' = 2^30: m_end), and P[31]
// is read back from -P: P[31:30] = ~s_phase[31:30] + z, z = [r = 0]. The
// caller also gives P[30] (s_p30): z = P[30] ^ ~s_phase[30] (the + z is the
// only change to bit 30), so r = 0 needs no test of the low 30 bits, and
// P[31] = ~s_phase[31] ^ (~s_phase[30] & z) = ~s_phase[31] ^ (~s_phase[30] &
// ~P[30]). s_phase[7:0] are not read.
// D is formed modulo 2^D_W from the low D_W bits of both ends, exact since
// 0 <= D < 2^D_W; for i = 255 the address i + 1 wraps to 0 and T[0] - T_MIN
// stands for T[256] - T_MIN: equal mod 2^D_W (checked by the emitter,
// lg_emit_sincos, with every other step of the image, and T_END = 65536).
//
// Timing: s_phase and s_lo are sampled at every clock edge (the address).
// The caller holds s_phase, s_mirror and s_p30 for two edges, the first
// with s_lo = 0 (reads T[i+1]), the second with s_lo = 1 (reads T[i]), and
// on until it has used the outputs; it takes m_word (T[i+1]'s low D_W bits,
// zero-extended) at the second edge and gives it back on s_thi from then
// on: after the second edge m_d (and m_v from s_prod) belong to that phase
// until the next edge; m_fr, m_neg and m_end
// are combinational from s_phase, s_mirror and s_p30 (no copy registers). Two cycles
// per lookup. No valid flags: the caller's sequencer knows when it asked.

module ${MODULE} #(
    // the packed image of lg_sincos (not read: the T column is baked in)
    /* verilator lint_off UNUSEDPARAM */
    parameter LUT_FILE = "${LUT_FILE}"
    /* verilator lint_on UNUSEDPARAM */
) (
    input  wire        clk,

    // ---- input: P or -P (unsigned, 2^32 = 2 pi), which one, the read -----
    input  wire [31:0] s_phase,
    input  wire        s_mirror, // 0: s_phase = P, 1: s_phase = -P (see above)
    input  wire        s_p30,    // with s_mirror: P[30] (P = -s_phase)
    input  wire        s_lo,     // 0: read T[i+1]; 1: read T[i] (then m_* valid)

    // ---- the caller's product D * fr, bits 29:13 -------------------------
    input  wire [16:0] s_prod,

    // ---- T[i+1], held by the caller: m_word of the first read, given back
    // in the cycles after the second (bits 15:D_W are not read)
    input  wire [15:0] s_thi,
    output wire [15:0] m_word, // the word read (T[i+1] after the first edge)

    // ---- output: interpolation operands and the interpolated value -------
    output wire [15:0] m_d,   // T[i+1] - T[i]
    output wire [13:0] m_fr,  // r'[21:8] (0 at r' = 2^30)
    output wire        m_neg, // the half turn: negate the interpolated value
    output wire        m_end, // r' = 2^30: the value is T_END (m_v is not)
    output wire [16:0] m_v    // T[i] + ((D * fr + 8192) >> 14)
);

// Image layout (from the table, at generation time): difference width and
// the offset T_MIN = min T[i]. T[256] = T_END = 65536 (not in the ROM) is
// the caller's constant.
localparam integer D_W = ${D_W};
localparam [16:0] T_MIN = ${T_MIN};

initial begin
    if (D_W < 1 || D_W > 16) begin
        $error("%m: D_W must be 1..16");
        $finish;
    end
end

// ---- the T column: T[i] - T_MIN ------------------------------------------------
reg [15:0] rom [0:255];
initial begin
${T_INIT}end

// r = 0: with s_mirror, r' = 2^30 (and P[31:30] = -s_phase[31:30]).
wire z = s_p30 ^ !s_phase[30];

// ---- ROM reads through a registered address ---------------------------------
// (a block RAM read port; registering the data instead leaves a dangling
// flip-flop input per constant bit column in Yosys 0.23, failing check)
// Address i + 1 (mod 256) with s_lo = 0, i with s_lo = 1. T[i+1] (its low
// D_W bits, read the cycle before) is held by the caller (s_thi): a register
// it has free during the lookup, loaded through the mux it has anyway, where
// a copy register here would be a flip-flop loaded from the RAM's output (a
// logic cell of its own a bit).
reg [7:0]     addr;
always @(posedge clk)
    addr <= s_phase[29:22] + {7'd0, !s_lo};

assign m_end = s_mirror && z;
assign m_fr = s_phase[21:8];
assign m_neg = s_mirror ? !s_phase[31] ^ (!s_phase[30] && !s_p30) : s_phase[31] ^ s_phase[30];

wire [15:0] word = rom[addr];
wire [16:0] word_lo = {{(17 - D_W){1'b0}}, word[D_W-1:0]};
assign m_word = word_lo[15:0];

wire [16:0] thi_ext = {1'b0, s_thi};
wire [D_W-1:0] d = thi_ext[D_W-1:0] - word[D_W-1:0]; // D[i] (mod 2^D_W: exact)
wire [16:0] d_ext = {{(17 - D_W){1'b0}}, d};
assign m_d = d_ext[15:0];

assign m_v = T_MIN + {1'b0, word} + {1'b0, s_prod[16:1]} + {16'd0, s_prod[0]};

// d_ext[16] and word_lo[16] are 0 (D_W <= 16); s_phase[7:0] are below
// m_fr; s_thi's bits above D_W are not read.
wire unused_ok = &{1'b0, d_ext[16], word_lo[16], s_phase[7:0], thi_ext[16:D_W]};

endmodule

`resetall
