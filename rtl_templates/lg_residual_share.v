`resetall
`timescale 1ns / 1ps
`default_nettype none

// ${MODULE}: residual add, y = sat32(x + d) element by element (Q16), lean
// form (--mul-share; rtl_templates/lg_residual.v is the plain one: same
// ports, numerics and handshake, one cycle more for a sum of exactly -2^31).
//
// Why: the residual stream takes the attention and FFN outputs; symmetric
// saturation keeps it inside +-(2^31 - 1) like every other Q16 vector. On
// the iCE40 the plain form's saturation multiplexer costs a LUT per bit
// behind the adder (the adder's LUTs sit on the carry chain, which takes no
// other logic). Here the adder drives the output register directly and the
// saturation is the register's synchronous set / reset: an overflowing sum
// stores r = 2^31 - 1 (bit 31 reset, bits 30..0 set) and a sign flag k, and
// the output is y = {r[31:1] ^ k, r[0]}: 2^31 - 1 for k = 0 and
// -(2^31 - 1) = 0x80000001 for k = 1. The XOR is one input more in the
// consumer's input multiplexer (the decoder's x buffer / norm source), which
// absorbs it. The one sum inside 32 bits that still saturates, -2^31, is
// caught in the register (r = 0x80000000, k = 0): it is held back for one
// cycle, in which the same set / reset (and k = 1) turn it into
// -(2^31 - 1); testing the register rather than the sum keeps the adder's
// outputs single-load, so they pack with their flip-flops.
//
// C twin: lg_ref_residual (src/ref_silu.c), bit-exact.
//
// Latency: 1 cycle (a pair accepted at a clock edge -> its sum on m_* after
// the next edge, no stalls), 2 for a sum of exactly -2^31; one element per
// cycle (two for that sum).
//
// Handshakes: s_x, s_d and m are valid/ready streams (a transfer on a clock
// edge with valid and ready high; valid stays high and data stable until
// ready). The two inputs are joined: both transfer on the same edge, so each
// ready waits for the other stream's valid.

module ${MODULE} (
    input  wire        clk,
    input  wire        rst,

    // ---- input: x (residual stream, Q16) --------------------------------
    input  wire        s_x_valid,
    output wire        s_x_ready,
    input  wire [31:0] s_x_data,

    // ---- input: d (block output, Q16) -----------------------------------
    input  wire        s_d_valid,
    output wire        s_d_ready,
    input  wire [31:0] s_d_data,

    // ---- output: sat32(x + d) (Q16) -------------------------------------
    output wire        m_valid,
    input  wire        m_ready,
    output wire [31:0] m_data
);

reg [31:0] r;     // the sum, or 2^31 - 1 when saturated
reg        k;     // saturated negative: y = -(2^31 - 1)
reg        v;     // r holds an element
// r = -2^31 (k = 0): it saturates to -(2^31 - 1), one cycle later
wire       r_min = r == 32'h8000_0000;
wire       fix = v && r_min;

assign m_valid = v && !r_min;
assign m_data = {r[31:1] ^ {31{k}}, r[0]};

wire en = !v || (m_ready && !r_min);
assign s_x_ready = en && s_d_valid;
assign s_d_ready = en && s_x_valid;
wire fire = s_x_valid && s_d_valid && en;

// outside 32 bits exactly when the 33-bit sum's top two bits differ
wire signed [32:0] sum = $signed({s_x_data[31], s_x_data}) + $signed({s_d_data[31], s_d_data});
wire ovf = sum[32] != sum[31];

// m_valid stays high with m_data stable until m_ready. r saturates by its
// synchronous set (bits 30..0) and reset (bit 31).
always @(posedge clk) begin
    if (en || fix) begin
        if (fix || ovf)
            r <= 32'h7fff_ffff;
        else
            r <= sum[31:0];
    end
    if (en) begin
        v <= fire;
        k <= ovf && sum[32];
    end else if (fix) begin
        k <= 1'b1;
    end
    if (rst)
        v <= 1'b0;
end

endmodule

`resetall
