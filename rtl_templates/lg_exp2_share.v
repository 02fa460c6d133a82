`resetall
`timescale 1ns / 1ps
`default_nettype none

// ${MODULE}: the table stage of 2^x for the lean attention (--mul-share 1;
// the default lg_exp2.v stays the unit of the default attention).
//
// Why: lg_exp2 interpolates with its own multiplier (one SB_MAC16), rounds
// with its own 17-bit shifter and reads a packed {T, D} image of 25 bits (two
// EBR). The lean attention owns one multiplier and one round-shifter that are
// idle while it waits for 2^x, so this stage only reads the table, T alone
// (16 bits: one EBR) at i and i + 1, and gives n + 8; the attention finishes
// (with f[7:0], x's low bits, from its own register)
// (C twin lg_ref_exp2, src/ref_lut.c, bit-exact):
//   acc = (T[i] << 8) + 128 + (T[i+1] - T[i]) * f[7:0],  i = f >> 8
//       = 98304 * 256 + 128 + (T[i] - 98304) * (256 - f[7:0])
//         + (T[i+1] - 98304) * f[7:0]
//                                     (its multiplier, two steps: m_d gives
//                                      T[i] - 98304, 16 bits signed, then
//                                      T[i+1] - 98304; for i = 255 it gives
//                                      T[0] - 98304, and the attention adds
//                                      the missing 2^16 f[7:0])
//   y   = round_shift(acc, n + 8)                      (its shifter)
//       = round_half_up(v / 2^n), v = T[i] + ((D * f[7:0] + 128) >> 8),
// since round_shift(a, s) depends on floor(a / 2^(s-1)) only and
// floor(floor(acc / 2^8) / 2^(n-1)) = floor(acc / 2^(n+7)). Only x <= 0 is
// taken (the attention's x = z - M'): x = 0 (m_one) comes as i = 0, f = 0,
// n = 0, where the attention drops the 128 (acc = 2^24: y = 65536); n >= 18
// comes as m_n = 31 (n + 8 >= 26: acc < 2^25 rounds to 0).
// The table: T[i] - 2^16 (i = 0..255, 16 bits) baked into this module at
// generation time from lg_luts_build, the table of the LUT_FILE image;
// T[0] = 2^16 and T[256] = 2^17, so i + 1 = 256 reads T[0] (see m_d). LUT_FILE is kept for parameter
// compatibility with lg_exp2 and is not read.
//
// Latency: 2 cycles (s_valid/s_x sampled at a clock edge -> m_n, m_one valid
// after it, held until the next s_valid). The ROM is read asynchronously
// through its registered address (one block RAM read port; yosys 0.23
// 'check' fails on a registered read whose data has constant bit columns):
// m_d is T[i] the cycle after s_valid and T[i+1] from the next on, as long
// as s_x[15:8] is held after s_valid (the attention's x keeps z's low 16
// bits, and z stays in its register through the exp2 steps); the address
// register is loaded every cycle and is the block RAM's own. m_n is n + 8
// (the attention's rounding shift).

module ${MODULE} #(
    // width of the signed Q16 input
    parameter integer X_W = 34,
    // the packed image of lg_exp2 (not read: the T column is baked in)
    /* verilator lint_off UNUSEDPARAM */
    parameter LUT_FILE = "${LUT_FILE}"
    /* verilator lint_on UNUSEDPARAM */
) (
    input  wire                  clk,

    // ---- input: x (Q16, signed), sampled when s_valid ------------------
    input  wire                  s_valid,
    input  wire signed [X_W-1:0] s_x,

    // ---- output: the interpolation's pieces for x ------------------------
    output wire [15:0]           m_d,     // T[f>>8] - 98304 (signed), then
                                          // T[(f>>8 + 1) mod 256] - 98304
    output reg  [4:0]            m_n,     // n + 8, n = -floor(x / 2^16) when 0..17; else 31
    output reg                   m_one    // x >= 0 (x = 0): 2^x = 65536
);

initial begin
    if (X_W < 24 || X_W > 64) begin
        $error("%m: X_W must be 24..64");
        $finish;
    end
end

// ip = floor(x / 2^16) <= -1 when x < 0; n = -ip; n >= 18 (ip < -17,
// i.e. ip < -32 or ip[4:0] < 15 with ip >= -32) -> 0
wire              x_nonneg = !s_x[X_W-1];
wire [X_W-17:0]   ip = s_x[X_W-1:16];
wire [4:0]        n5 = 5'd8 - ip[4:0];
wire              x_zero = !x_nonneg && (!(&ip[X_W-17:5]) || ip[4:0] < 5'd15);

reg [15:0] trom [0:255];
initial begin
${T_INIT}end

// the read address: i with s_valid, else i + 1 (mod 256) of the held
// s_x[15:8] (the ROM's own address register: no other flip-flops)
reg [7:0]  addr;
wire [15:0] q = trom[addr];
always @(posedge clk) begin
    if (s_valid) begin
        m_n <= x_zero ? 5'd31 : n5;
        m_one <= x_nonneg;
    end
    addr <= s_x[15:8] + {7'd0, !s_valid};
end

// T[a] - 2^16 - 2^15 = T[a] - 98304, in -2^15 .. 2^15 - 1 (T[a] - 2^16 in 0 ..
// 2^16 - 1 for a = 0..255): the stored word with its top bit inverted; the
// cycle after s_valid a = i, the next a = i + 1 mod 256
assign m_d = q ^ 16'h8000;

// f[7:0] is not taken here (the attention holds x's low bits)
wire unused_ok = &{1'b0, s_x[7:0]};

endmodule

`resetall
