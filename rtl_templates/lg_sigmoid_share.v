`resetall
`timescale 1ns / 1ps
`default_nettype none

// ${MODULE}: sigmoid table stage of the multiplier-sharing SiLU gate
// (mul_share form of the sigmoid unit; no multiplier of its own).
//
// Why: with mul_share the SiLU gate runs all of its products, the sigmoid
// interpolation included, on one shared 16x16 multiplier. This module keeps
// what needs the table: the saturation test, the table reads, and the
// interpolation operands; the caller forms
//   v - 1 = m_t + ((m_d * m_fr + 1024) >> 11),   sigmoid = m_neg ? 65536 - v : v
// (or, with m_sat, |x| >= 16: sigmoid = m_neg ? 0 : 65536). m_t is T[i] - 1:
// v - 1 fits 16 bits (v <= 65536), and 65536 - v = ~(v - 1) (16 bits).
// The packed {T, D} image (LUT_FILE, 512 x 26 bits) takes 4 EBR; this
// stage stores the T column alone (T[i] - 1, 16 bits) baked in at
// generation time: 512 x 16 bits, two EBR (512 x 8 each, no multiplexer).
// T[i+1] and T[i] are read on two consecutive cycles and D is formed by
// subtraction (only the low D_W bits of T[i+1] are kept).
//
// C twin: lg_ref_sigmoid (src/ref_lut.c), bit-exact, with a = |x| given as
// s_abs and the sign of x as s_neg:
//   a >= 16 << 16 -> v = 65536 (here m_sat = 1; m_t, m_d are not valid)
//   otherwise v = T[a>>11] + ((D[a>>11] * a[10:0] + 1024) >> 11)
//   y = x >= 0 ? v : 65536 - v
// Table layout (checked by the emitter, lg_emit_sigmoid): T[0] = 32768 <=
// T[i] <= 65536 = T[512], steps 0 <= D[i] = T[i+1] - T[i] < 2^D_W, D_W <= 15.
// D is formed modulo 2^D_W from the low D_W bits of both ends: exact since
// D < 2^D_W, also for i = 511, where T[512] is read as the wrapped entry
// T[0] - 1, equal mod 2^D_W to T[512] - 1 = T[0] - 1 + 2^15.
//
// Timing: the address is s_abs[19:11] + ce, registered at every clock edge.
// The caller holds s_abs for the edge with ce = 1 (reads T[i+1]), the next
// with ce = 0 (reads T[i]) and on until it has used the outputs: after the
// second edge, until the next edge, m_t and m_d are those of s_abs. m_fr,
// m_neg and m_sat are combinational from s_abs and s_neg (no copy
// registers). Two cycles per lookup. No valid flags: the caller's sequencer
// knows when it asked.

module ${MODULE} #(
    // the packed image of lg_sigmoid (not read: the T column is baked in)
    /* verilator lint_off UNUSEDPARAM */
    parameter LUT_FILE = "${LUT_FILE}"
    /* verilator lint_on UNUSEDPARAM */
) (
    input  wire        clk,
    input  wire        ce,   // 1: read T[i+1]; 0: read T[i] (then m_* valid)

    // ---- input: |x| (Q16, 0 .. 2^31) and the sign of x ------------------
    input  wire [31:0] s_abs,
    input  wire        s_neg,

    // ---- output: interpolation operands ---------------------------------
    output wire [15:0] m_t,   // T[i] - 1
    output wire [15:0] m_d,   // T[i+1] - T[i]
    output wire [10:0] m_fr,  // a[10:0]
    output wire        m_neg, // x < 0: the caller reflects, 65536 - v
    output wire        m_sat  // |x| >= 16: the sigmoid saturates (v = 65536)
);

// Width of the steps D[i] (from the table, at generation time).
localparam integer D_W = ${D_W};

initial begin
    if (D_W < 1 || D_W > 15) begin
        $error("%m: D_W must be 1..15");
        $finish;
    end
end

// ---- the T column: T[i] - 1 (32767 .. 65535) ----------------------------------
reg [15:0] rom [0:511];
initial begin
${T_INIT}end

// ---- ROM reads through a registered address ----------------------------------
// (a block RAM read port; registering the data instead leaves a dangling
// flip-flop input per constant bit column in Yosys 0.23, failing check)
reg [8:0]     addr;
reg [D_W-1:0] t_hi; // ~(T[i+1] - 1), low D_W bits (read the cycle before)
always @(posedge clk)
    addr <= s_abs[19:11] + {8'd0, ce}; // i + 1 (mod 512), then i

assign m_sat = |s_abs[31:20];
assign m_fr = s_abs[10:0];
assign m_neg = s_neg;

wire [15:0] word = rom[addr];
always @(posedge clk)
    t_hi <= ~word[D_W-1:0];

// D[i] = a - b = ~(~a + b) (mod 2^D_W: exact): the carry chain adds the
// registered ~a (its inverter sits in front of the flip-flop) and the
// output inverter folds into the caller's operand multiplexer, where a - b
// costs an inverter per bit on the chain's input.
wire [D_W-1:0] d = ~(t_hi + word[D_W-1:0]);

// The saturation is the caller's (a synchronous set of its sigmoid
// register, no LUT).
assign m_t = word;
assign m_d = {{(16 - D_W){1'b0}}, d};

endmodule

`resetall
