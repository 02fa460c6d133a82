`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: softmax reciprocal R = floor(2^(pl+16) / l), pl = bitlen(l) - 1,
 * by a sequential restoring divider (template rtl_templates/lg_recip.v; the
 * C twin is the end of lg_ref_attention_head in src/ref_attention.c).
 *
 * Why: attention divides by the softmax sum l once per head; a combinational
 * divider of that width would dominate the unit's area and timing, and one
 * quotient bit per cycle is plenty for a result needed once per head.
 *
 * Numerics (bit-exact): with K = L_W - 1, the divisor is normalised to
 * D = l << (K - pl) in [2^K, 2^(K+1)), so 2^(pl+16) / l = 2^(K+16) / D and
 * the quotient is in (2^15, 2^16]: 17 bits. Restoring division: the partial
 * remainder starts at 2^K (the dividend's bits above quotient bit 16) and
 * each cycle compares, subtracts and shifts in a zero, giving quotient bits
 * 16 down to 0. l = 0 gives R = 0 and pl = 0 (the C twin outputs zeros).
 *
 * Parameters: L_W (width of l, 17..62).
 *
 * Handshake: start (one-cycle pulse; s_l sampled with it) while busy is low;
 * done pulses 17 cycles after the start cycle, when m_r and m_pl are valid.
 * They hold until the next start. A start while busy is ignored.
 */
module ${MODULE} #(
    // width of the unsigned dividend l (17..62)
    parameter L_W = ${L_W}
) (
    input  wire             clk,
    input  wire             rst,

    /*
     * Control and input
     */
    input  wire             start,
    input  wire [L_W-1:0]   s_l,
    output reg              busy,
    output reg              done,

    /*
     * Result: R = floor(2^(pl+16) / l) and pl = bitlen(l) - 1
     */
    output reg  [16:0]      m_r,
    output reg  [PLW-1:0]   m_pl
);

// pl < 64: six bits for any L_W
localparam integer PLW = 6;
localparam integer K = L_W - 1;

initial begin
    if (L_W < 17 || L_W > 62) begin
        $error("Error: L_W must be in 17..62 (instance %m)");
        $finish;
    end
end

// ---- normalisation (combinational, at start) -------------------------------------

// pl = bitlen(l) - 1 by a leading-one detector (binary search over l
// zero-extended to 64 bits: six 2:1 steps); 0 for l = 0
wire [63:0] lz = {{(64 - L_W){1'b0}}, s_l};
wire        ld_5 = |lz[63:32];
wire [31:0] lz5 = ld_5 ? lz[63:32] : lz[31:0];
wire        ld_4 = |lz5[31:16];
wire [15:0] lz4 = ld_4 ? lz5[31:16] : lz5[15:0];
wire        ld_3 = |lz4[15:8];
wire [7:0]  lz3 = ld_3 ? lz4[15:8] : lz4[7:0];
wire        ld_2 = |lz3[7:4];
wire [3:0]  lz2 = ld_2 ? lz3[7:4] : lz3[3:0];
wire        ld_1 = |lz2[3:2];
wire [1:0]  lz1 = ld_1 ? lz2[3:2] : lz2[1:0];
wire [5:0]  lead = {ld_5, ld_4, ld_3, ld_2, ld_1, lz1[1]};
wire [PLW-1:0] pl_now = lead;

localparam [PLW-1:0] K_P = K[PLW-1:0];
wire [PLW-1:0] norm_sh = K_P - pl_now;
wire [L_W-1:0] d_now = s_l << norm_sh;

// ---- division: one quotient bit per cycle --------------------------------------------

// divisor, partial remainder (< 2 D < 2^(L_W+1)), quotient bits so far, steps left
reg [L_W-1:0] dv;
reg [L_W:0]   rem;
reg [15:0]    quo;
reg [4:0]     cnt;
reg           zero;

wire          ge = rem >= {1'b0, dv};
wire [L_W:0]  rem_sub = ge ? rem - {1'b0, dv} : rem;
wire [16:0]   quo_next = {quo, ge};

localparam [L_W:0] REM0 = {2'b01, {(L_W - 1){1'b0}}};

always @(posedge clk) begin
    if (start && !busy) begin
        dv <= d_now;
        rem <= REM0;
        quo <= 16'd0;
        zero <= s_l == {L_W{1'b0}};
        m_pl <= pl_now;
    end else if (busy) begin
        quo <= quo_next[15:0];
        rem <= {rem_sub[L_W-1:0], 1'b0};
    end
end

always @(posedge clk) begin
    done <= 1'b0;
    if (start && !busy) begin
        busy <= 1'b1;
        cnt <= 5'd16;
    end else if (busy) begin
        cnt <= cnt - 5'd1;
        if (cnt == 5'd0) begin
            busy <= 1'b0;
            done <= 1'b1;
        end
    end
    if (rst) begin
        busy <= 1'b0;
        done <= 1'b0;
    end
end

always @(posedge clk) begin
    if (busy && cnt == 5'd0)
        m_r <= zero ? 17'd0 : quo_next;
end

// rem < 2 dv always, so the remainder's top bit is 0 after a subtraction;
// the leading-one search's last step needs only the upper bit of its pair
wire unused_ok = &{1'b0, rem_sub[L_W], lz1[0]};

endmodule

`resetall
