`resetall
`timescale 1ns / 1ps
`default_nettype none

// ${MODULE}: RMSNorm of a DIM-element Q16 vector with gains * sqrt(DIM),
// lean form: one 16x16 unsigned multiplier and one memory for everything.
//
// Why: the iCE40 UP5K has 8 SB_MAC16 and 30 EBR. The pipelined form
// (lg_rmsnorm.v plus lg_rsqrt.v) spends ten multipliers; this form
// time-shares a single 16x16 multiplier (sign-magnitude operands) between
// the block-float shift of the inputs, the sum of squares, the inverse
// square root (seed table + one Newton-Raphson step, inline) and the output
// scaling, and keeps the input vector, the gains and the seed table in one
// 32-bit-wide RAM (4 EBR at the iCEBreaker shape: 64 input words, 704 gains
// two a word, 192 seeds two a word = 512 x 32), trading cycles per element
// for DSPs, LUTs and EBR. Same parameters, ports and handshakes as the
// pipelined form (emitted instead of it when the emitter's mul_share is set).
//
// C twin: lg_ref_rmsnorm (src/ref_rmsnorm.c), bit-exact:
//   s = max(bitlen(max |x|) - 15, 0); m[i] = clamp(round(x[i] / 2^s), +-32767)
//   S = sum m[i]^2 + EPS[s]; (y, k) = rsqrt(S)   (lg_ref_rsqrt, seed table
//                                                  T[i] in the memory)
//   out[i] = sat32(round(m[i] * g[i] * y / 2^r)), r = k - e (g = gain
//            mantissas, e = gain exponent; round half up, negative r a
//            saturating left shift, sat32 symmetric +-(2^31 - 1)).
// How m avoids a barrel shifter: x / 2^s as x * 2^(16 - s) / 2^16 on the
// multiplier, two 16-bit limbs (see MANT below), written back over x.
// How the output scaling avoids a barrel shifter: with r clamped to
// [-15, 48] (r >= 47 gives 0 as |m * g * y| < 2^46; r <= -16 gives 0 or
// saturation as y > 2^15), r = 16 * (t - 1) + f with f in 1..16, t in 0..3.
// Y = y * 2^(16 - f) < 2^32 is made once per vector (doublings of y in the
// accumulator, see YSH); per element |P| = |m| * |g| (< 2^30) and |P| * Y
// (four 16x16 products, accumulated 16 bits at a time into {acc, low}) leave
// |m * g * y| * 2^(16-f) whose bits from 16 * t on are the output: t more
// 16-bit right shifts of {acc, low} (the bits shifted out kept as half and
// sticky bits) put the window at low[30:0]. The sign is applied last (round
// half up of a negative value rounds its magnitude up only past one half).
//
// Datapath (sized for few iCE40 LUTs; cycles are cheap): the multiplier's
// A operand is always ra (16 bits: a memory half-word, a product's low
// half, or its high half parked in low[31:16] meanwhile), B is a 16-bit
// limb of breg (picked by the step) or the memory half-word;
// the read data is held between reads, so a value read once serves as an
// operand for several cycles. breg is only ever loaded from the top 32
// bits of the accumulator (u, F, Y) or with nr. One adder (acc)
// does every sum, the doublings of NORM and YSH and the 16-bit shifts; no
// element overlaps another. Its B input is the product register alone (no
// mux): A is 0, acc, acc >> 16 or acc << 1 (the doublings), with the step
// constants ORed in where A = 0, and the steps that add nothing get a zero
// product (the B operand forced to 0 the cycle before); the nr constant
// 65535 * 2^14 is the product 0xffff * 2^14 (low set to ones, B forced).
//
// Schedule (one vector at a time):
//   LOAD   DIM inputs, one per cycle, written to the memory
//   ABS    7 cycles an element (MANT with F = 2): |x| >> 15 = (2 v + 2 sign)
//          >> 16 on the multiplier and the adder, ORed into maxor
//          (bitlen(max |x|) = bitlen(OR |x|)); no |x| logic at the input
//   SHIFT  1 cycle: s from the leading one; acc = 2
//   FSH    AW - 17 cycles (YSH): acc doubled from step s - 1 (15 for s = 0)
//          on, so F = 2^(16 - s) (s = 0: 1; s = 17: 2^15) sits in the top
//          32 bits of acc; breg = F in the last cycle
//   MANT   7 cycles an element: read x, v_lo * F, v_hi * F, two additions
//          (s = 17: a third, the 16-bit shift), m written back
//   SUM    4 cycles an element: read m, m*m, into acc (EPS[s] + m*m first)
//   NORM   AW - 2 cycles: acc doubled in pairs while its top two bits are
//          0, so S * 4^j has its leading one in the top two bits; k = (AW -
//          2) / 2 - j, u = top 32 bits
//   RSQ    15 cycles: seed read, y0*y0 (parked in low, shifted: sq), sq*u
//          (two products), + 65535 * 2^14 (for nr), y0*nr (two products);
//          2y in acc and the output shift r = k - e
//   YSH    AW - 17 cycles: acc doubled from step f - 1 on (0 for r <= -16),
//          so Y = y << (16 - f) sits in the top 32 bits; breg = Y
//   OUT    15 cycles an element: reads of m and g, m*g (parked in low, P0
//          and P1 taken from there), then P0*Y0, P0*Y1,
//          P1*Y0, P1*Y1 (P = P1 * 2^16 + P0, Y likewise) accumulated, three
//          cycles of (conditional) 16-bit shifts, saturation, then the
//          rounded, signed result into the output lane
// Multiplier: one 16x16 unsigned (|m|, |g| <= 32767; y0 < 2^16).
// Cycles per vector at full rate: the done pulse is high 34 * DIM + 3 * AW -
// 19 cycles after the cycle of the first input handshake (DIM load + 7 * DIM
// abs + 1 shift + AW - 17 fsh + 7 * DIM mant + 4 * DIM sum + AW - 2 norm + 15 rsq +
// AW - 17 ysh + 15 * DIM out + 1 for the last beat), AW = max(S_W, 34),
// whatever VL; s_ready is high again in the done cycle, so vectors can
// follow back to back. Inputs are taken one per cycle; one output element
// per 15 cycles (a beat per 15 * VL).
//
// Handshakes: s_* and m_* are valid/ready streams: a transfer happens on a
// clock edge with valid and ready both high; valid stays high and data stable
// until ready (m_* obeys this; s_* must). s_sel is sampled with the first
// element of each vector. The output is NR = ceil(DIM / VL) beats of VL
// elements: element b*VL + i in m_data[32*i +: 32] of beat b; lanes past DIM
// in the last beat are 0. m_last marks the last beat; done pulses for one
// cycle after it is accepted. While an output beat waits for m_ready the
// whole unit holds.

module ${MODULE} #(
    // $readmemh image of the whole memory (MW 32-bit words: the input area,
    // the gain mantissas in sign-magnitude, the rsqrt seeds T[i] < 2^16)
    parameter GAIN_FILE = "${GAIN_FILE}",
    // the rsqrt seed table image (unused: the seeds are part of GAIN_FILE;
    // kept so the lean form takes the pipelined form's parameters)
    /* verilator lint_off UNUSEDPARAM */
    parameter RSQRT_FILE = "${RSQRT_FILE}",
    /* verilator lint_on UNUSEDPARAM */
    // output elements per beat (>= 1, a power of two)
    parameter VL = 1
) (
    input  wire                 clk,
    input  wire                 rst,

    // ---- input vector: DIM Q16 values, s_sel with the first -------------
    input  wire                 s_valid,
    output wire                 s_ready,
    input  wire [31:0]          s_data,
    input  wire [SEL_W-1:0]     s_sel,

    // ---- output vector: NR beats of VL Q16 values ------------------------
    output reg                  m_valid,
    input  wire                 m_ready,
    output reg  [VL*32-1:0]     m_data,
    output reg                  m_last,

    // one-cycle pulse: the last output beat was accepted
    output reg                  done
);

// Constants baked at generation time: vector length, number of gain
// vectors, width of the sum of squares (DIM * 32767^2 + max EPS, even), and
// the memory layout (words, where the seeds start).
localparam integer DIM = ${DIM};
localparam integer NVEC = ${NVEC};
localparam integer S_W = ${S_W};

// The one memory: MW words; the seeds from word 128 * SEED_HI + 32 on (so
// the word address of seed u[31:24] - 64 is {SEED_HI, u[31:25]}).
localparam integer MW = ${MEM_WORDS};
localparam integer SEED_HI = ${SEED_HI};
localparam integer MA = $clog2(MW);
localparam [31:0] SEED_W0_32 = SEED_HI * 128;
localparam [MA-1:0] SEED_W0 = SEED_W0_32[MA-1:0];
localparam integer ADDR_W = DIM > 1 ? $clog2(DIM) : 1;
// gain pointer: a half-word address (the gains from half-word 2 * DIM on)
localparam integer GADDR_W = MA + 1;
localparam integer SEL_W = NVEC > 1 ? $clog2(NVEC) : 1;
localparam integer LAST = DIM - 1;
localparam [ADDR_W-1:0] LAST_ADDR = LAST[ADDR_W-1:0];
localparam integer LVW = VL > 1 ? $clog2(VL) : 1;
localparam [31:0] VL_M1 = VL - 1;
localparam [LVW-1:0] LANE_LAST = VL_M1[LVW-1:0];
// accumulator: the sum of squares, and 34 bits for the 16-bit-step products
localparam integer AW = S_W > 34 ? S_W : 34;
// NORM cycles (k before any doubling, (AW - 2) / 2, is baked into rq0)
localparam [31:0] NORM_M1 = AW - 3;
localparam [5:0] NORM_LAST = NORM_M1[5:0];
// gain vector base sel * DIM: a shift when DIM is a power of two
localparam integer DIM_LOG = $clog2(DIM);
localparam DIM_POW2 = (DIM == (1 << DIM_LOG));
localparam [GADDR_W-1:0] DIM_G = DIM[GADDR_W-1:0];
localparam [31:0] DIM2_32 = 2 * DIM;
localparam [GADDR_W-1:0] DIM2_G = DIM2_32[GADDR_W-1:0];

initial begin
    if (VL < 1 || (VL & (VL - 1)) != 0 || S_W > 64 || S_W < 32 || SEED_HI < 1 ||
        MW != 128 * SEED_HI + 128) begin
        $error("Error: VL a power of two, S_W 32..64, MW = 128 * (SEED_HI + 1) (instance %m)");
        $finish;
    end
end

// ---- constant tables ---------------------------------------------------------
// EPS[s] = round(eps * DIM * 2^(32 - 2s)), s = 0..17 (added through m_k
// with the first m^2 of SUM).
reg [4:0]     s_r;   // block-float shift of the current vector
reg [S_W-1:0] eps;
always @* begin
    case (s_r)
${EPS_CASES}
        default: eps = {S_W{1'b0}};
    endcase
end

// Per gain vector (gain = mant * 2^e): rq0 = K0 + 15 - e (K0 = (AW - 2) / 2,
// k before NORM takes it down): r + 15 = k - e + 15 without a subtractor.
// RQ_NEG: some rq0 < K0 (rq = rq0 - j, j <= K0, can go below 0); RQ_BIG:
// some rq0 >= 64 (see r_spec, r_q below).
localparam [0:0] RQ_NEG = ${RQ_NEG};
localparam [0:0] RQ_BIG = ${RQ_BIG};
reg [SEL_W-1:0]  sel_r; // gain vector of the current vector
reg signed [8:0] rq0;
always @* begin
    case (sel_r)
${RQ0_CASES}
        default: rq0 = 9'sd0;
    endcase
end

// ---- control state -----------------------------------------------------------
localparam [2:0] ST_LOAD = 3'd0, ST_SHIFT = 3'd1, ST_SUM = 3'd2, ST_NORM = 3'd3,
                 ST_RSQ = 3'd4, ST_YSH = 3'd5, ST_OUT = 3'd6, ST_MANT = 3'd7;
reg [2:0] state;
reg [5:0] st;       // step: within the element slot (MANT, SUM, OUT) or the phase
// slot and RSQ steps are below 16: their decodes look at st[3:0] only
wire [3:0] c4 = st[3:0];
wire st_is0 = c4 == 4'd0;

// YSH: AW - 17 cycles, the last one loads breg
localparam [31:0] YSH_LAST_32 = AW - 18;
localparam [5:0] YSH_LAST = YSH_LAST_32[5:0];

// Everything holds while an output beat waits (en = 0 only in OUT).
wire en = !m_valid || m_ready;

// ---- LOAD: input transfers, OR of |x|, RAM writes ------------------------------
assign s_ready = (state == ST_LOAD);
wire s_fire = s_valid && s_ready;

// idx, the element index: LOAD writes, MANT, SUM and OUT read (and OUT
// outputs) element idx
wire             idx_last = idx == LAST_ADDR;
// Only |x| >> 15 decides s. The ABS pass (MANT with abs_r set, before
// SHIFT) makes |x| >> 15 = (2 v + 2 sign) >> 16 (v = x ^ sign) of each
// element on the multiplier (F = 2 forced on B, 2 sign the MANT constant)
// in acc[16:0] at its step 5, ORed into maxor there: no |x| adder at LOAD.
reg [16:0]       maxor;   // OR of |x| >> 15 over the vector
reg              abs_r;   // the ABS pass: MANT steps make |x| >> 15, no write-back

// (cleared in SHIFT, after its use: a synchronous reset, no first-element mux)
always @(posedge clk)
    if (rst || state == ST_SHIFT)
        maxor <= 17'd0;
    else if (state == ST_MANT && abs_r && c4 == 4'd5)
        maxor <= maxor | acc[16:0];

always @(posedge clk)
    if (s_fire && idx == {ADDR_W{1'b0}})
        sel_r <= s_sel;

// ---- SHIFT: s = max(bitlen(max |x|) - 15, 0) = bitlen(OR (|x| >> 15)) ----------
// (and the first YSH doubling step for F = 2^(16 - s): s - 1 mod 16 = the
// index of the leading one, 15 for s = 0)
reg [4:0] maxbits;
integer i;
always @* begin
    maxbits = 5'd0;
    for (i = 0; i < 17; i = i + 1)
        if (maxor[i])
            maxbits = i[4:0] + 5'd1;
end
// s - 1 mod 16 (s = 0: 15, s = 17: 0)
wire [3:0] f_start = maxbits[3:0] - 4'd1;

always @(posedge clk)
    if (state == ST_SHIFT)
        s_r <= maxbits;

// ---- gain address: half-word (sel + 2) * DIM + i -----------------------------
reg  [ADDR_W-1:0]  idx;     // element index (below)
wire               g_start; // OUT begins (below)
wire               g_next;  // OUT: the gain read of this element issued
wire [GADDR_W-1:0] gaddr;   // half-word address of the gain of element idx
generate
    if (DIM_POW2) begin : g_base_shift
        // (sel + 2) * DIM + i as a concatenation
        // sel + 2 as gates (yosys's carry chain for the add needs a feed-in
        // cell of its own): bit 0 passes, bits 1 up take + 1 (bit SEL_W is
        // the carry out)
        wire [SEL_W:0]           sel_x = {1'b0, sel_r};
        reg  [SEL_W:0]           sel_p2;
        reg                      sel_c;
        integer                  si;
        always @* begin
            sel_p2[0] = sel_x[0];
            sel_c = 1'b1;
            for (si = 1; si <= SEL_W; si = si + 1) begin
                sel_p2[si] = sel_x[si] ^ sel_c;
                sel_c = sel_c & sel_x[si];
            end
        end
        wire [GADDR_W+SEL_W-1:0] sh =
            {{(GADDR_W - 1){1'b0}}, sel_p2} << DIM_LOG;
        assign gaddr = sh[GADDR_W-1:0] | {{(GADDR_W - ADDR_W){1'b0}}, idx};
        wire unused_sh = &{1'b0, sh[GADDR_W+SEL_W-1:GADDR_W], g_start, g_next};
    end else begin : g_base_add
        // sel_r additions of DIM, one per cycle from SHIFT on (NVEC - 1 <=
        // DIM + 60 cycles, checked by the emitter; MANT alone takes 7 * DIM)
        reg [GADDR_W-1:0] acc_b;
        reg [SEL_W-1:0]   left;
        always @(posedge clk)
            if (state == ST_SHIFT) begin
                acc_b <= DIM2_G;
                left <= sel_r;
            end else if (left != {SEL_W{1'b0}}) begin
                acc_b <= acc_b + DIM_G;
                left <= left - 1'b1;
            end
        // the gain pointer: from acc_b on, one up per element
        reg [GADDR_W-1:0] gptr;
        always @(posedge clk)
            if (g_start)
                gptr <= acc_b;
            else if (g_next)
                gptr <= gptr + 1'b1;
        assign gaddr = gptr;
    end
endgenerate

// ---- the memory: input words, mantissas, gains, seeds ------------------------
// One MW x 32 RAM (512 words, 4 EBR, at the iCEBreaker shape, instead of a
// RAM for x, a ROM for the gains and one for the seeds):
//   word i < DIM      x[i] from LOAD, then {.., sign, |m[i]|} from MANT
//   half-words 2 * DIM + v * DIM + i   gain v, element i: {sign, |g|}
//   half-words 256 * SEED_HI + u8 (u8 = 64..255)   seed T[u8 - 64]
// Read data registered (one cycle) and held until the next read, so it
// serves as a multiplier operand for several cycles; the half-word hw of a
// read is picked by hsel (the low bit of a gain or seed half-word address;
// the x half in MANT).
reg               hsel;

reg [31:0]  mem [0:MW-1];
initial $readmemh(GAIN_FILE, mem);
reg [MA-1:0] raddr;
reg [31:0]   rdata;
wire [31:0]  u;            // NORM result (below): the seed index is u[31:24]
// reads: element word at step 0 (MANT, SUM, OUT), seed at RSQ step 0, gain
// at OUT step 1; never in a write cycle (no read-during-write bypass)
wire st_o1 = state == ST_OUT && c4 == 4'd1;
assign g_next = en && st_o1;
assign g_start = en && state == ST_YSH && st == YSH_LAST;
wire rd_en = st_is0 ? (state == ST_MANT || state == ST_SUM || state == ST_RSQ ||
                       state == ST_OUT) : st_o1;
always @* begin
    if (state == ST_RSQ)
        raddr = SEED_W0 | {{(MA - 7){1'b0}}, u[31:25]};
    else if (st_o1)
        raddr = gaddr[GADDR_W-1:1];
    else
        raddr = {{(MA - ADDR_W){1'b0}}, idx};
end
always @(posedge clk)
    if (en && rd_en)
        rdata <= mem[raddr];
always @(posedge clk)
    if (en && (rd_en || (state == ST_MANT && c4 == 4'd1)))
        hsel <= (state == ST_RSQ) ? u[24] : st_o1 ? gaddr[0] : (state == ST_MANT && c4 == 4'd1);
wire [15:0] hw = hsel ? rdata[31:16] : rdata[15:0];

// MANT: m[i] = clamp(round(x / 2^s), +-32767) on the multiplier, written back.
// With v = x ^ sign (|x| - 1 for x < 0, |x| otherwise: v < 2^(s + 15)),
// |m| = (v + 2^(s-1)) >> s for s >= 1 (round half up of x), |x| for s = 0.
// For s = 1..16, F = 2^(16 - s): acc = v_lo * F + 2^15, then (acc >> 16) +
// v_hi * F = (v * F + 2^15) >> 16 = |m| (<= 32768, clamped). s = 0: acc =
// v_lo + sign (= |x| <= 32767), no second step. s = 17 (some x = -2^31):
// |m| = (v + 2^16) >> 17 = (v * 2^15 + 2^31) >> 32: F = 2^15, acc = v_lo * F
// + 2^31, (acc >> 16) + v_hi * F, then a third step acc >> 16; so |m| is
// always acc[15:0]. F is made in breg by YSH before MANT (FSH: doublings).
wire        m_s0 = s_r == 5'd0;
wire        m_s17 = s_r == 5'd17;
wire        x_sgn = rdata[31];

// ---- the multiplier and its two operand registers -----------------------------
// A = ra always (16 bits); ra takes a memory half-word (v_lo, v_hi, |m|,
// y0) or low[15:0]: a product (P = |m * g|, y0^2) is parked whole in low
// (RSQ 3, OUT 3: free then, OUT fills it from step 7 on), low shifts down
// by 16 the next cycle, so ra takes P0 (OUT 4) and P1 (OUT 6), or sq =
// y0^2 >> 16 (RSQ 5), from low[15:0]: two sources for ra, and low's D
// inputs are LUTs (muxes) that pack with its flip-flops.
// B = a breg limb (F, u, nr, Y: breg[15:0], or breg[31:16] with b_hi) or
// the memory half-word (|m| in SUM, |g| in OUT, y0 in RSQ).
reg [15:0] ra;
reg [31:0] breg;
reg [31:0] pr;    // registered product

wire ra_mem = c4 == 4'd1 ? (state == ST_MANT || state == ST_SUM || state == ST_RSQ ||
                            state == ST_OUT) :
              c4 == 4'd2 ? (state == ST_MANT) : (state == ST_RSQ && c4 == 4'd9);
// the product parked in low (step 3), low shifted down (step 4)
wire pk_ld = c4 == 4'd3 && (state == ST_RSQ || state == ST_OUT);
wire pk_sh = c4 == 4'd4 && (state == ST_RSQ || state == ST_OUT);
wire ra_lo = (state == ST_RSQ && (c4 == 4'd5 || c4 == 4'd7)) ||
             (state == ST_OUT && (c4 == 4'd4 || c4 == 4'd6));
// MANT: hw ^ sign (v_hi[15] = x[31] ^ sign = 0); SUM, OUT: the magnitude
wire        mag = state == ST_SUM || state == ST_OUT;
wire [15:0] hwx = {hw[15] && !mag, hw[14:0]} ^ {16{state == ST_MANT && x_sgn}};
wire b_mem = c4 == 4'd2 && (state == ST_SUM || state == ST_OUT || state == ST_RSQ);

wire [15:0] mul_a = ra;
// the high limb of breg is used in RSQ 7 (u_hi), 12 (nr_hi) and OUT 6, 8
// (Y1): B picks it with b_hi (a decode of the step) rather than breg
// rotating by 16, which would put a rotate-or-load mux before every breg
// flip-flop (the pick costs one LUT a bit of B, the rotation about two)
wire b_hi = state == ST_RSQ ? (c4 == 4'd7 || c4 == 4'd12) :
            (state == ST_OUT && (c4 == 4'd6 || c4 == 4'd8));
// The adder's B input is pr alone (no operand mux there): the steps that
// add no product get a zero product, B forced to 0 the cycle before (b_zero);
// RSQ 8 forces B = 2^14 (b_k) with A = 0xffff (low set in RSQ 6), so RSQ 9
// adds 65535 * 2^14 for nr as a product.
wire b_k = state == ST_RSQ && c4 == 4'd8;
wire b_two = state == ST_MANT && abs_r && !c4[2];
wire b_zero = state == ST_SHIFT || state == ST_YSH || state == ST_NORM ||
              (state == ST_SUM && c4 == 4'd3) ||
              (state == ST_MANT && (c4 == 4'd4 || c4 == 4'd6)) ||
              (state == ST_RSQ && (c4 == 4'd13 || c4 == 4'd14 || b_k)) ||
              (state == ST_OUT && (c4 == 4'd9 || c4 == 4'd10 || c4 == 4'd11));
wire [15:0] mul_b = ((b_mem ? {hw[15] && !mag, hw[14:0]} : b_hi ? breg[31:16] : breg[15:0]) &
                     {16{!(b_zero || b_two)}}) | {1'b0, b_k, 12'd0, b_two, 1'b0};

always @(posedge clk)
    if (en) begin
        pr <= mul_a * mul_b;
        if (ra_mem)
            ra <= hwx;
        else if (ra_lo)
            ra <= low[15:0];
    end

// ---- the accumulator: {acc, low} ------------------------------------------------
reg [AW-1:0] acc;
reg [31:0]   low;   // bits shifted out of acc (OUT)
reg          half;  // bit below the output window
reg          sticky; // OR of the bits below that
reg          go_r;  // NORM: this pair doubles
reg signed [8:0] rq; // r + 15 = k - e + 15 (k of rsqrt(S))
reg [1:0]    t_r;   // OUT: 16-bit right shifts after the products (0..3)
reg [3:0]    ystart; // YSH: first doubling step (f - 1, s - 1 or 0)
// YSH doubles from step ystart on (ystart <= 15 < YSH_LAST = AW - 18, so
// the step is met while st < 16, st[3:0] = st): y_on from that step on
// (an equality and a flag, not a magnitude compare), y_run after it
reg          y_run;
wire         y_on = y_run || c4 == ystart;
always @(posedge clk)
    if (en)
        y_run <= state == ST_YSH && y_on;

wire acc_top0 = acc[AW-1:AW-2] == 2'b00;
wire [AW-1:0] acc_sh16 = {16'd0, acc[AW-1:16]};
wire [AW-1:0] pr_w = {{(AW - 32){1'b0}}, pr};
// constants, ORed into A in steps with A = 0 only: MANT 3 rounding (2^31
// for s = 17, 2^15, the sign for s = 0); SHIFT: 2, the start of F; SUM,
// first element: EPS[s]
wire          k_mant = state == ST_MANT && c4 == 4'd3;
wire          k_s = k_mant && !abs_r;
wire [AW-1:0] m_k = {{(AW - 32){1'b0}}, k_s && m_s17, 15'd0,
                     k_s && !m_s0 && !m_s17, 13'd0,
                     state == ST_SHIFT || (k_mant && abs_r && x_sgn), k_s && m_s0 && x_sgn} |
                    ({AW{state == ST_SUM && idx == {ADDR_W{1'b0}}}} &
                     {{(AW - S_W){1'b0}}, eps});

// OUT tail: steps 10..12 shift while step - 9 <= t
wire out_sh = state == ST_OUT && ((c4 == 4'd10 && t_r != 2'd0) ||
                                  (c4 == 4'd11 && t_r[1]) || (c4 == 4'd12 && t_r == 2'd3));
wire out_low = state == ST_OUT && (c4 == 4'd7 || c4 == 4'd9);

// adder operands: A in {0, acc, acc >> 16, acc << 1} (| m_k), B = pr (a
// zero product where nothing is added, see b_zero)
reg [1:0] acc_am;   // A: 0 zero (| m_k), 1 acc, 2 acc >> 16, 3 acc << 1
reg       acc_we, acc_clr0;
always @* begin
    acc_am = 2'd0;
    acc_we = 1'b0;
    acc_clr0 = 1'b0;
    case (state)
        ST_SHIFT:
            acc_we = 1'b1;
        ST_YSH: begin
            acc_we = st != YSH_LAST && y_on;
            acc_am = 2'd3;
        end
        ST_MANT: begin
            acc_we = c4 == 4'd3 || (c4 == 4'd4 && (!m_s0 || abs_r)) ||
                     (c4 == 4'd5 && m_s17 && !abs_r);
            acc_am = c4 == 4'd3 ? 2'd0 : 2'd2;
        end
        ST_SUM: begin
            acc_we = c4 == 4'd3;
            // the first element: EPS[s] (m_k) + m^2, then acc + m^2
            acc_am = idx == {ADDR_W{1'b0}} ? 2'd0 : 2'd1;
        end
        ST_NORM: begin
            acc_we = st[0] ? go_r : acc_top0;
            acc_am = 2'd3;
        end
        ST_RSQ: begin
            acc_we = c4 == 4'd7 || c4 == 4'd8 || c4 == 4'd9 || c4 == 4'd12 || c4 == 4'd13 ||
                     c4 == 4'd14;
            acc_am = (c4 == 4'd8 || c4 == 4'd13) ? 2'd2 :
                     (c4 == 4'd9 || c4 == 4'd14) ? 2'd1 : 2'd0;
            acc_clr0 = c4 == 4'd14;
        end
        ST_OUT: begin
            acc_we = c4 == 4'd6 || c4 == 4'd7 || c4 == 4'd8 || c4 == 4'd9 || out_sh;
            acc_am = (out_low || out_sh) ? 2'd2 : c4 == 4'd8 ? 2'd1 : 2'd0;
        end
        default: ;
    endcase
end

wire [AW-1:0] acc_a = (acc_am == 2'd1 ? acc : acc_am == 2'd2 ? acc_sh16 :
                       acc_am == 2'd3 ? {acc[AW-2:0], 1'b0} : {AW{1'b0}}) | m_k;
wire [AW-1:0] acc_b = pr_w;
wire [AW-1:0] acc_sum = acc_a + acc_b;
wire          low_sh = out_low || out_sh || pk_sh;

always @(posedge clk)
    if (en) begin
        if (acc_we)
            acc <= {acc_sum[AW-1:1], acc_sum[0] && !acc_clr0};
        // OUT 13: saturation sets the window to all ones (a synchronous set)
        if (w_sat_set || (state == ST_RSQ && c4 == 4'd6))
            low[30:0] <= {31{1'b1}};
        else if (pk_ld)
            low <= pr;
        else if (low_sh)
            low <= {acc[15:0], low[31:16]};
        if (state == ST_OUT && c4 == 4'd9) begin
            half <= 1'b0;
            sticky <= 1'b0;
        end else if (out_sh) begin
            half <= low[15];
            sticky <= sticky | half | (|low[14:0]);
        end
    end

// MANT write-back: {sign, |m|} in the low half of word i (the high half
// rewritten with whatever s_data holds; only the low half is read again)
wire [15:0] m_val = acc[15:0];
wire [15:0] m_word = {x_sgn, m_val[14:0] | {15{m_val[15]}}};
wire        mem_we = s_fire || (en && state == ST_MANT && c4 == 4'd6 && !abs_r);
wire [31:0] wdata = {s_data[31:16], (state == ST_LOAD) ? s_data[15:0] : m_word};
always @(posedge clk)
    if (mem_we)
        mem[{{(MA - ADDR_W){1'b0}}, idx}] <= wdata;

// ---- NORM / RSQ: rsqrt(S) = y * 2^(-16-k) -----------------------------------------
// u = S * 2^(30 - 2k) (S = 0 counts as 1: u = 2^30); the top 32 bits of acc
// also carry F and Y at the end of YSH
wire [31:0] u_raw = acc[AW-1:AW-32];
assign u = {u_raw[31], u_raw[30] || (state == ST_RSQ && go_r && !u_raw[31]), u_raw[29:0]};

// nr = max(3 * 2^16 - g y0^2, 0), g y0^2 = acc >> 14 after the sq * u pair;
// with the seed table g y0^2 < 3 * 2^16 for every u (the emitter checks the
// largest u of each seed), so no clamp
// (3 * 2^16 - gy2 = ~(gy2 + 65535) on 18 bits: RSQ 9 adds 65535 * 2^14 to
// acc (the product 0xffff * 2^14; the bits below 14 do not carry), so nr =
// ~acc[31:14] at RSQ 10)
wire [17:0] nr = ~acc[31:14];

// output shift r = k - e: special (r <= -16: 0 or saturation, rq < 0:
// t = 0 and Y = y << 15 > 2^30 as y > 2^15, so |P| * Y >= 2^30 unless P =
// 0: the window's bit 30 or the bits above it are set exactly when the
// output saturates), else r' = 16 * (t - 1) + f, f in 1..16, Y = y << (16
// - f), with r_q = r' + 15 = (t << 4) + f - 1 = rq for rq < 64, else 63
// (r' = 48: the output is 0 for every r >= 47 anyway). rq lies in
// [min rq0 - K0, max rq0] (NORM takes at most K0 off): the emitter sets
// RQ_NEG (rq < 0 possible) and RQ_BIG (rq >= 64 possible) from the gain
// exponents, so a configuration that never meets a case spends no logic
// on it (rq's top bits and their comparisons are then unused).
wire              r_spec = RQ_NEG && rq[8];
wire [5:0]        r_q = rq[5:0] | {6{RQ_BIG && (rq[7] || rq[6])}};
reg               spec_r;
reg               fsh;   // YSH makes F for MANT (else Y for OUT)

always @(posedge clk)
    if (en) begin
        if (state == ST_NORM && !st[0])
            go_r <= acc_top0;
        if (state == ST_NORM && !st[0] && acc_top0)
            rq <= rq - 9'sd1;
        else if (state == ST_SUM)
            rq <= rq0;
        if (state == ST_SHIFT)
            ystart <= f_start;
        if (state == ST_RSQ && c4 == 4'd14) begin
            spec_r <= r_spec;
            t_r <= r_spec ? 2'd0 : r_q[5:4];
            ystart <= r_spec ? 4'd0 : r_q[3:0];
        end
        // breg: u (RSQ 0), nr (RSQ 10), F or Y (last YSH step); held
        // otherwise (B picks its limb, b_hi)
        if ((state == ST_RSQ && st_is0) || (state == ST_YSH && st == YSH_LAST))
            breg <= u;
        else if (state == ST_RSQ && c4 == 4'd10)
            breg <= {14'd0, nr};

    end

// ---- OUT: element slots, output lanes -------------------------------------------
reg neg; // sign of m * g
always @(posedge clk)
    if (en && state == ST_OUT) begin
        if (c4 == 4'd1)
            neg <= hw[15];
        else if (c4 == 4'd2)
            neg <= neg ^ hw[15];
    end

// window: low[30:0]; above it acc (Z >> (32 + 16 t) < 2^30) and low[31];
// round half up with the sign (special r: saturation iff low[30] or above
// set, see r_spec). OUT 13: saturation (w_sat) makes the window
// all ones and drops the round-up (w_upe); OUT 14: the result
// (w + up) or, with the sign, -(w + up) = ~(w + all ones * !up): one adder
// (w + b) ^ neg, b = up (neg = 0), all ones * !up (neg = 1). In OUT 13 the
// same adder gives w + 1 (no sign), whose bit 31 is &w: a round-up of an
// all-ones window saturates.
wire [30:0] w = low[30:0];
wire        w_hi = low[31] || (|acc[29:0]);
wire        w_up = half && (!neg || sticky);
wire        o13 = state == ST_OUT && c4 == 4'd13;
wire        w_ng = neg && !o13;
reg         w_upe;
wire        w_bhi = w_ng && !w_upe;
wire [31:0] w_res = ({1'b0, w} + {{31{w_bhi}}, o13 || (w_ng ^ w_upe)}) ^ {32{w_ng}};
// (&w is that bit 31 in OUT 13, taken from the window itself: through the
// adder's carry chain it made low's enable the design's most placement-
// sensitive path, 47 - 56 ns over placer seeds; docs/fpga.md)
wire        w_all = &w;
wire        w_sat = w_hi || (w_up && w_all) || (spec_r && low[30]);
wire        w_sat_set = o13 && w_sat;
always @(posedge clk)
    if (en && o13)
        w_upe <= w_up && !w_sat;
`ifndef SYNTHESIS
// the adder's bit 31 in OUT 13, checked in every simulation
always @(posedge clk)
    if (!rst && en && o13 && w_res[31] != w_all) begin
        $display("Error: %m: &w %b, the adder's bit 31 %b", w_all, w_res[31]);
        $stop;
    end
`endif

reg [LVW-1:0]    olane;
wire             o_wr = state == ST_OUT && c4 == 4'd14;

genvar g;
generate
    for (g = 0; g < VL; g = g + 1) begin : g_lane
        always @(posedge clk)
            if (en && o_wr) begin
                if (olane == g[LVW-1:0])
                    m_data[32*g +: 32] <= w_res;
                else if (olane == {LVW{1'b0}})
                    m_data[32*g +: 32] <= 32'd0;
            end
    end
endgenerate

always @(posedge clk) begin
    if (en) begin
        m_valid <= o_wr && (olane == LANE_LAST || idx_last);
        if (o_wr) begin
            m_last <= idx_last;
            olane <= (olane == LANE_LAST || idx_last) ? {LVW{1'b0}} : olane + 1'b1;
        end
    end
    if (rst) begin
        m_valid <= 1'b0;
        m_last <= 1'b0;
        olane <= {LVW{1'b0}};
    end
end

// ---- sequencer ---------------------------------------------------------------
// Element slots: MANT steps 0..6, SUM 0..3, OUT 0..14 (15 after the last
// element: wait for the last beat); phases: YSH 0..YSH_LAST, NORM
// 0..NORM_LAST, RSQ 0..14.
always @(posedge clk) begin
    done <= 1'b0;
    if (en) begin
        st <= st + 1'b1;
        case (state)
            ST_LOAD: begin
                st <= 6'd0;
                if (s_fire) begin
                    idx <= idx + 1'b1;
                    if (idx_last) begin
                        idx <= {ADDR_W{1'b0}};
                        state <= ST_MANT;
                        abs_r <= 1'b1;
                    end
                end
            end
            ST_SHIFT: begin
                state <= ST_YSH;
                fsh <= 1'b1;
                st <= 6'd0;
            end
            ST_MANT:
                if (c4 == 4'd6) begin
                    st <= 6'd0;
                    idx <= idx + 1'b1;
                    if (idx_last) begin
                        state <= abs_r ? ST_SHIFT : ST_SUM;
                        abs_r <= 1'b0;
                        idx <= {ADDR_W{1'b0}};
                    end
                end
            ST_SUM:
                if (c4 == 4'd3) begin
                    st <= 6'd0;
                    idx <= idx + 1'b1;
                    if (idx_last) begin
                        state <= ST_NORM;
                        idx <= {ADDR_W{1'b0}};
                    end
                end
            ST_NORM:
                if (st == NORM_LAST) begin
                    state <= ST_RSQ;
                    st <= 6'd0;
                end
            ST_RSQ:
                if (c4 == 4'd14) begin
                    state <= ST_YSH;
                    st <= 6'd0;
                end
            ST_YSH:
                if (st == YSH_LAST) begin
                    st <= 6'd0;
                    fsh <= 1'b0;
                    state <= fsh ? ST_MANT : ST_OUT;
                end
            ST_OUT: begin
                if (c4 == 4'd14) begin
                    st <= idx_last ? 6'd15 : 6'd0;
                    idx <= idx_last ? {ADDR_W{1'b0}} : idx + 1'b1;
                end
                if (c4 == 4'd15)
                    st <= 6'd15;
                if (m_valid && m_ready && m_last) begin
                    state <= ST_LOAD;
                    st <= 6'd0;
                    done <= 1'b1;
                end
            end
            default:
                state <= ST_LOAD;
        endcase
    end
    if (rst) begin
        state <= ST_LOAD;
        idx <= {ADDR_W{1'b0}};
        st <= 6'd0;
        fsh <= 1'b0;
        abs_r <= 1'b0;
        done <= 1'b0;
    end
end

endmodule

`resetall
