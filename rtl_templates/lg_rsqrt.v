`resetall
`timescale 1ns / 1ps
`default_nettype none

// ${MODULE}: inverse square root of an unsigned integer, y * 2^(-16-k).
//
// Why: RMSNorm needs 1/sqrt(mean(x^2) + eps) once per vector. Normalising
// S = g * 4^k (g in [1, 4)) leaves a 192-entry seed table over g and one
// Newton-Raphson step y = y0 * (3 - g * y0^2) / 2: three multiplies, no
// division.
//
// C twin: lg_ref_rsqrt (src/ref_rmsnorm.c), bit-exact:
//   S = max(S, 1); k = (bitlen(S) - 1) >> 1
//   u = S * 2^(30 - 2k) truncated (g in Q30, [2^30, 2^32))
//   y0 = T[u[31:24] - 64]; sq = (y0 * y0) >> 16; gy2 = (sq * u) >> 30
//   y = (y0 * max(3 * 2^16 - gy2, 0)) >> 17      (y in (2^15, 2^16])
// LUT image (LUT_FILE): 192 words T[i] - T_MIN (T_W bits), T[i] =
// round(2^16 / sqrt((i + 64.5) / 64)) in (2^15, 2^16), read synchronously;
// T_MIN = min T[i] is added back here.
//
// Pipelined: 3 multipliers (16x16, 16x32, 16x18), one per stage.
// Latency: 6 cycles (s_valid/s_s sampled at a clock edge with ce = 1 ->
// m_valid/m_y/m_k after the 6th such edge); one result per cycle. ce = 0
// freezes every stage (stall); rst clears the valid flags only.

module ${MODULE} #(
    // Width of S (even, 2..64; the C twin takes a uint64)
    parameter integer S_W = 64,
    // $readmemh image of the seed table (192 words, see above)
    parameter LUT_FILE = "${LUT_FILE}"
) (
    input  wire           clk,
    input  wire           rst,
    // clock enable: 0 holds every pipeline register
    input  wire           ce,

    // ---- input: S (unsigned) --------------------------------------------
    input  wire           s_valid,
    input  wire [S_W-1:0] s_s,

    // ---- output: rsqrt(S) = m_y * 2^(-16 - m_k) -------------------------
    output reg            m_valid,
    output reg  [16:0]    m_y,
    output reg  [4:0]     m_k
);

// Image layout (from the table, at generation time).
localparam integer T_W = ${T_W};
localparam [15:0] T_MIN = ${T_MIN};

initial begin
    if (S_W < 2 || S_W > 64 || S_W % 2 != 0 || T_W > 15) begin
        $error("%m: S_W must be even, 2..64, and T_W at most 15");
        $finish;
    end
end

// ---- stage 0: leading one (combinational) ----------------------------------
wire [S_W-1:0] s_nz = (s_s == {S_W{1'b0}}) ? {{(S_W - 1){1'b0}}, 1'b1} : s_s;
reg  [5:0]     s_p; // bitlen(S) - 1
integer i;
always @* begin
    s_p = 6'd0;
    for (i = 0; i < S_W; i = i + 1)
        if (s_nz[i])
            s_p = i[5:0];
end

// ---- stage 1: S and k ------------------------------------------------------
reg           s1_valid;
reg [S_W-1:0] s1_s;
reg [4:0]     s1_k;
always @(posedge clk) begin
    if (ce) begin
        s1_valid <= s_valid;
        s1_s <= s_nz;
        s1_k <= s_p[5:1];
    end
    if (rst)
        s1_valid <= 1'b0;
end

// ---- stage 2: u = S * 2^(30 - 2k), 32 bits ---------------------------------
// The leading one of S sits at bit 2k or 2k+1; shifting S * 2^32 left by
// S_W - 2 - 2k puts it at the top two bits, and the top 32 bits are u.
localparam [6:0] SH_TOP = S_W[6:0] - 7'd2;
wire [6:0]       s1_sh = SH_TOP - {1'b0, s1_k, 1'b0}; // 0 .. S_W - 2
wire [S_W+31:0]  s1_ext = {s1_s, 32'd0} << s1_sh;

reg        s2_valid;
reg [31:0] s2_u;
reg [4:0]  s2_k;
always @(posedge clk) begin
    if (ce) begin
        s2_valid <= s1_valid;
        s2_u <= s1_ext[S_W+31:S_W];
        s2_k <= s1_k;
    end
    if (rst)
        s2_valid <= 1'b0;
end

// ---- stage 3: seed ROM read ------------------------------------------------
reg [T_W-1:0] rom [0:191];
initial $readmemh(LUT_FILE, rom);

wire [7:0] s2_idx = s2_u[31:24] - 8'd64; // 0..191

// Read through a registered address (see lg_exp2: Yosys and constant columns).
reg [7:0] s3_idx;
always @(posedge clk)
    if (ce)
        s3_idx <= s2_idx;

wire [T_W-1:0] s3_q = rom[s3_idx];
wire [15:0]    s3_y0 = T_MIN + {{(16 - T_W){1'b0}}, s3_q};

reg        s3_valid;
reg [31:0] s3_u;
reg [4:0]  s3_k;
always @(posedge clk) begin
    if (ce) begin
        s3_valid <= s2_valid;
        s3_u <= s2_u;
        s3_k <= s2_k;
    end
    if (rst)
        s3_valid <= 1'b0;
end

// ---- stage 4: sq = y0^2 >> 16 ----------------------------------------------
wire [31:0] s3_y0y0 = {16'd0, s3_y0} * {16'd0, s3_y0};

reg        s4_valid;
reg [15:0] s4_sq;
reg [15:0] s4_y0;
reg [31:0] s4_u;
reg [4:0]  s4_k;
always @(posedge clk) begin
    if (ce) begin
        s4_valid <= s3_valid;
        s4_sq <= s3_y0y0[31:16];
        s4_y0 <= s3_y0;
        s4_u <= s3_u;
        s4_k <= s3_k;
    end
    if (rst)
        s4_valid <= 1'b0;
end

// ---- stage 5: nr = max(3 - g * y0^2, 0) in Q16 -----------------------------
wire [47:0] s4_gy = {16'd0, s4_sq} * {16'd0, s4_u};
wire [17:0] s4_gy2 = s4_gy[47:30];
wire [17:0] s4_nr = (s4_gy2 >= 18'd196608) ? 18'd0 : 18'd196608 - s4_gy2;

reg        s5_valid;
reg [17:0] s5_nr;
reg [15:0] s5_y0;
reg [4:0]  s5_k;
always @(posedge clk) begin
    if (ce) begin
        s5_valid <= s4_valid;
        s5_nr <= s4_nr;
        s5_y0 <= s4_y0;
        s5_k <= s4_k;
    end
    if (rst)
        s5_valid <= 1'b0;
end

// ---- stage 6: y = y0 * nr / 2 ----------------------------------------------
wire [33:0] s5_y = {18'd0, s5_y0} * {16'd0, s5_nr};

always @(posedge clk) begin
    if (ce) begin
        m_valid <= s5_valid;
        m_y <= s5_y[33:17];
        m_k <= s5_k;
    end
    if (rst)
        m_valid <= 1'b0;
end

// Truncations of the C twin: bits below each >> and the low half of S * 2^32
// after the normalising shift; bit 0 of bitlen - 1 (k = p >> 1).
wire unused_ok = &{1'b0, s_p[0], s1_ext[S_W-1:0], s3_y0y0[15:0], s4_gy[29:0], s5_y[16:0]};

endmodule

`resetall
