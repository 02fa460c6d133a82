`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: token sampler, logits -> token id, mul_share form: one 16x16
 * multiplier and one 32-bit accumulator (one SB_MAC16, its adder and output
 * register) for every product (template rtl_templates/lg_sampler_share.v;
 * the streaming form is rtl_templates/lg_sampler.v; C twin lg_ref_sample /
 * lg_ref_argmax in src/ref_sampler.c, docs/numerics.md 3.13).
 *
 * Why: the iCE40 UP5K has 8 DSPs for the whole decoder; the streaming form
 * spends 9 (and two EBR on its exp2 table) to scale and exponentiate one
 * logit per cycle, far more rate than one token per decoder pass needs.
 * This form takes one logit at a time through a fixed sequence of 16x16
 * unsigned products (steps K_* below):
 *   |x| * it          6 products: x ^ sign (= |x| - sign, no negation adder)
 *                     in two 16-bit chunks times it in two, plus sign * it;
 *                     rounding constant 2^15 - sign added first
 *   |z1| * LOG2E_Q24  4 products, rounding constant 2^23 - sign
 *   exp2 interpolation 4 products: 256 (T[a] (255 - fr) + T[a] + T[a+1] fr
 *                     (+ fr for a = 255)) = 2^16 v (two reads of a 16-bit T
 *                     table: one EBR); a shift brings v[15:0] to acc[15:0]
 *                     and on into xr (the A operand register)
 *   exp2 rounding     2 products: v[15:0] * 2^(15-k), then acc >> 16,
 *                     + 1 * 2^(15-k), k = n - 1 (no barrel shifter); p for
 *                     k >= 16 or d = 0 is substituted at the sum
 *   u = r * S / 2^32  6 products (4 chunks, A0 * 1, A1 * 1), once per vector
 * and the xorshift32 draw runs bit-serially (one XOR gate, 96 cycles, after
 * 32 plain rotations that check for the seed-0 state; 32 more plain
 * rotations bring r's halves to the multiplier and restore it).
 * Chunks are summed low first, the accumulator then shifts right by 16 and
 * the high chunks are added: the exact floor((M + c) / 2^16) of the wide
 * product, every partial sum below 2^32. Signs are applied in sign-magnitude
 * (round half up of -M is -floor((M + 2^15 - 1) / 2^16)). Pass 1 adds each
 * p_i to S; pass 2 computes p_0, p_1, ... again from the logits (the RAM is
 * written only while loading: no p write-back and no write-data mux) and
 * stops at the first running sum above u.
 *
 * Logic economy (iCE40): one RAM index for load, both passes and the RAM
 * write, read only in cycles without a write (no read-first logic around
 * the block RAM); the argmax id register is the token output; the largest
 * logit while loading and -zmax in pass 1 share one register; the low half
 * of the A operand register xr keeps the shifted-out chunk lo and v; the
 * fraction fr is read off the d adder (its inputs hold); the accumulator
 * (in the DSP) either adds a product through the DSP's own feedback or
 * loads acc >> 16 with a few per-step constants ORed in
 * (OLOAD, no product): a shift and a product take two cycles, not a 32-bit
 * input mux, and a constant is loaded after a shift (acc < 2^16), so the
 * load input is acc[31:16] with the constant ORed in; rounding
 * constants and saturation enter through FF set/reset or the accumulator;
 * the operand muxes have five (A) and nine (B) sources; the argmax compare
 * is one carry chain; S, u and the pass-2 compare share one adder.
 *
 * Numerics (bit-exact with the C twin):
 *  - argmax, ties to the lowest id (strict > while streaming);
 *  - inv_temp = 0: the argmax is the token, the PRNG does not move;
 *  - inv_temp > 0 (Q16, clamped to 2^24 - 1):
 *      z_i  = sat32(round_shift(sat32(round_shift(logit_i * it, 16)) * 24204406, 24))
 *      zmax = z of the argmax logit;  p_i = exp2(z_i - zmax) (lg_ref_exp2)
 *      S    = sum p_i;  r = xorshift32(state) (state <- r)
 *      u    = floor(r * S / 2^32)
 *      token = first i with p_0 + ... + p_i > u
 *  - round_shift is round half up; sat32 is symmetric (+-(2^31 - 1)).
 *
 * The exp2 table: its T column (T[i] - 2^16, i = 0..255, 16 bits) is baked
 * into this module at generation time from the same table (lg_luts_build)
 * as the EXP2_FILE image; T[256] - 2^16 = 2^16 is a constant. The packed
 * image ({T, D}, 25 bits) would take two EBR; T alone is one. EXP2_FILE is
 * kept for parameter compatibility with the streaming form and is not read.
 *
 * Parameters: VOCAB (logits per vector, 2..32768: S = sum p_i must fit 32
 * bits for the two-chunk r * S), EXP2_FILE (unused, see above).
 *
 * Handshake contract (as the streaming form):
 *  - s_logit: valid/ready, VOCAB signed Q16 logits per vector in id order.
 *    s_logit_ready is a register: high while a vector is being loaded.
 *    inv_temp (unsigned Q16) is read, not captured: hold it from the first
 *    logit of a vector until its token is taken (a decoder sets it once per
 *    sequence; a copy would be 24 FFs that pack with no logic).
 *  - m_tok: valid/ready, the token id; valid stays high and data stable
 *    until ready. The next vector is accepted after the token is taken.
 *  - seed_we / seed_byte: one byte of the seed a cycle, least significant
 *    first: PRNG state <- {seed_byte, state[31:8]}, so four writes load a
 *    32-bit seed (0 -> 0x2545f491, set at the next draw). Write it at the
 *    start of a sequence, between vectors (not while sampling); without
 *    writes the next vector continues the PRNG sequence. A byte port, not a
 *    32-bit one, because a host link delivers the seed a byte at a time:
 *    the UP5K build shifts it straight in from the UART (docs/fpga.md)
 *    instead of holding a 32-bit copy in 32 flip-flops.
 *    Reset loads the seed-0 state.
 *
 * Latency (cycles after the handshake of the last logit, m_tok_ready high):
 *  - inv_temp = 0: m_tok_valid rises on the next cycle (1 cycle).
 *  - inv_temp > 0: 31 * VOCAB + 31 * TOK + 228 cycles (TOK = the drawn id;
 *    at most 62 * VOCAB + 197): the zmax item (20 steps), VOCAB items of 31
 *    steps, 160 PRNG cycles (32 for the seed-0 check, 96 for the draw, 32
 *    rotations) and 16 multiply steps for u, then pass 2 computes and
 *    checks ids 0..TOK (31 steps each) and the token is registered.
 * Throughput: one logit per cycle while loading; the next vector's first
 * logit is taken the cycle after the token handshake.
 */
module ${MODULE} #(
    // logits per vector (vocabulary size, 2..32768)
    parameter VOCAB = ${VOCAB},
    // exp2 LUT image of the streaming form (not read: the T column is baked)
    /* verilator lint_off UNUSEDPARAM */
    parameter EXP2_FILE = "${EXP2_FILE}"
    /* verilator lint_on UNUSEDPARAM */
) (
    input  wire                      clk,
    input  wire                      rst,

    /*
     * Control
     */
    // 1/T in Q16, 0 = greedy; held from the first logit until the token
    input  wire [31:0]               inv_temp,
    input  wire                      seed_we,
    input  wire [7:0]                seed_byte,

    /*
     * Logit stream input (Q16)
     */
    input  wire                      s_logit_valid,
    output wire                      s_logit_ready,
    input  wire [31:0]               s_logit_data,

    /*
     * Token output
     */
    output wire                      m_tok_valid,
    input  wire                      m_tok_ready,
    output wire [$clog2(VOCAB)-1:0]  m_tok_data
);

// ---- derived sizes ------------------------------------------------------------

localparam TW = $clog2(VOCAB);
// S <= VOCAB * 2^16 needs TW + 17 bits (<= 32 for VOCAB <= 32768)
localparam SW = TW + 17;
// log2(e) * 2^24, rounded (LG_LOG2E_Q24), in two 16-bit chunks
localparam [31:0] LOG2E_Q24 = 32'd24204406;
localparam [15:0] LOG2E_LO = LOG2E_Q24[15:0];
localparam [15:0] LOG2E_HI = LOG2E_Q24[31:16];
// xorshift32 state for seed 0
localparam [31:0] SEED0 = 32'h2545_f491;
localparam [31:0] VOCAB_M1 = VOCAB - 1;
localparam [TW-1:0] IDX_LAST = VOCAB_M1[TW-1:0];

// bad parameter combinations are rejected at elaboration
initial begin
    if (VOCAB < 2 || VOCAB > 32768) begin
        $error("Error: VOCAB must be 2..32768 (instance %m)");
        $finish;
    end
end

// ---- state machine ------------------------------------------------------------

localparam [2:0] ST_LOAD = 3'd0, // taking logits
                 ST_P1 = 3'd1,   // pass 1: the zmax item, then ids 0..VOCAB-1
                 ST_RNG = 3'd2,  // r = xorshift32(state), one bit per cycle; rotations for u
                 ST_MUL = 3'd3,  // u = floor(r * S / 2^32), 16 steps
                 ST_P2 = 3'd4,   // pass 2: the pass-1 items again until the sum passes u
                 ST_OUT = 3'd5;  // token waiting on m_tok

// Steps of one pass-1 item; the item of id i works at idx = i, its logit x
// in q (the RAM read register). The zmax item starts at K_PA (reading the
// argmax logit) and ends after K_D. x enters as x ^ s (= |x| - s, no
// negation adder); the missing s * it is added by two products with A = s.
// The accumulator (the SB_MAC16's output register) either adds a product
// (add: acc = acc + A * B, the DSP's own feedback, no logic) or loads its
// C:D input (ld, no product): acc >> 16 (shr), with a small per-step
// constant ORed in after a shr (acc < 2^16, so acc >> 16 = 0). Every step
// not listed with a product or a mode is a shr step. A shift and a product
// take two steps (a ld then an add), which costs cycles, not logic: the C:D
// input is acc[31:16] with the constant ORed in.
localparam [4:0] K_ABS = 5'd0,   // xr = x ^ {32{s}}, s = sign of x
                 K_M1L = 5'd1,   // acc = 2^15 - s
                 K_M1A = 5'd2,   // acc = acc + x0 * i0
                 K_M1S = 5'd3,   // acc = acc + s * i0
                 K_M1BL = 5'd4,  // acc = acc >> 16
                 K_M1B = 5'd5,   // acc = acc + x0 * i1
                 K_M1T = 5'd6,   // acc = acc + s * i1
                 K_M1C = 5'd7,   // acc = acc + x1 * i0
                 K_M1DL = 5'd8,  // lo = acc[15:0]; acc = acc >> 16
                 K_M1D = 5'd9,   // acc = acc + x1 * i1
                 K_Z1 = 5'd10,   // xr = |z1| (saturated)
                 K_Z1B = 5'd11,  // acc = 2^23 - s
                 K_M2A = 5'd12,  // acc = acc + z0 * L0
                 K_M2BL = 5'd13, // acc = acc >> 16
                 K_M2B = 5'd14,  // acc = acc + z0 * L1
                 K_M2C = 5'd15,  // acc = acc + z1 * L0
                 K_M2DL = 5'd16, // lo = acc[15:0]; acc = acc >> 16
                 K_M2D = 5'd17,  // acc = acc + z1 * L1
                 K_D = 5'd18,    // d = z - zmax (zmax item: -zmax); ROM address a
                 // 256 v - 2^24 = X = 128 + ta (256 - fr) + tb fr (ta = T[a] - 2^16,
                 // tb = T[a+1] - 2^16; for a = 255 tb = 2^16), summed times 256
                 // (X < 2^24) so that v[15:0] = floor(X / 256) = floor(256 X / 2^16)
                 // reaches acc[15:0] by a shift, then xr[15:0]. For a = 255 the
                 // address wraps to 0 (T[0] - 2^16 = 0): 2^16 fr 256 is added
                 // after the shift as 256 fr, exactly, so the A operand needs no
                 // 2^16 - 1 substitute (the T ROM read is registered: T of the
                 // address of one step is seen in the next):
                 K_W = 5'd19,    // read T[a]; acc = 2^15
                 K_TA = 5'd20,   // acc = acc + ta * 256 (255 - fr); a = a + 1
                 K_TA2 = 5'd21,  // acc = acc + ta * 256
                 K_TB = 5'd22,   // acc = acc + tb * 256 fr (a = 255: + 0)
                 K_VS = 5'd23,   // acc = acc >> 16
                 K_VA = 5'd24,   // acc = acc + (a = 255) * 256 fr: v[15:0] = acc[15:0]
                 K_VX = 5'd25,   // xr[15:0] = v[15:0] = acc[15:0]; acc = 2^15
                 // p = round_shift(v, k + 1) = floor((v 2^(15-k) + 2^15) / 2^16)
                 // with v 2^(15-k) = v[15:0] 2^(15-k) + 2^(15-k) 2^16:
                 K_SH = 5'd26,   // acc = acc + v[15:0] * 2^(15-k)
                 K_SH2L = 5'd27, // acc = acc >> 16
                 K_SH2 = 5'd28,  // acc = acc + 1 * 2^(15-k): p = acc[16:0]
                 K_PS = 5'd29,   // pass 1: S += p; pass 2: the check; idx = i + 1 (wraps)
                 K_PA = 5'd30;   // the next item's logit is read
                                 // (zmax item: idx = argmax id, from the
                                 // last logit on; idx = 0 at its K_ABS)

// Steps of u = floor(r * S / 2^32), r = r1 2^16 + r0, S = S1 2^16 + S0
// (S1 <= 2^15): A = floor(r0 S / 2^16) = A1 2^16 + A0, then
// u = floor((r1 S0 + A0) / 2^16) + r1 S1 + A1, every partial sum < 2^32.
// r is the PRNG state, r0 its low half; 16 rotations bring r1 there (and
// 16 more restore the state). A is parked in xr = {A1, A0} through the
// paths that keep lo and |z1| in pass 1 (the same step codes: A1 < 2^10
// never saturates) and comes back as A0 * 1 and A1 * 1 (B = 2^(15-k) with
// k = 15, set in the multiply), so no other register takes A1.
localparam [4:0] U_00 = 5'd0,   // acc = acc + r0 * S0 (acc = 0 from the PRNG counts before)
                 U_01L = 5'd1,  // acc = acc >> 16
                 U_01 = 5'd2,   // acc = acc + r0 * S1: A (3..7, 9: acc holds)
                 U_SV = K_M1DL, // xr[15:0] = A0; acc = acc >> 16 = A1; k = 15
                 U_SV2 = K_Z1,  // xr[31:16] = A1; acc = acc >> 16 = 0
                 U_A0 = 5'd11,  // acc = acc + A0 * 1
                 U_10 = 5'd12,  // acc = acc + r1 * S0
                 U_11L = 5'd13, // acc = acc >> 16
                 U_11 = 5'd14,  // acc = acc + r1 * S1
                 U_A1 = 5'd15;  // acc = acc + A1 * 1: u

// binary state codes (Yosys' one-hot FSM recoding costs more cells here)
(* fsm_encoding = "none" *)
reg [2:0] state_reg;
reg [4:0] step_reg;        // step of the pass-1 item or of the u multiply; pass-2 phase
reg zm_reg;                // the current pass-1 item is the zmax item

wire in_p1 = state_reg == ST_P1;
wire in_mul = state_reg == ST_MUL;
wire in_p2 = state_reg == ST_P2;
// an item of pass 1 or of pass 2 (which computes p_i again from the logit)
wire in_item = in_p1 || in_p2;
wire p1_mul = in_item || in_mul;

// ---- load: logit RAM write and running argmax ------------------------------------

// the one RAM index: load index, then the id of the pass-1 item or of the
// pass-2 check
reg [TW-1:0] idx_reg;
// the argmax id; after pass 2 the drawn id (the token output register)
reg [TW-1:0] best_idx_reg;
// inv_temp clamped (the port holds it for the whole vector); inv_temp >
// 2^24 - 1 as an OR of its top bits, not a compare (a carry chain), so a
// decoder that ties them to 0 leaves no clamp logic at all
wire [23:0] it_c = (|inv_temp[31:24]) ? 24'hff_ffff : inv_temp[23:0];

assign s_logit_ready = state_reg == ST_LOAD;
wire logit_fire = s_logit_valid && s_logit_ready;
wire idx_last = idx_reg == IDX_LAST;
wire first = idx_reg == {TW{1'b0}};
// strictly greater (ties keep the lower id), on one carry chain: with the
// sign bits flipped the order is unsigned, and x + ~best carries out iff
// x > best. nzmax_reg holds ~best with its sign bit flipped (= {best[31],
// ~best[30:0]}) while loading, written through its input mux, so no LUT
// inverts an operand of the chain; bits 30:0 carry into bit 31, whose
// carry (x' = ~x[31], b' = nzmax_reg[31]) is one LUT
wire [31:0] cmp_lo = {1'b0, s_logit_data[30:0]} + {1'b0, nzmax_reg[30:0]};
wire better = (!s_logit_data[31] && nzmax_reg[31]) ||
              ((!s_logit_data[31] || nzmax_reg[31]) && cmp_lo[31]);

// ---- logit RAM: logits, written while loading, read in both passes ------------------

// no_rw_check: the RAM is read only in cycles without a write (q_reg holds
// through a write; its value is not used in or right after one), so a read
// never meets a write and Yosys need not build read-first logic around the
// block RAM (a write register and a bypass mux: W + AW + 1 FFs, W LUTs)
(* no_rw_check *)
reg [31:0] logit_ram [0:VOCAB-1];
reg [31:0] q_reg;          // registered read of logit_ram[idx_reg] in every cycle without a write
reg [31:0] acc;            // the accumulator (every sum stays below 2^32, see the steps)
reg y_one_reg;             // d = 0: p = 2^16
reg [4:0] k_reg;           // k = n - 1 of d (n = -floor(d / 2^16))
reg far_reg;               // n >= 33 or d = 0 (no valid k)

// p = acc[16:0] after K_SH2 for k <= 15; else 2^16 for d = 0, 1 for k = 16
// (round_shift(v, 17) of 2^16 <= v < 2^17), 0 for k >= 17 (at K_PS)
wire p_sub = far_reg || k_reg[4];
wire p_k16 = !far_reg && k_reg == 5'd16;
wire [16:0] p_val = {(acc[16] && !p_sub) || y_one_reg, acc[15:1] & {15{!p_sub}},
                     (acc[0] && !p_sub) || p_k16};
wire ram_we = logit_fire;
wire [31:0] ram_wd = s_logit_data;

always @(posedge clk) begin
    if (ram_we)
        logit_ram[idx_reg] <= ram_wd;
    else
        q_reg <= logit_ram[idx_reg];
end

// ---- PRNG (xorshift32) -------------------------------------------------------------
//
// Bit-serial, in place: each of x ^= x << 13, x ^= x >> 17, x ^= x << 5 is
// 32 left rotations of the state, the bit leaving the MSB (original bit
// i = 31 - c at rotation c) re-entering at the LSB XORed with a fixed tap:
//   << 13: position 18 = original bit i - 13 (not yet rotated), for c <= 18
//   >> 17: position 16 = original bit i + 17 (>= 17, never modified), c >= 17
//   << 5:  position 26 = original bit i - 5, for c <= 26
// so the three shifts cost one XOR, not 32 (the state is r afterwards).
// Counts 96..127 are plain rotations: the u multiply reads r0 at count 96
// and r1 at count 112; count 128 (= 0) leaves the state at r.
// Seed 0: the seed writes store the 0 and the draw fixes it: 32 plain rotations
// first (chk_reg) see every bit leave the MSB; if none is 1 the state is 0
// (xorshift32 never reaches 0 from another state) and becomes SEED0 through
// the FFs' synchronous set/reset, so no 32-bit zero compare on the state.
reg [31:0] state_prng;
reg [6:0] rng_cnt_reg;     // ST_RNG: operation (bits 6:5) and rotation (4:0)
reg chk_reg;               // ST_RNG: the 32 rotations of the zero check
reg nz_reg;                // a 1 has left the MSB during the check
wire [4:0] rng_c = rng_cnt_reg[4:0];
reg rng_tap;
always @(*) begin
    case (rng_cnt_reg[6:5])
        // the count ranges as logic over the count bits, not compares
        // (carry chains): c <= 18, c >= 17, c <= 26
        2'd0:    rng_tap = state_prng[18] && (!rng_c[4] || (!rng_c[3] && !rng_c[2] && !(&rng_c[1:0])));
        2'd1:    rng_tap = state_prng[16] && rng_c[4] && (|rng_c[3:0]);
        2'd2:    rng_tap = state_prng[26] && (!(&rng_c[4:3]) || (!rng_c[2] && !(&rng_c[1:0])));
        default: rng_tap = 1'b0;
    endcase
end
wire [31:0] prng_next = {state_prng[30:0], state_prng[31] ^ (rng_tap && !chk_reg)};
// the check ends (count 31) and no 1 has been seen: the state is 0
wire prng_zero = state_reg == ST_RNG && chk_reg && rng_c == 5'd31 && !nz_reg && !state_prng[31];
// the multiply steps follow counts 95 (r0) and 111 (r1); pass 2 follows 127
wire rng_mul = rng_cnt_reg == 7'd95 || rng_cnt_reg == 7'd111;
wire rng_end = rng_cnt_reg == 7'd127;

// ---- exp2 T column (T[i] - 2^16), baked from lg_luts_build -------------------------

reg [15:0] trom [0:255];
initial begin
${EXP2_T_INIT}end

// A registered read from the address register (the block RAM's own read
// register; the address register drives nothing but the RAM, a_last and its
// increment, so its FFs pack with their LUTs).
reg [7:0] rom_a_reg;
reg [15:0] trom_q;
always @(posedge clk)
    trom_q <= trom[rom_a_reg];

// ---- the shared multiplier and the accumulator -----------------------------------------

// x ^ s or |z1|: the chunked A operand; its low half (free once the low
// chunk has been used) keeps the chunk lo shifted out of acc at a 4th product
reg [31:0] xr;
reg sign_reg;              // sign of the logit (= of z1 and z)
reg zsat_reg;              // |z| saturated (captured at K_D)
wire [7:0] fr;             // d[7:0]: the interpolation fraction (d_next, see z_mag)
// the largest logit so far while loading (held as {best[31], ~best[30:0]},
// see better); -zmax in pass 1 (0 while the zmax item is computed): one
// register, never live together
reg [31:0] nzmax_reg;
reg [SW:0] sum_reg;        // S in pass 1 (< 2^SW), -(cumulative sum) in pass 2

// ---- step decode: operand selects and accumulator mode ---------------------------
//
// A: xr[15:0] (x0, z0, v[15:0], A0), xr[31:16] (x1, z1, A1), T, r0 / r1
// (state_prng[15:0]), or one bit (s, 1, a = 255).
// B: it, LOG2E, 256 fr, 256 (255 - fr), 256, 2^(15-k) or S chunks. The accumulator
// constants of the ld steps are decoded per bit (kc below).
localparam [2:0] A_XLO = 3'd0, A_XHI = 3'd1, A_T = 3'd2, A_R = 3'd4,
                 A_BIT = 3'd5;
localparam [3:0] B_0 = 4'd0, B_I0 = 4'd1, B_I1 = 4'd2, B_L0 = 4'd3, B_L1 = 4'd4,
                 B_NFR = 4'd5, B_FR = 4'd6, B_256 = 4'd7, B_SH = 4'd8,
                 B_S0 = 4'd10, B_S1 = 4'd11;
reg [2:0] a_sel;
reg [3:0] b_sel;
reg acc_step;              // acc is written
reg acc_ld;                // ld acc >> 16 | kc (else add)
reg c_r1, c_r2, c_8000;    // ld constants: 2^15 - s, 2^23 - s, 2^15
reg bit_s, bit_al;         // the A bit: s, a = 255 (else 1)
always @(*) begin
    a_sel = A_XLO;
    b_sel = B_0;
    acc_step = 1'b1;
    acc_ld = 1'b1;
    {c_r1, c_r2, c_8000} = 3'd0;
    bit_s = 1'b0;
    bit_al = 1'b0;
    if (in_mul)
        case (step_reg)
            U_00:  begin a_sel = A_R; b_sel = B_S0; acc_ld = 1'b0; end
            U_01:  begin a_sel = A_R; b_sel = B_S1; acc_ld = 1'b0; end
            U_A0:  begin b_sel = B_SH; acc_ld = 1'b0; end
            U_10:  begin a_sel = A_R; b_sel = B_S0; acc_ld = 1'b0; end
            U_11:  begin a_sel = A_R; b_sel = B_S1; acc_ld = 1'b0; end
            U_A1:  begin a_sel = A_XHI; b_sel = B_SH; acc_ld = 1'b0; end
            U_01L, U_SV, U_SV2, U_11L: ; // shr
            5'd3, 5'd4, 5'd5, 5'd6, 5'd7, 5'd9: acc_step = 1'b0;
            default: ;
        endcase
    else if (in_item)
        case (step_reg)
            K_M1L: c_r1 = 1'b1;
            K_M1A: begin b_sel = B_I0; acc_ld = 1'b0; end
            K_M1S: begin a_sel = A_BIT; bit_s = 1'b1; b_sel = B_I0; acc_ld = 1'b0; end
            K_M1B: begin b_sel = B_I1; acc_ld = 1'b0; end
            K_M1T: begin a_sel = A_BIT; bit_s = 1'b1; b_sel = B_I1; acc_ld = 1'b0; end
            K_M1C: begin a_sel = A_XHI; b_sel = B_I0; acc_ld = 1'b0; end
            K_M1D: begin a_sel = A_XHI; b_sel = B_I1; acc_ld = 1'b0; end
            K_Z1B: c_r2 = 1'b1;
            K_M2A: begin b_sel = B_L0; acc_ld = 1'b0; end
            K_M2B: begin b_sel = B_L1; acc_ld = 1'b0; end
            K_M2C: begin a_sel = A_XHI; b_sel = B_L0; acc_ld = 1'b0; end
            K_M2D: begin a_sel = A_XHI; b_sel = B_L1; acc_ld = 1'b0; end
            K_W, K_VX: c_8000 = 1'b1;
            K_TA:  begin a_sel = A_T; b_sel = B_NFR; acc_ld = 1'b0; end
            K_TA2: begin a_sel = A_T; b_sel = B_256; acc_ld = 1'b0; end
            K_TB:  begin a_sel = A_T; b_sel = B_FR; acc_ld = 1'b0; end
            K_VA:  begin a_sel = A_BIT; bit_al = 1'b1; b_sel = B_FR; acc_ld = 1'b0; end
            K_SH:  begin b_sel = B_SH; acc_ld = 1'b0; end
            K_SH2: begin a_sel = A_BIT; b_sel = B_SH; acc_ld = 1'b0; end
            // the ld halves of shift-and-product: acc = acc >> 16
            K_M1BL, K_M2BL, K_VS, K_SH2L: ;
            // every other step: shr as well (the steps before the constant
            // loads clear acc[31:16])
            default: ;
        endcase
    else if (state_reg == ST_RNG && !(&rng_cnt_reg[6:5]))
        // PRNG counts 0..95 (before U_00; acc = A from count 96 to 111 and
        // u from 112 to 127 are kept): acc = acc >> 16, cleared for U_00
        ;
    else
        acc_step = 1'b0;
end

// a = 255: at K_VA the address has wrapped to a + 1 = 0
wire a_last = ~|rom_a_reg;
wire a_bit = bit_s ? sign_reg : (bit_al ? a_last : 1'b1);
reg [15:0] mul_a;
always @(*) begin
    case (a_sel)
        A_XLO:   mul_a = xr[15:0];
        A_XHI:   mul_a = xr[31:16];
        A_T:     mul_a = trom_q;
        A_R:     mul_a = state_prng[15:0];
        default: mul_a = {15'd0, a_bit};
    endcase
end

// 2^(15-k) for k <= 15 (don't-care for k >= 16 or far: p_val substitutes
// p)
wire [15:0] sh_pow = 16'd1 << (4'd15 - k_reg[3:0]);
// (S zero-extended: SW + 16 >= 32 bits)
wire [SW+15:0] s_ext = {16'd0, sum_reg[SW-1:0]};
reg [15:0] mul_b;
always @(*) begin
    case (b_sel)
        B_I0:    mul_b = it_c[15:0];
        B_I1:    mul_b = {8'd0, it_c[23:16]};
        B_L0:    mul_b = LOG2E_LO;
        B_L1:    mul_b = LOG2E_HI;
        // 256 (255 - fr) (B_NFR) or 256 fr (B_FR): the codes differ in bit 0
        B_NFR, B_FR: mul_b = {fr ^ {8{b_sel[0]}}, 8'd0};
        B_256:   mul_b = 16'd256;
        B_SH:    mul_b = sh_pow;
        B_S0:    mul_b = s_ext[15:0];
        B_S1:    mul_b = s_ext[31:16];
        default: mul_b = 16'd0;
    endcase
end

wire [31:0] mul_p = mul_a * mul_b;

// the ld value (the DSP's C:D input): acc >> 16, with the
// constant kc ORed in (a constant ld step follows a shr, so acc < 2^16 and
// acc >> 16 = 0)
//   2^15 - s = {~s, 15 x s};  2^23 - s = {~s, 7 x s, 16 x s};  2^15
wire s_r = sign_reg && (c_r1 || c_r2);
wire [31:0] kc = {8'd0, c_r2 && !sign_reg, {7{c_r2 && sign_reg}},
                  (c_r1 && !sign_reg) || (c_r2 && sign_reg) || c_8000, {7{s_r}}, s_r,
                  {7{s_r}}};
wire [31:0] acc_cd = {16'd0, acc[31:16]} | kc;

// (acc = ld ? C:D : acc + A * B is the SB_MAC16's accumulator with OLOAD)
always @(posedge clk) begin
    if (acc_step)
        acc <= acc_ld ? acc_cd : acc + mul_p;
end

// z1 saturated: |z1| = min(floor((|x| it + 2^15 - s) / 2^16), 2^31 - 1) = {acc, lo}
// (lo = xr[15:0] after K_M1D / K_M2D)
wire z1_sat = |acc[31:15];
// |z| = min({acc, lo} >> 8, 2^31 - 1)
// (bits 7:0 from xr[15:8] and the saturation flag, which hold from K_D to
// K_VA: d[7:0] = fr stays valid on d_next without a register)
wire z_sat = (step_reg == K_D) ? |acc[31:23] : zsat_reg;
wire [30:0] z_mag = {(|acc[31:23]) ? 23'h7f_ffff : acc[22:0], xr[15:8] | {8{z_sat}}};
// d = -zmax + z for an item; -zmax itself for the zmax item (flip the sign)
wire t_neg = sign_reg ^ zm_reg;
// (one adder: the extra low bit carries t_neg in)
wire [33:0] d_sum = {nzmax_reg[31], nzmax_reg, 1'b1} + {{2{t_neg}}, z_mag ^ {31{t_neg}}, t_neg};
wire [32:0] d_next = d_sum[33:1];
// exp2 operands from d: n = -floor(d / 2^16) >= 1, k = n - 1 = ~floor(d / 2^16)
wire [16:0] nk_next = ~d_next[32:16];
// the interpolation fraction (K_TA .. K_VA)
assign fr = d_next[7:0];

always @(posedge clk) begin
    // xr: x ^ s at K_ABS (s = sign of q); lo into the low half at K_M1DL and
    // K_M2DL, v at K_VX; |z1| at K_Z1 (the low half already holds lo),
    // saturated through the FFs' synchronous set; A0 and A1 of u at the same
    // step codes in the multiply
    if (p1_mul && step_reg == K_Z1 && z1_sat)
        xr <= 32'h7fff_ffff;
    else if (in_item && step_reg == K_ABS)
        xr <= q_reg ^ {32{q_reg[31]}};
    else if (p1_mul && step_reg == K_Z1)
        xr[31:16] <= {1'b0, acc[14:0]};
    else if ((p1_mul && step_reg == K_M1DL) ||
             (in_item && (step_reg == K_M2DL || step_reg == K_VX)))
        xr[15:0] <= acc[15:0];
    // B = 2^(15-k) = 1 for A0 * 1 and A1 * 1 (k is not read after pass 1)
    if (in_mul)
        k_reg[3:0] <= 4'hf;
    if (in_item) begin
        case (step_reg)
            K_ABS: sign_reg <= q_reg[31];
            K_D: begin
                k_reg <= nk_next[4:0];
                far_reg <= (|nk_next[16:5]) || !d_next[32];
                y_one_reg <= !d_next[32];
                zsat_reg <= |acc[31:23];
                rom_a_reg <= d_next[15:8];
            end
            K_TA: rom_a_reg <= rom_a_reg + 8'd1;
            default: ;
        endcase
    end
end

always @(posedge clk) begin
    if (logit_fire && (first || better))
        nzmax_reg <= {s_logit_data[31], ~s_logit_data[30:0]};
    if (in_p1 && step_reg == K_D && zm_reg)
        nzmax_reg <= d_next[31:0];
    if (in_p1 && step_reg == K_ABS && zm_reg)
        nzmax_reg <= 32'd0;
end

// ---- S (pass 1) and the inverse CDF (pass 2) --------------------------------------

// p of the current id (p_val at K_PS, in both passes). Pass 1 adds it: S. The multiply clears sum_reg at U_A1; the last PRNG rotation
// (count 127, acc = u) adds u. Pass 2 subtracts p: sum_reg = u - (p_0 + ...
// + p_i) in SW + 1 bits, so the hit cum > u is its sign (|u - cum| < 2^SW):
// one adder for S, u and the compare.
wire sum_u = state_reg == ST_RNG;
wire [SW:0] sum_op = sum_u ? {1'b0, acc[SW-1:0]} :
                     {{(SW-16){in_p2}}, p_val ^ {17{in_p2}}};
wire [SW:0] sum_add = sum_reg + sum_op + {{SW{1'b0}}, in_p2};
wire hit = sum_add[SW] || idx_last;
wire p2_chk = in_p2 && step_reg == K_PS;

always @(posedge clk) begin
    if ((in_p1 && step_reg == K_PS) || p2_chk || (sum_u && rng_end))
        sum_reg <= sum_add;
    if (state_reg == ST_LOAD || (in_mul && step_reg == U_A1))
        // a pass starts from an empty sum at id 0
        sum_reg <= {(SW+1){1'b0}};
end

// ---- control ----------------------------------------------------------------------

reg tok_valid_reg;
assign m_tok_valid = tok_valid_reg;
assign m_tok_data = best_idx_reg;

always @(posedge clk) begin
    case (state_reg)
        ST_LOAD: begin
            if (logit_fire && idx_last) begin
                if (it_c == 24'd0) begin
                    // best_idx_reg includes this logit (below)
                    tok_valid_reg <= 1'b1;
                    state_reg <= ST_OUT;
                end else begin
                    zm_reg <= 1'b1;
                    step_reg <= K_PA;
                    state_reg <= ST_P1;
                end
            end
        end
        ST_P1, ST_P2: begin
            step_reg <= step_reg + 5'd1;
            if (zm_reg && step_reg == K_D) begin
                step_reg <= K_ABS;
                zm_reg <= 1'b0;
            end
            if (step_reg == K_PA) begin
                // S is complete after the last id (idx has wrapped)
                step_reg <= K_ABS;
                if (in_p1 && first && !zm_reg) begin
                    rng_cnt_reg <= 7'd0;
                    chk_reg <= 1'b1;
                    nz_reg <= 1'b0;
                    state_reg <= ST_RNG;
                end
            end
            if (p2_chk && hit) begin
                tok_valid_reg <= 1'b1;
                state_reg <= ST_OUT;
            end
        end
        ST_RNG: begin
            rng_cnt_reg <= rng_cnt_reg + 7'd1;
            if (chk_reg) begin
                nz_reg <= nz_reg || state_prng[31];
                if (rng_c == 5'd31) begin
                    // the draw starts from count 0
                    chk_reg <= 1'b0;
                    rng_cnt_reg <= 7'd0;
                end
            end
            if (rng_mul)
                state_reg <= ST_MUL;
            if (rng_end) begin
                // pass 2 reads id 0 (idx has wrapped)
                step_reg <= K_PA;
                state_reg <= ST_P2;
            end
        end
        ST_MUL: begin
            step_reg <= step_reg + 5'd1;
            if (step_reg == U_SV2 || step_reg == U_A1)
                state_reg <= ST_RNG;
        end
        ST_OUT: begin
            if (m_tok_ready) begin
                tok_valid_reg <= 1'b0;
                step_reg <= 5'd0;
                state_reg <= ST_LOAD;
            end
        end
        default: state_reg <= ST_LOAD;
    endcase
    if (rst) begin
        state_reg <= ST_LOAD;
        tok_valid_reg <= 1'b0;
        zm_reg <= 1'b0;
        step_reg <= 5'd0;
    end
end

// the argmax while loading; the drawn id at the pass-2 hit (the same source)
always @(posedge clk) begin
    if ((logit_fire && (first || better)) || (p2_chk && hit))
        best_idx_reg <= idx_reg;
end

// the RAM index: the load index, then the argmax id after the last logit
// (this one if it is better, else the one held) for the zmax item, 0 at
// its K_ABS; each item advances it at K_PR (wrapping after the last);
// pass 2 advances it after each check that misses, and the token handshake
// returns it to 0
always @(posedge clk) begin
    if ((logit_fire && !idx_last) || (in_p1 && step_reg == K_PS))
        idx_reg <= idx_last ? {TW{1'b0}} : idx_reg + 1'b1;
    if (logit_fire && idx_last && !better)
        idx_reg <= best_idx_reg;
    if (p2_chk && !hit)
        idx_reg <= idx_reg + 1'b1;
    if ((in_p1 && step_reg == K_ABS && zm_reg) || state_reg == ST_OUT || rst)
        idx_reg <= {TW{1'b0}};
end

// the PRNG: a seed byte shifts in from the top (least significant byte
// first: after four, state = seed); otherwise one step per sampled vector
// (reset and the zero check share the FFs' synchronous set/reset to SEED0)
always @(posedge clk) begin
    if (rst || prng_zero)
        state_prng <= SEED0;
    else if (seed_we)
        state_prng <= {seed_byte, state_prng[31:8]};
    else if (state_reg == ST_RNG)
        state_prng <= prng_next;
end

// the lowest bit of the carry-in adder is a constant; S has <= 32 bits;
// the compare uses the carry only
wire unused_ok = &{1'b0, d_sum[0], s_ext[SW+15:32], cmp_lo[30:0], sum_reg[SW]};

endmodule

`resetall
