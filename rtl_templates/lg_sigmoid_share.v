`resetall
`timescale 1ns / 1ps
`default_nettype none

// ${MODULE}: sigmoid table stage of the multiplier-sharing SiLU gate
// (mul_share form of the sigmoid unit; no multiplier of its own).
//
// Why: with mul_share the SiLU gate runs all of its products, the sigmoid
// interpolation included, on one shared 16x16 multiplier. This module keeps
// what needs the table: the saturation test, one table lookup, and the
// interpolation operands; the caller forms
//   v = m_t + ((m_d * m_fr + 1024) >> 11),   sigmoid = m_neg ? 65536 - v : v.
// The packed {T, D} image (LUT_FILE, 512 x 26 bits) takes 4 EBR; this
// stage stores the T column alone (T[i] - 32768, 16 bits) baked in at
// generation time, split into an even bank T[2j] and an odd bank T[2j+1]
// (256 x 16 bits: one EBR each). T[i] and T[i+1] are always one even and one
// odd entry, so both banks' read ports give them in the same cycle: 2 EBR and
// no extra cycle (a single T ROM would need two reads on consecutive cycles).
//
// C twin: lg_ref_sigmoid (src/ref_lut.c), bit-exact, with a = |x| given as
// s_abs and the sign of x as s_neg:
//   a >= 16 << 16 -> v = 65536 (here m_t = 65536, m_d = 0)
//   otherwise v = T[a>>11] + ((D[a>>11] * a[10:0] + 1024) >> 11)
//   y = x >= 0 ? v : 65536 - v
// Table layout (checked by the emitter, lg_emit_sigmoid): T[0] = 32768 <=
// T[i] <= 65536 = T[512], steps 0 <= D[i] = T[i+1] - T[i] < 2^D_W, D_W <= 15.
// D is formed modulo 2^D_W from the low D_W bits of both ends: exact since
// D < 2^D_W, also for i = 511, where T[512] is read as the even bank's
// wrapped entry T[0] - 32768 = 0, equal mod 2^D_W to T[512] - 32768 = 2^15.
//
// Latency: 1 cycle (s_* sampled at every clock edge -> m_* valid after that
// edge, until the next edge); one lookup per cycle. No valid flags: the
// caller's sequencer knows when it asked. ce is not read (outputs are not
// held): the lean gate takes the operands in the one cycle after sampling,
// and an address register with an enable costs a LUT multiplexer per address
// bit in front of the block RAM (Yosys 0.23), one without it merges into the
// block RAM's read address register.

module ${MODULE} #(
    // the packed image of lg_sigmoid (not read: the T column is baked in)
    /* verilator lint_off UNUSEDPARAM */
    parameter LUT_FILE = "${LUT_FILE}"
    /* verilator lint_on UNUSEDPARAM */
) (
    input  wire        clk,
    // not read (kept for port compatibility with the hold-capable form)
    /* verilator lint_off UNUSEDSIGNAL */
    input  wire        ce,
    /* verilator lint_on UNUSEDSIGNAL */

    // ---- input: |x| (Q16, 0 .. 2^31) and the sign of x ------------------
    input  wire [31:0] s_abs,
    input  wire        s_neg,

    // ---- output: interpolation operands ---------------------------------
    output wire [16:0] m_t,   // T[i] (65536 when |x| >= 16)
    output wire [15:0] m_d,   // T[i+1] - T[i] (0 when |x| >= 16)
    output reg  [10:0] m_fr,  // a[10:0]
    output reg         m_neg  // x < 0: the caller reflects, 65536 - v
);

// Width of the steps D[i] (from the table, at generation time).
localparam integer D_W = ${D_W};

initial begin
    if (D_W < 1 || D_W > 15) begin
        $error("%m: D_W must be 1..15");
        $finish;
    end
end

// ---- the T column: even and odd entries, T[i] - 32768 -----------------------
reg [15:0] erom [0:255]; // T[2j] - 32768 (0 .. 32768)
reg [15:0] orom [0:255]; // T[2j+1] - 32768 (0 .. 32768)
initial begin
${T_INIT}end

// i = a >> 11: T[i] and T[i+1] are orom[i >> 1] and erom[(i + 1) >> 1]
// (the odd bank holds the lower end when i is odd, the even bank otherwise).
wire [8:0] idx = s_abs[19:11];
wire [7:0] ea_next = idx[8:1] + {7'd0, idx[0]}; // (i + 1) >> 1, mod 256

// ---- ROM reads through registered addresses ----------------------------------
// (block RAM read ports; registering the data instead leaves a dangling
// flip-flop input per constant bit column in Yosys 0.23, failing check)
reg [7:0] ea;   // even bank address
reg [7:0] oa;   // odd bank address
reg       odd;  // i is odd: T[i] from the odd bank
reg       sat;  // |x| >= 16.0: sigmoid saturates to 1
always @(posedge clk) begin
    ea <= ea_next;
    oa <= idx[8:1];
    odd <= idx[0];
    sat <= |s_abs[31:20];
    m_fr <= s_abs[10:0];
    m_neg <= s_neg;
end

wire [15:0] e = erom[ea];
wire [15:0] o = orom[oa];

wire [15:0]    t_lo = odd ? o : e;                      // T[i] - 32768
wire [D_W-1:0] t_hi = odd ? e[D_W-1:0] : o[D_W-1:0];   // T[i+1] - 32768, low bits
wire [D_W-1:0] d = t_hi - t_lo[D_W-1:0];                // D[i] (mod 2^D_W: exact)

// 32768 + t_lo for t_lo <= 32768 (bit 15 set only for 32768): no adder.
// (Saturating by forcing i = 511 instead, T[511] = T[512] = 65536, costs
// more: these multiplexers merge into the caller's operand selection.)
assign m_t = sat ? 17'd65536 : {t_lo[15], !t_lo[15], t_lo[14:0]};
assign m_d = sat ? 16'd0 : {{(16 - D_W){1'b0}}, d};

endmodule

`resetall
