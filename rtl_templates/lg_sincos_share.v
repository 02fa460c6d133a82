`resetall
`timescale 1ns / 1ps
`default_nettype none

// ${MODULE}: quarter-wave sine table stage of the multiplier-sharing RoPE
// (mul_share form of the sin/cos unit; no multiplier of its own).
//
// Why: with mul_share the RoPE unit computes sin and cos one after the other
// on its single shared 16x16 multiplier. This module keeps what needs the
// table: the quadrant fold of the phase, one synchronous ROM read, and the
// interpolation operands; the caller forms
//   v = m_t + ((m_d * m_fr + 8192) >> 14),   result = m_neg ? -v : v.
// One single-port ROM (iCE40: 2 SB_RAM40_4K) instead of two read ports.
//
// C twin: lg_ref_sincos (src/ref_lut.c), bit-exact. For p = phase (s_cos = 0)
// or p = phase + 2^30 (s_cos = 1, cos(a) = sin(a + pi/2)):
//   q = p[31:30], r = p[29:0]; r' = q[0] ? 2^30 - r : r   (r' in [0, 2^30])
//   r' = 2^30 -> v = T[256] (here m_t = T_END, m_d = 0)
//   otherwise v = T[r'>>22] + ((D[r'>>22] * r'[21:8] + 8192) >> 14)
//   result = q[1] ? -v : v
// LUT image (LUT_FILE): 256 words {T[i] - T_MIN (T_W bits), D[i] =
// T[i+1] - T[i] (D_W bits)}; T[256] is the constant T_END.
//
// Latency: 1 cycle (s_phase/s_cos sampled at every clock edge -> m_* valid
// after that edge); one lookup per cycle. No valid flags: the caller's
// sequencer knows when it asked.

module ${MODULE} #(
    // $readmemh image of the quarter-wave table (256 words, see above)
    parameter LUT_FILE = "${LUT_FILE}"
) (
    input  wire        clk,

    // ---- input: phase (unsigned, 2^32 = 2 pi) and sin (0) / cos (1) -----
    input  wire [31:0] s_phase,
    input  wire        s_cos,

    // ---- output: interpolation operands of the folded phase -------------
    output wire [16:0] m_t,   // T[i] (T_END at r' = 2^30)
    output wire [15:0] m_d,   // T[i+1] - T[i] (0 at r' = 2^30)
    output reg  [13:0] m_fr,  // r'[21:8]
    output reg         m_neg  // the half turn: negate the interpolated value
);

// Image layout (from the table, at generation time): offset width, difference
// width, the offset T_MIN = min T[i], and T[256] (not in the ROM).
localparam integer T_W = ${T_W};
localparam integer D_W = ${D_W};
localparam integer W = T_W + D_W;
localparam [16:0] T_MIN = ${T_MIN};
localparam [16:0] T_END = ${T_END};

initial begin
    if (T_W > 16 || D_W > 16) begin
        $error("%m: T_W and D_W must be at most 16");
        $finish;
    end
end

// ---- fold (combinational): adding 2^30 for cos touches only p[31:30] -------
// 2^30 - r = ~(r - 1) on 30 bits, so r' = (r - q[0]) ^ q[0] (one LUT and one
// carry per bit); the borrow out (r = 0 with q[0]) is r' = 2^30.
wire [1:0]  q = s_phase[31:30] + {1'b0, s_cos};
wire [30:0] r_dec = {1'b0, s_phase[29:0]} + {1'b0, {30{q[0]}}};
wire [30:0] r = {q[0] && !r_dec[30], r_dec[29:0] ^ {30{q[0]}}};

// ---- ROM read through a registered address ---------------------------------
// (a block RAM read port; registering the data instead leaves a dangling
// flip-flop input per constant bit column in Yosys 0.23, failing check)
reg [W-1:0] rom [0:255];
initial $readmemh(LUT_FILE, rom);

reg [7:0] addr;
reg       at_end; // r' = 2^30: the value is T_END
always @(posedge clk) begin
    addr <= r[29:22];
    at_end <= r[30];
    m_fr <= r[21:8];
    m_neg <= q[1];
end

wire [W-1:0] word = rom[addr];

assign m_t = at_end ? T_END : T_MIN + {{(17 - T_W){1'b0}}, word[W-1:D_W]};
wire [16:0] d_ext = {{(17 - D_W){1'b0}}, word[D_W-1:0]};
assign m_d = at_end ? 16'd0 : d_ext[15:0];

// r'[7:0] is below the 14 interpolation bits; d_ext[16] is 0 (D_W <= 16).
wire unused_ok = &{1'b0, r[7:0], d_ext[16]};

endmodule

`resetall
