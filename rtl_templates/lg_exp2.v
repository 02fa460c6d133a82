`resetall
`timescale 1ns / 1ps
`default_nettype none

// ${MODULE}: 2^x for x <= 0, Q16 in -> Q16 out in [0, 65536].
//
// Why: the softmax of attention and the sampler need exp; with the scores
// pre-scaled by log2(e) an exp2 of a non-positive argument is enough, and
// 2^x = 2^frac(x) >> -floor(x) needs only a 256-entry table.
//
// C twin: lg_ref_exp2 (src/ref_lut.c), bit-exact:
//   x >= 0      -> 65536
//   otherwise   f = x[15:0], v = T[f>>8] + ((D[f>>8] * f[7:0] + 128) >> 8)
//               y = round_half_up(v / 2^n), n = -floor(x / 2^16) (>= 1),
//               0 once n >= 18 (v < 2^17)
// LUT image (LUT_FILE): 256 words {T[i] - T_MIN (T_W bits), D[i] =
// T[i+1] - T[i] (D_W bits)}, so one synchronous single-port ROM read gives
// both ends of the interpolation interval (T_MIN = 2^16 is added back here).
//
// Latency: 3 cycles (s_valid/s_x sampled at a clock edge with ce = 1 ->
// m_valid/m_y after the 3rd such edge); one result per cycle. ce = 0 freezes
// every stage (stall); rst clears the valid flags only.

module ${MODULE} #(
    // Width of the signed Q16 input (the C twin takes an int64)
    parameter integer X_W = 64,
    // $readmemh image of the table (256 words, see above)
    parameter LUT_FILE = "${LUT_FILE}"
) (
    input  wire                  clk,
    input  wire                  rst,
    // clock enable: 0 holds every pipeline register
    input  wire                  ce,

    // ---- input: x (Q16, signed) -----------------------------------------
    input  wire                  s_valid,
    input  wire signed [X_W-1:0] s_x,

    // ---- output: 2^x (Q16, 0 .. 65536) ----------------------------------
    output reg                   m_valid,
    output reg  [16:0]           m_y
);

// Image layout (from the table, at generation time): offset width, difference
// width, and the offset T_MIN = min T[i].
localparam integer T_W = ${T_W};
localparam integer D_W = ${D_W};
localparam integer W = T_W + D_W;
localparam [16:0] T_MIN = ${T_MIN};

initial begin
    if (X_W < 24 || X_W > 64 || T_W > 16 || D_W > 16) begin
        $error("%m: X_W must be 24..64, T_W and D_W at most 16");
        $finish;
    end
end

// ---- stage 0: split x (combinational) --------------------------------------
// ip = floor(x / 2^16) <= -1 when x < 0; n = -ip. n >= 18 -> result 0.
wire              x_nonneg = !s_x[X_W-1];
wire [X_W-17:0]   ip = s_x[X_W-1:16];
wire [X_W-17:0]   n_full = -ip;
// n >= 18 (or x >= 0, which the other flag covers): ip < -17
wire              x_zero = !x_nonneg && n_full > 17;
wire [7:0]        addr = s_x[15:8];

// ---- stage 1: ROM read; fraction and flags ---------------------------------
// The ROM is read synchronously through a registered address (a block RAM
// read port; Yosys merges the register into it). Registering the data
// instead is equivalent for a ROM, but Yosys 0.23 then leaves a dangling
// flip-flop input for every constant bit column and fails check -assert.
reg [W-1:0] rom [0:255];
initial $readmemh(LUT_FILE, rom);

reg [7:0] s1_addr;
always @(posedge clk)
    if (ce)
        s1_addr <= addr;

wire [W-1:0] s1_q = rom[s1_addr];

reg       s1_valid;
reg [7:0] s1_fr;
reg [4:0] s1_n;
reg       s1_one;
reg       s1_zero;
always @(posedge clk) begin
    if (ce) begin
        s1_valid <= s_valid;
        s1_fr <= s_x[7:0];
        s1_n <= n_full[4:0]; // 1..17 when used
        s1_one <= x_nonneg;
        s1_zero <= x_zero;
    end
    if (rst)
        s1_valid <= 1'b0;
end

// ---- stage 2: interpolate (v in [65536, 131072)) ---------------------------
wire [T_W-1:0]   s1_t = s1_q[W-1:D_W];
wire [D_W-1:0]   s1_d = s1_q[D_W-1:0];
wire [D_W+8:0]   s1_prod = {1'b0, s1_d} * {1'b0, s1_fr} + 128;
wire [17:0]      s1_v = {1'b0, T_MIN} + {{(18 - T_W){1'b0}}, s1_t}
                      + {{(17 - D_W){1'b0}}, s1_prod[D_W+8:8]};

reg        s2_valid;
reg [16:0] s2_v;
reg [4:0]  s2_n;
reg        s2_one;
reg        s2_zero;
always @(posedge clk) begin
    if (ce) begin
        s2_valid <= s1_valid;
        s2_v <= s1_v[16:0];
        s2_n <= s1_n;
        s2_one <= s1_one;
        s2_zero <= s1_zero;
    end
    if (rst)
        s2_valid <= 1'b0;
end

// ---- stage 3: round half up by n (1..17) -----------------------------------
// floor(v / 2^n) + bit n-1 of v = (t >> 1) + t[0] with t = v >> (n-1).
wire [16:0] s2_t = s2_v >> (s2_n - 5'd1);
wire [16:0] s2_y = {1'b0, s2_t[16:1]} + {16'd0, s2_t[0]};

always @(posedge clk) begin
    if (ce) begin
        m_valid <= s2_valid;
        m_y <= s2_one ? 17'd65536 : (s2_zero ? 17'd0 : s2_y);
    end
    if (rst)
        m_valid <= 1'b0;
end

// s1_v < 2^17 (the carry bit is always 0); n uses 5 bits where it matters;
// The rounding bits below the kept 8 are dropped by the >> 8.
wire unused_ok = &{1'b0, s1_v[17], n_full[X_W-17:5], s1_prod[7:0]};

endmodule

`resetall
