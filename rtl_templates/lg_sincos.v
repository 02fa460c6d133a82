`resetall
`timescale 1ns / 1ps
`default_nettype none

// ${MODULE}: sin and cos of a 32-bit phase (2^32 = one turn), Q16 out.
//
// Why: RoPE rotates pair j by pos * theta_j; with the angle held as an exact
// 32-bit phase (turns * 2^32) a quarter-wave table of 256 steps plus linear
// interpolation gives both sin and cos for any position, with no per-position
// tables.
//
// C twin: lg_ref_sincos (src/ref_lut.c), bit-exact. For p = phase (sin) and
// p = phase + 2^30 (cos):
//   q = p[31:30], r = p[29:0]; r' = q[0] ? 2^30 - r : r   (r' in [0, 2^30])
//   r' = 2^30 -> v = T[256]
//   otherwise v = T[r'>>22] + ((D[r'>>22] * r'[21:8] + 8192) >> 14)
//   result = q[1] ? -v : v
// LUT image (LUT_FILE): 256 words {T[i] - T_MIN (T_W bits), D[i] =
// T[i+1] - T[i] (D_W bits)} (T_MIN = T[0] = 0); T[256] = 65536 is the
// constant T_END. The ROM has two
// synchronous read ports (sin and cos in the same cycle); an FPGA flow
// duplicates it (iCE40: 2 x 2 SB_RAM40_4K).
//
// Latency: 3 cycles (s_valid/s_phase sampled at a clock edge with ce = 1 ->
// m_valid/m_sin/m_cos after the 3rd such edge); one result per cycle.
// ce = 0 freezes every stage (stall); rst clears the valid flags only.

module ${MODULE} #(
    // $readmemh image of the quarter-wave table (256 words, see above)
    parameter LUT_FILE = "${LUT_FILE}"
) (
    input  wire               clk,
    input  wire               rst,
    // clock enable: 0 holds every pipeline register
    input  wire               ce,

    // ---- input: phase (unsigned, 2^32 = 2 pi) ---------------------------
    input  wire               s_valid,
    input  wire [31:0]        s_phase,

    // ---- output: sin, cos (Q16, -65536 .. 65536) ------------------------
    output reg                m_valid,
    output reg  signed [17:0] m_sin,
    output reg  signed [17:0] m_cos
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

// ---- stage 0: quadrant fold (combinational) --------------------------------
wire [31:0] ph_s = s_phase;
wire [31:0] ph_c = s_phase + 32'h4000_0000; // cos(a) = sin(a + pi/2)
// r' in [0, 2^30]: 31 bits; bit 30 set only for r' = 2^30.
wire [30:0] rs = ph_s[30] ? 31'h4000_0000 - {1'b0, ph_s[29:0]} : {1'b0, ph_s[29:0]};
wire [30:0] rc = ph_c[30] ? 31'h4000_0000 - {1'b0, ph_c[29:0]} : {1'b0, ph_c[29:0]};

// ---- stage 1: ROM reads (two ports); fractions and flags -------------------
// The ROM is read synchronously through a registered address (a block RAM
// read port; Yosys merges the register into it). Registering the data
// instead is equivalent for a ROM, but Yosys 0.23 then leaves a dangling
// flip-flop input for every constant bit column and fails check -assert.
reg [W-1:0] rom [0:255];
initial $readmemh(LUT_FILE, rom);

reg [7:0] s1_addrs;
always @(posedge clk)
    if (ce)
        s1_addrs <= rs[29:22];

reg [7:0] s1_addrc;
always @(posedge clk)
    if (ce)
        s1_addrc <= rc[29:22];

wire [W-1:0] s1_qs = rom[s1_addrs];
wire [W-1:0] s1_qc = rom[s1_addrc];

reg        s1_valid;
reg [13:0] s1_frs, s1_frc;
reg        s1_ends, s1_endc; // r' = 2^30: the value is T_END
reg        s1_negs, s1_negc;
always @(posedge clk) begin
    if (ce) begin
        s1_valid <= s_valid;
        s1_frs <= rs[21:8];
        s1_frc <= rc[21:8];
        s1_ends <= rs[30];
        s1_endc <= rc[30];
        s1_negs <= ph_s[31];
        s1_negc <= ph_c[31];
    end
    if (rst)
        s1_valid <= 1'b0;
end

// ---- stage 2: interpolate (v in [0, 65536]) --------------------------------
wire [D_W+14:0] s1_prods = {1'b0, s1_qs[D_W-1:0]} * {1'b0, s1_frs} + 8192;
wire [D_W+14:0] s1_prodc = {1'b0, s1_qc[D_W-1:0]} * {1'b0, s1_frc} + 8192;
wire [17:0]     s1_vs = {1'b0, T_MIN} + {{(18 - T_W){1'b0}}, s1_qs[W-1:D_W]}
                      + {{(17 - D_W){1'b0}}, s1_prods[D_W+14:14]};
wire [17:0]     s1_vc = {1'b0, T_MIN} + {{(18 - T_W){1'b0}}, s1_qc[W-1:D_W]}
                      + {{(17 - D_W){1'b0}}, s1_prodc[D_W+14:14]};

reg        s2_valid;
reg [16:0] s2_vs, s2_vc;
reg        s2_negs, s2_negc;
always @(posedge clk) begin
    if (ce) begin
        s2_valid <= s1_valid;
        s2_vs <= s1_ends ? T_END : s1_vs[16:0];
        s2_vc <= s1_endc ? T_END : s1_vc[16:0];
        s2_negs <= s1_negs;
        s2_negc <= s1_negc;
    end
    if (rst)
        s2_valid <= 1'b0;
end

// ---- stage 3: sign of the half turn ----------------------------------------
always @(posedge clk) begin
    if (ce) begin
        m_valid <= s2_valid;
        m_sin <= s2_negs ? -$signed({1'b0, s2_vs}) : $signed({1'b0, s2_vs});
        m_cos <= s2_negc ? -$signed({1'b0, s2_vc}) : $signed({1'b0, s2_vc});
    end
    if (rst)
        m_valid <= 1'b0;
end

// v <= 65536 (the carry bits are always 0); >> 14 drops the low product
// bits; r'[7:0] is below the 14 interpolation bits.
wire unused_ok = &{1'b0, s1_vs[17], s1_vc[17], s1_prods[13:0], s1_prodc[13:0], rs[7:0],
                   rc[7:0]};

endmodule

`resetall
