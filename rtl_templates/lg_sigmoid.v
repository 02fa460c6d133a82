`resetall
`timescale 1ns / 1ps
`default_nettype none

// ${MODULE}: sigmoid(x), Q16 in -> Q16 out in [0, 65536].
//
// Why: SiLU(x) = x * sigmoid(x) in the FFN. sigmoid(-a) = 1 - sigmoid(a), so
// a table over [0, 16) in steps of 1/32 (512 entries) with linear
// interpolation covers every int32 input; |x| >= 16 saturates to 1.
//
// C twin: lg_ref_sigmoid (src/ref_lut.c), bit-exact:
//   a = |x|; a >= 16 << 16 -> v = 65536
//   otherwise v = T[a>>11] + ((D[a>>11] * a[10:0] + 1024) >> 11)
//   y = x >= 0 ? v : 65536 - v
// LUT image (LUT_FILE): 512 words {T[i] - T_MIN (T_W bits), D[i] =
// T[i+1] - T[i] (D_W bits)}: one synchronous single-port ROM read gives both
// (T_MIN = T[0] = 32768 is added back here).
//
// Latency: 3 cycles (s_valid/s_x sampled at a clock edge with ce = 1 ->
// m_valid/m_y after the 3rd such edge); one result per cycle. ce = 0 freezes
// every stage (stall); rst clears the valid flags only.

module ${MODULE} #(
    // $readmemh image of the table (512 words, see above)
    parameter LUT_FILE = "${LUT_FILE}"
) (
    input  wire               clk,
    input  wire               rst,
    // clock enable: 0 holds every pipeline register
    input  wire               ce,

    // ---- input: x (Q16, signed) -----------------------------------------
    input  wire               s_valid,
    input  wire signed [31:0] s_x,

    // ---- output: sigmoid(x) (Q16, 0 .. 65536) ---------------------------
    output reg                m_valid,
    output reg  [16:0]        m_y
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

// ---- stage 0: |x| and its table coordinates (combinational) ----------------
// |x| of -2^31 is 2^31: still 32 bits unsigned.
wire [31:0] a = s_x[31] ? 32'd0 - s_x : s_x;
wire        a_sat = |a[31:20]; // |x| >= 16.0
wire [8:0]  addr = a[19:11];

// ---- stage 1: ROM read; fraction and flags ---------------------------------
// The ROM is read synchronously through a registered address (a block RAM
// read port; Yosys merges the register into it). Registering the data
// instead is equivalent for a ROM, but Yosys 0.23 then leaves a dangling
// flip-flop input for every constant bit column and fails check -assert.
reg [W-1:0] rom [0:511];
initial $readmemh(LUT_FILE, rom);

reg [8:0] s1_addr;
always @(posedge clk)
    if (ce)
        s1_addr <= addr;

wire [W-1:0] s1_q = rom[s1_addr];

reg        s1_valid;
reg [10:0] s1_fr;
reg        s1_sat;
reg        s1_neg;
always @(posedge clk) begin
    if (ce) begin
        s1_valid <= s_valid;
        s1_fr <= a[10:0];
        s1_sat <= a_sat;
        s1_neg <= s_x[31];
    end
    if (rst)
        s1_valid <= 1'b0;
end

// ---- stage 2: interpolate (v in [32768, 65536]) ----------------------------
wire [T_W-1:0]  s1_t = s1_q[W-1:D_W];
wire [D_W-1:0]  s1_d = s1_q[D_W-1:0];
wire [D_W+11:0] s1_prod = {1'b0, s1_d} * {1'b0, s1_fr} + 1024;
wire [17:0]     s1_v = {1'b0, T_MIN} + {{(18 - T_W){1'b0}}, s1_t}
                     + {{(17 - D_W){1'b0}}, s1_prod[D_W+11:11]};

reg        s2_valid;
reg [16:0] s2_v;
reg        s2_neg;
always @(posedge clk) begin
    if (ce) begin
        s2_valid <= s1_valid;
        s2_v <= s1_sat ? 17'd65536 : s1_v[16:0];
        s2_neg <= s1_neg;
    end
    if (rst)
        s2_valid <= 1'b0;
end

// ---- stage 3: reflect negative inputs --------------------------------------
always @(posedge clk) begin
    if (ce) begin
        m_valid <= s2_valid;
        m_y <= s2_neg ? 17'd65536 - s2_v : s2_v;
    end
    if (rst)
        m_valid <= 1'b0;
end

// s1_v <= 65536 (the carry bit is always 0); >> 11 drops the low product bits.
wire unused_ok = &{1'b0, s1_v[17], s1_prod[10:0]};

endmodule

`resetall
