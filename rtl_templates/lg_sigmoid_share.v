`resetall
`timescale 1ns / 1ps
`default_nettype none

// ${MODULE}: sigmoid table stage of the multiplier-sharing SiLU gate
// (mul_share form of the sigmoid unit; no multiplier of its own).
//
// Why: with mul_share the SiLU gate runs all of its products, the sigmoid
// interpolation included, on one shared 16x16 multiplier. This module keeps
// what needs the table: the saturation test, one synchronous ROM read, and
// the interpolation operands; the caller forms
//   v = m_t + ((m_d * m_fr + 1024) >> 11),   sigmoid = m_neg ? 65536 - v : v.
//
// C twin: lg_ref_sigmoid (src/ref_lut.c), bit-exact, with a = |x| given as
// s_abs and the sign of x as s_neg:
//   a >= 16 << 16 -> v = 65536 (here m_t = 65536, m_d = 0)
//   otherwise v = T[a>>11] + ((D[a>>11] * a[10:0] + 1024) >> 11)
//   y = x >= 0 ? v : 65536 - v
// LUT image (LUT_FILE): 512 words {T[i] - T_MIN (T_W bits), D[i] =
// T[i+1] - T[i] (D_W bits)} (T_MIN = T[0] = 32768 is added back here).
//
// Latency: 1 cycle (s_* sampled at a clock edge with ce = 1 -> m_* valid
// after that edge); one lookup per cycle; ce = 0 holds the outputs. No valid
// flags: the caller's sequencer knows when it asked.

module ${MODULE} #(
    // $readmemh image of the table (512 words, see above)
    parameter LUT_FILE = "${LUT_FILE}"
) (
    input  wire        clk,
    // clock enable: 0 holds the outputs
    input  wire        ce,

    // ---- input: |x| (Q16, 0 .. 2^31) and the sign of x ------------------
    input  wire [31:0] s_abs,
    input  wire        s_neg,

    // ---- output: interpolation operands ---------------------------------
    output wire [16:0] m_t,   // T[i] (65536 when |x| >= 16)
    output wire [15:0] m_d,   // T[i+1] - T[i] (0 when |x| >= 16)
    output reg  [10:0] m_fr,  // a[10:0]
    output reg         m_neg  // x < 0: the caller reflects, 65536 - v
);

// Image layout (from the table, at generation time): offset width, difference
// width, and the offset T_MIN = min T[i].
localparam integer T_W = ${T_W};
localparam integer D_W = ${D_W};
localparam integer W = T_W + D_W;
localparam [16:0] T_MIN = ${T_MIN};

initial begin
    if (T_W > 16 || D_W > 16) begin
        $error("%m: T_W and D_W must be at most 16");
        $finish;
    end
end

// ---- ROM read through a registered address ---------------------------------
// (a block RAM read port; registering the data instead leaves a dangling
// flip-flop input per constant bit column in Yosys 0.23, failing check)
reg [W-1:0] rom [0:511];
initial $readmemh(LUT_FILE, rom);

reg [8:0] addr;
reg       sat; // |x| >= 16.0: sigmoid saturates to 1
always @(posedge clk)
    if (ce) begin
        addr <= s_abs[19:11];
        sat <= |s_abs[31:20];
        m_fr <= s_abs[10:0];
        m_neg <= s_neg;
    end

wire [W-1:0] word = rom[addr];
wire [16:0]  d_ext = {{(17 - D_W){1'b0}}, word[D_W-1:0]};

assign m_t = sat ? 17'd65536 : T_MIN + {{(17 - T_W){1'b0}}, word[W-1:D_W]};
assign m_d = sat ? 16'd0 : d_ext[15:0];

// d_ext[16] is 0 (D_W <= 16).
wire unused_ok = &{1'b0, d_ext[16]};

endmodule

`resetall
