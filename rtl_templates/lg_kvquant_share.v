`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: K/V cache write-side quantizer shared by the K and the V rows,
 * Q16 rows -> KV words (template rtl_templates/lg_kvquant_share.v, the
 * --mul-share form of rtl_templates/lg_kvquant.v; C twin lg_ref_kv_quant in
 * src/ref_kvcache.c). One instance in lg_kvcache_share serves both caches.
 *
 * Why: in the decoder a position's K row (from the Wk run, after RoPE) and
 * its V row (from the Wv run) arrive one after the other, so one quantizer
 * can serve both; the lean form takes whole rows in turn, which also lets
 * it keep a single set of row state (base addresses, range check) instead
 * of per-group copies, and its datapath is narrowed to what the numbers
 * can reach (see Numerics). Cycles are cheap here (the decoder's K and V
 * elements come one per mat-vec row, tens of cycles apart), so a group is
 * quantized bit-serially: no shifter, no adder, the group buffer's block
 * RAM read port (2 bits wide) selects the bits.
 *
 * Numerics (bit-exact with the C twin), per group of KV_GROUP elements:
 *   maxabs = max |x|      (x = -2^31 gives 2^31)
 *   e = max(0, bitlen(maxabs) - (KV_BITS - 1))        leading-one detect
 *   m = clamp(round_shift(x, e), +-(2^(KV_BITS-1) - 1))
 * round_shift is round half up (floor(x / 2^e) + bit e-1 of x). An
 * element is kept in one's complement form, s = sign and y = x ^ {32{s}}
 * (y >= 0; the port mux and the XOR are one LUT a bit). e = max over the
 * group of max(0, bitlen(|x|) - (KV_BITS - 1)), found by an exponent pass
 * over the completed group before its read-out: each element's |x| = y + s
 * LSB first from the buffer (a carry flip-flop), e taking j - KV_BITS at a
 * set bit j - 2 where that is larger (no running OR register, no
 * leading-one detector). Every x of the group has
 * |x| < 2^(e + KV_BITS - 1), so t = x >>> (e - 1) = ({y, s} >> e) ^ s lies
 * in [-2^KV_BITS, 2^KV_BITS): only the KV_BITS bits u = {y, s}[e +
 * KV_BITS - 1 : e] are needed, and the rounding is m = ((u + (s ? -1 :
 * 1)) >> 1) ^ s, in [-2^(KV_BITS-1), 2^(KV_BITS-1)]: the clamp catches
 * exactly u = all ones. For e = 0 (|x| < 2^(KV_BITS-1)) the same path
 * gives x. All are done LSB first, one bit a cycle (a carry flip-flop;
 * see the read-out). No multiplier, no divider.
 *
 * Storage layout: as lg_kvquant (row r = layer * SEQ_LEN + pos; mantissa
 * word r * (KV_DIM / BEAT) + element / BEAT, lane i in bits [KV_BITS*i +:
 * KV_BITS]; exponent word r * (KV_DIM / EGW) + element / EGW, EGW =
 * max(BEAT, KV_GROUP), NGB = max(1, BEAT / KV_GROUP) exponents a word,
 * lowest group in the low bits). When EGW / BEAT is a power of two the
 * exponent address is the mantissa address shifted (no exponent counter).
 * When SEQ_LEN and KV_DIM / BEAT are powers of two the row's base address
 * is wiring ({layer, pos, 0}) and only the word index below it counts.
 *
 * Parameters: KV_DIM (elements per row), KV_GROUP (divides KV_DIM), KV_BITS
 * (4..16), BEAT (mantissas per word: divides KV_DIM, and BEAT divides
 * KV_GROUP or KV_GROUP divides BEAT), LAYERS, SEQ_LEN.
 *
 * Handshake contract:
 *  - s_k_* / s_v_*: valid/ready, one Q16 element per transfer, KV_DIM per
 *    row; s_*_layer / s_*_pos are read from the first element of each row
 *    until its done: the port holds them that long (with SEQ_LEN and
 *    KV_DIM / BEAT powers of two the write address's row part is those
 *    fields themselves, no copy registers; the decoder's are its layer and
 *    position registers).
 *    Rows are taken whole and one at a time: a row's first element is
 *    taken only when the previous row is done (in its done cycle at the
 *    earliest). A grant register picks the port: it passes to the other
 *    port at each row's last element, and, between rows, to the other port
 *    when that one is valid and the granted one is not (one cycle). Ready
 *    depends on registers only and is high within a row except in the
 *    cycle after a group's last element (the group's pass starts then)
 *    and, for a group's last element, while the previous group is still
 *    being read out: a completed group is read out (an exponent pass of
 *    34 cycles an element, then the quantization, KV_BITS + 3 cycles an
 *    element: E = KV_BITS + 37) from one half of a two-group buffer in the
 *    next E * KV_GROUP cycles, while the next group fills the other half.
 *  - m_we/m_addr/m_data and m_ewe/m_eaddr/m_edata: registered write ports
 *    of the mantissa and exponent RAMs (the RAM writes at the next edge);
 *    m_sel says whose RAMs (0 K, 1 V); it is constant through a row.
 *  - k_done / v_done: one-cycle pulse when the last word of a K / V row
 *    has been written into the RAM (a read issued in the done cycle sees
 *    the new row).
 *  - err: one-cycle pulse in the cycle after the first element of a row
 *    whose layer >= LAYERS or pos >= SEQ_LEN was taken; such a row is
 *    consumed, nothing is written, and its done still pulses.
 *
 * Latency and throughput: with R = (KV_BITS + 37) * KV_GROUP (a group's
 * exponent pass and read-out) and NG = KV_DIM / KV_GROUP groups a row:
 * with a row's last element handed over in cycle c, its done is high in
 * cycle c + R + 3 (R + 2 to its last word write; lg_kvquant: KV_GROUP +
 * 3); elements go in one per cycle, none in the cycle after a group's
 * last, and a group's last only after the previous group's read-out, so a
 * row offered without gaps whose first element is handed over in cycle c0
 * is done in cycle c0 + (KV_GROUP - 1) + (NG - 1) (R + 2) + R + 3, and the
 * next row (the other port's, when it is waiting) can start in that cycle:
 * a K row and a V row offered together take twice that from the K row's
 * first element to the V row's done (lg_kvcache_pair_cycles). In the
 * decoder the elements come more than R / KV_GROUP cycles apart (a mat-vec
 * row each, hundreds of cycles from the flash), so only the last group's
 * pass and read-out show (lg_kvcache_done_latency, in lg_decoder_cycles);
 * at stories260K (kv_bits 8, kv_group 8) R = 360, done 363 cycles after
 * the V row's last element (91 with a running OR register and a
 * leading-one detector instead of the pass, 11 with a one-element-a-cycle
 * read-out).
 */
module ${MODULE} #(
    // elements per row (n_kv_heads * head_size)
    parameter KV_DIM = ${KV_DIM},
    // elements sharing one exponent (divides KV_DIM)
    parameter KV_GROUP = ${KV_GROUP},
    // mantissa width in bits (4..16)
    parameter KV_BITS = ${KV_BITS},
    // mantissas per RAM word (the read beat width)
    parameter BEAT = ${BEAT},
    // decoder layers (one region of rows each)
    parameter LAYERS = ${LAYERS},
    // positions per layer
    parameter SEQ_LEN = ${SEQ_LEN}
) (
    input  wire                 clk,
    input  wire                 rst,

    /*
     * K row input (Q16, KV_DIM elements per row)
     */
    input  wire                 s_k_valid,
    output wire                 s_k_ready,
    input  wire [31:0]          s_k_data,
    input  wire [LW-1:0]        s_k_layer,
    input  wire [31:0]          s_k_pos,

    /*
     * V row input
     */
    input  wire                 s_v_valid,
    output wire                 s_v_ready,
    input  wire [31:0]          s_v_data,
    input  wire [LW-1:0]        s_v_layer,
    input  wire [31:0]          s_v_pos,

    /*
     * RAM write ports (mantissa, exponent) and the cache they address
     */
    output reg                  m_we,
    output wire [MAW-1:0]       m_addr,
    output reg  [MW-1:0]        m_data,
    output reg                  m_ewe,
    output wire [EAW-1:0]       m_eaddr,
    output wire [EW-1:0]        m_edata,
    output wire                 m_sel,

    /*
     * Status
     */
    output wire                 k_done,
    output wire                 v_done,
    output reg                  err
);

// ---- derived sizes ------------------------------------------------------------

localparam integer LW = LAYERS > 1 ? $clog2(LAYERS) : 1;
// exponents per exponent word, elements covered by one exponent word
localparam integer NGB = BEAT > KV_GROUP ? BEAT / KV_GROUP : 1;
localparam integer EGW = BEAT > KV_GROUP ? BEAT : KV_GROUP;
// words per row (mantissa, exponent); mantissa words per exponent word
localparam integer WPR = KV_DIM / BEAT;
localparam integer EPR = KV_DIM / EGW;
localparam integer BPG = EGW / BEAT;
localparam integer ROWS = LAYERS * SEQ_LEN;
localparam integer MAW = ROWS * WPR > 1 ? $clog2(ROWS * WPR) : 1;
localparam integer EAW = ROWS * EPR > 1 ? $clog2(ROWS * EPR) : 1;
localparam integer MW = BEAT * KV_BITS;
localparam integer EW = NGB * 5;
// exponent address = mantissa address >> BSH when BPG is a power of two
localparam integer BSH = BPG > 1 ? $clog2(BPG) : 0;
localparam integer EFROMM = ((1 << BSH) == BPG && MAW - BSH == EAW) ? 1 : 0;
// element counters: within a row, within a group, within a word
localparam integer RW = KV_DIM > 1 ? $clog2(KV_DIM) : 1;
localparam integer GW = KV_GROUP > 1 ? $clog2(KV_GROUP) : 1;
// group buffer address (two halves)
localparam integer PTRW = $clog2(2 * KV_GROUP);
localparam integer BW = BEAT > 1 ? $clog2(BEAT) : 1;
localparam integer NGW = NGB > 1 ? $clog2(NGB) : 1;

localparam [31:0] ROW_M1 = KV_DIM - 1;
localparam [31:0] GRP_M1 = KV_GROUP - 1;
localparam [31:0] BEAT_M1 = BEAT - 1;
localparam [31:0] NGB_M1 = NGB - 1;
localparam [31:0] KG32 = KV_GROUP;
localparam [RW-1:0] ROW_LAST = ROW_M1[RW-1:0];
localparam [GW-1:0] GRP_LAST = GRP_M1[GW-1:0];
localparam [BW-1:0] LANE_LAST = BEAT_M1[BW-1:0];
localparam [NGW-1:0] EL_LAST = NGB_M1[NGW-1:0];
localparam [GW:0] KG = KG32[GW:0];

// bad parameter combinations are rejected at elaboration
initial begin
    if (KV_BITS < 4 || KV_BITS > 16) begin
        $error("Error: KV_BITS must be in 4..16 (instance %m)");
        $finish;
    end
    if (KV_GROUP < 1 || KV_DIM % KV_GROUP != 0 || BEAT < 1 || KV_DIM % BEAT != 0 ||
        (KV_GROUP % BEAT != 0 && BEAT % KV_GROUP != 0)) begin
        $error("Error: KV_GROUP and BEAT must divide KV_DIM and one another (instance %m)");
        $finish;
    end
    if (LAYERS < 1 || SEQ_LEN < 1 || LAYERS * SEQ_LEN * WPR >= (1 << 30)) begin
        $error("Error: LAYERS and SEQ_LEN must be >= 1, the RAM < 2^30 words (instance %m)");
        $finish;
    end
end

// ---- input side: row arbitration --------------------------------------------------

// half being filled, element index in the row and in the group
reg          wh;
reg [RW-1:0] in_idx;
wire [GW-1:0] in_gi;
// a row has been started and its done has not pulsed yet
reg          row_act;
// port granted (0 K, 1 V) and owner of the row in flight
reg          gnt;
reg          own;
reg          done;

wire in_first = in_idx == {RW{1'b0}};
wire in_glast = in_gi == GRP_LAST;
wire in_rlast = in_idx == ROW_LAST;
// the next element may go in: within a row, except a group's last while
// the previous group is still being read out (so a group's read-out
// starts the cycle after its completion and has left its half before the
// group after next can reach it), and a row's first element when the
// previous row is done; never in the cycle after a group's last element
// (rd_start: the group starts its exponent pass then)
reg  rd_start;
reg  rd_go;
wire in_ok = (!in_first || !row_act || done) && !rd_start && !(in_glast && rd_go);
wire s_valid = gnt ? s_v_valid : s_k_valid;
// the element in one's complement form: sign s and y = x ^ {32{s}} (y >= 0,
// y[31] = 0; x = -y - 1 for s = 1), the port mux and the XOR in one LUT a bit
wire s_sgn = gnt ? s_v_data[31] : s_k_data[31];
wire [31:0] s_y = (gnt ? s_v_data : s_k_data) ^ {32{s_sgn}};
wire [LW-1:0] s_layer = gnt ? s_v_layer : s_k_layer;
wire s_fire = s_valid && in_ok;
wire row_start = s_fire && in_first;

assign s_k_ready = in_ok && !gnt;
assign s_v_ready = in_ok && gnt;

always @(posedge clk) begin
    if (s_fire) begin
        in_idx <= in_rlast ? {RW{1'b0}} : in_idx + 1'b1;
        if (in_glast)
            wh <= !wh;
    end
    // the grant passes at a row's last element, and between rows to a
    // waiting other port
    if (s_fire && in_rlast)
        gnt <= !gnt;
    else if (in_first && !s_valid && (gnt ? s_k_valid : s_v_valid))
        gnt <= !gnt;
    if (row_start) begin
        own <= gnt;
        row_act <= 1'b1;
    end else if (done) begin
        row_act <= 1'b0;
    end
    if (rst) begin
        in_idx <= {RW{1'b0}};
        wh <= 1'b0;
        gnt <= 1'b0;
        own <= 1'b0;
        row_act <= 1'b0;
    end
end

// group buffer: two halves of KV_GROUP elements (element i of half h at
// h * KV_GROUP + i), written as elements arrive, read back bit-serially;
// an element is kept as z = {y[30:0], s} (the bits the read-out selects
// from; y[31] = 0 is z's bit 32), in 2-bit words (bits 2p + 1 .. 2p at
// {element, p}): one 32-bit write, 2-bit reads, so the block RAM's read
// port (2048 x 2) is the bit select. no_rw_check: a read-out reads only
// the completed half, writes go to the other one.
(* no_rw_check *)
reg [1:0] gbuf [0:2*KV_GROUP*16-1];
wire [PTRW-1:0]  wr_ptr;
wire [PTRW-1:0]  rd_ptr;
reg  [GW-1:0]    rd_gi;

// the element index in the group: the row index's low bits when KV_GROUP
// is a power of two (groups tile the row), else its own counter; the
// buffer addresses are then {half, index}
generate
    if (KV_GROUP > 1 && (1 << GW) == KV_GROUP) begin : g_gi_p2
        assign in_gi = in_idx[GW-1:0];
        assign wr_ptr = {wh, in_gi};
        assign rd_ptr = {!wh, rd_gi};
    end else begin : g_gi_count
        reg [GW-1:0] gi_cnt;
        always @(posedge clk) begin
            if (s_fire)
                gi_cnt <= in_glast ? {GW{1'b0}} : gi_cnt + 1'b1;
            if (rst)
                gi_cnt <= {GW{1'b0}};
        end
        assign in_gi = gi_cnt;
        wire [GW:0] wr_sum = (wh ? KG : {(GW + 1){1'b0}}) + {1'b0, in_gi};
        wire [GW:0] rd_sum = (wh ? {(GW + 1){1'b0}} : KG) + {1'b0, rd_gi};
        assign wr_ptr = wr_sum[PTRW-1:0];
        assign rd_ptr = rd_sum[PTRW-1:0];
        // the sums have a spare top bit when KV_GROUP = 1
        wire unused_sum = &{1'b0, wr_sum, rd_sum};
    end
endgenerate

wire [31:0] s_z = {s_y[30:0], s_sgn};
integer     wi;
always @(posedge clk) begin
    if (s_fire)
        for (wi = 0; wi < 16; wi = wi + 1)
            gbuf[{wr_ptr, wi[3:0]}] <= s_z[2*wi +: 2];
end

// Row check and base addresses from the first element's layer and pos (a
// bad row is consumed but never written). 32-bit arithmetic modulo 2^32:
// for a valid row the results fit MAW / EAW bits. When SEQ_LEN (WPR, EPR)
// is a power of two its product is a shift and the sum with pos an OR
// (pos < SEQ_LEN for a valid row): wiring, no carry chain.
localparam [31:0] SEQ32 = SEQ_LEN;
localparam [31:0] WPR32 = WPR;
localparam [31:0] EPR32 = EPR;
localparam integer PW = SEQ_LEN > 1 ? $clog2(SEQ_LEN) : 1;
localparam [PW:0] SEQ_P = SEQ32[PW:0];
localparam integer WSH = WPR > 1 ? $clog2(WPR) : 0;
localparam integer ESH = EPR > 1 ? $clog2(EPR) : 0;
localparam integer SEQ_P2 = (1 << PW) == SEQ_LEN ? 1 : 0;
localparam integer WPR_P2 = (1 << WSH) == WPR ? 1 : 0;
localparam integer EPR_P2 = (1 << ESH) == EPR ? 1 : 0;
wire [31:0]    layer32 = {{(32 - LW){1'b0}}, s_layer};
// pos < SEQ_LEN as "no bit above PW" and a PW-bit compare (no 32-bit
// chain), checked on each port and then selected (only pos's low PW bits
// go through the port mux)
wire           pos_ok_k = s_k_pos[31:PW] == {(32 - PW){1'b0}} && {1'b0, s_k_pos[PW-1:0]} < SEQ_P;
wire           pos_ok_v = s_v_pos[31:PW] == {(32 - PW){1'b0}} && {1'b0, s_v_pos[PW-1:0]} < SEQ_P;
wire           pos_ok = gnt ? pos_ok_v : pos_ok_k;
wire [31:0]    pos32 = {{(32 - PW){1'b0}}, gnt ? s_v_pos[PW-1:0] : s_k_pos[PW-1:0]};
wire           row_ok_now = (layer32 < LAYERS) && pos_ok;
wire [31:0]    row32 = SEQ_P2 != 0 ? (layer32 << PW) | pos32 : layer32 * SEQ32 + pos32;
wire [31:0]    wbase32 = WPR_P2 != 0 ? row32 << WSH : row32 * WPR32;
wire [31:0]    ebase32 = EPR_P2 != 0 ? row32 << ESH : row32 * EPR32;

// one row at a time: the row state is loaded with the first element and
// the write address counter runs from there (the previous row's last word
// was written before its done, so nothing else uses them meanwhile)
reg           row_ok;
wire [MAW-1:0] waddr;

always @(posedge clk) begin
    err <= row_start && !row_ok_now;
    if (row_start)
        row_ok <= row_ok_now;
    if (rst)
        err <= 1'b0;
end

// the row-end flag, written when the group completes: its read-out ends
// before the next group can complete (that group's last element waits for
// it), so one copy serves
reg       meta_rlast;

always @(posedge clk) begin
    if (s_fire && in_glast)
        meta_rlast <= in_rlast;
end

// ---- read-out: bit-serial, one element after another from the completed half --------

// t = x >>> (e - 1) = {x, 0} >>> e in KV_BITS + 1 bits (the rest are sign
// copies for e > 0). With x = y ^ {32{s}}: {x, 0} = z ^ {33{s}}, z = {y,
// s}, so t = u' ^ {s} with u' = z >> e, a logical shift; as y < 2^(e +
// KV_BITS - 1), u' < 2^KV_BITS: u = z[e + KV_BITS - 1 : e]. Round half up:
// (t >>> 1) + t[0] = floor((t + 1) / 2), which is (u + 1) >> 1 for s = 0
// and ~((u - 1) >> 1) for s = 1 (t = -u - 1): g = (u + (s ? -1 : 1)) >> 1
// and m = g ^ {s}; |m| reaches 2^(KV_BITS-1) (the clamp) exactly when u is
// all ones, for either sign. For e = 0 (|x| < 2^(KV_BITS-1)), u = {x, 0} ^
// s and m = x: no bypass.
// Bit-serial, LSB first (no shifter, no adder): z's bits come from the
// buffer (2-bit reads at a bit counter j = e, e + 1, ...; the RAM's
// output register lags the counter by one: the bit of j - 1 is taken).
// Each element starts with a read of z's bits 1..0 for s (the counter is
// 0 then, and loads e). Step 0 takes u_0 into the carry (c = u_0: the
// addend's bit 0 is 1); steps k = 1 .. KV_BITS emit m_(k-1) = u_k ^ c (the
// addend's bits s cancel against m = g ^ s; u_KV_BITS = 0) into the word's
// shift register and take c = maj(u_k, s, c); the last step writes the
// clamp value over the element's bits instead when u was all ones. An
// element takes KV_BITS + 3 cycles (the read of s with the counter load,
// the first read, KV_BITS + 1 steps), after the group's exponent pass (34
// cycles an element, below) from the cycle after rd_start.
// The exponent pass (ex, before the read-out, one element after another):
// the bits of z LSB first at j = 0 .. PX_LAST (the same reads; j = 1 takes
// s into the carry, j >= 2 the bit y_(j-2): |x| = y + s bit-serially, bit
// k = j - 2 is y_k ^ c, c = y_k & c, and at j = 33 the carry alone, bit 31);
// a set bit k >= KV_BITS - 1 gives e >= k + 2 - KV_BITS = j - KV_BITS, and
// e (r1_e, 0 from rd_start) takes it when larger: e = max(0, bitlen(maxabs)
// - (KV_BITS - 1)) once every element has passed. No running OR register,
// no leading-one detector; PX_LAST + 1 = 34 cycles an element.
localparam [5:0] PX_LAST = 6'd33;
localparam [5:0] KB6 = KV_BITS;
localparam integer KL = KV_BITS + 2;
localparam integer KW = $clog2(KV_BITS + 3);
localparam [31:0] KL32 = KL;
localparam [KW-1:0] K_LAST = KL32[KW-1:0];
localparam [KW-1:0] K_ONE = 1;
localparam [KW-1:0] K_STEP0 = 2;

// 0: read of z[1:0], j <= e; 1: s taken, read at e; 2 .. KL: steps 0 ..
// KV_BITS
reg  [KW-1:0] rd_k;
reg  [5:0]    rd_j;
reg  ex;             // the exponent pass (rd_k stays 0 meanwhile)
wire rd_glast = rd_gi == GRP_LAST;
wire el_done = rd_go && !ex && rd_k == K_LAST;
wire px_done = ex && rd_j == PX_LAST;

// rd_k + 1 and rd_gi + 1 as gates (an XOR a bit, the AND of the bits below):
// a few bits fit a LUT a bit, where yosys's carry chain for the add needs a
// feed-in cell of its own (IW + 1 bits: both zero-extended by at least one)
localparam integer IW = KW > GW ? KW : GW;
function [IW:0] inc_w;
    input [IW:0] a;
    integer i;
    reg c;
    begin
        c = 1'b1;
        for (i = 0; i <= IW; i = i + 1) begin
            inc_w[i] = a[i] ^ c;
            c = c & a[i];
        end
    end
endfunction
wire [IW:0] rd_k_inc = inc_w({{(IW + 1 - KW){1'b0}}, rd_k});
wire [IW:0] rd_gi_inc = inc_w({{(IW + 1 - GW){1'b0}}, rd_gi});
wire unused_inc = &{1'b0, rd_k_inc[IW:KW], rd_gi_inc[IW:GW]};
wire gfirst = rd_gi == {GW{1'b0}};

always @(posedge clk) begin
    rd_start <= s_fire && in_glast;
    if (rd_start) begin
        rd_go <= 1'b1;
        ex <= 1'b1;
    end else begin
        if (el_done && rd_glast)
            rd_go <= 1'b0;
        if (px_done && rd_glast)
            ex <= 1'b0;
    end
    if (rd_go && !ex)
        rd_k <= el_done ? {KW{1'b0}} : rd_k_inc[KW-1:0];
    if (el_done || px_done)
        rd_gi <= rd_glast ? {GW{1'b0}} : rd_gi_inc[GW-1:0];
    if (rst) begin
        rd_start <= 1'b0;
        rd_go <= 1'b0;
        ex <= 1'b0;
        rd_k <= {KW{1'b0}};
        rd_gi <= {GW{1'b0}};
    end
end

// r1_e, the group's exponent: cleared in rd_start, formed by the exponent
// pass and held through the group's read-out and its last exponent write;
// r1_s, the element's sign (z's bit 0; 0 through the pass, so that the
// carry's majority is the pass's AND)
reg [4:0] r1_e;
reg [1:0] r1_z;
reg       r1_s;
always @(posedge clk) begin
    if (rd_go)
        r1_z <= gbuf[{rd_ptr, rd_j[4:1]}];
end

// the bit of j - 1 (j - 1 = 32 is y[31] = 0: only at j = 33), 0 in the
// read-out's last step
wire        zbit = (rd_j[0] ? r1_z[0] : r1_z[1]) && !(rd_j[5] && rd_j[0]) && rd_k != K_LAST;
reg         sc;          // the carry
reg         sall;        // u's bits so far all ones
reg         emit;        // steps 1 .. KV_BITS
wire        step0 = rd_k == K_STEP0;
// e_new = j - KV_BITS as gates (a ripple add of the constant 64 - KV_BITS:
// the carry chain yosys makes of it needs a feed-in cell of its own)
localparam [5:0] NKB6 = 6'd0 - KB6;
reg  [5:0]  e_new;
reg         e_c;
integer     ek;
always @* begin
    e_c = 1'b0;
    for (ek = 0; ek < 6; ek = ek + 1) begin
        e_new[ek] = rd_j[ek] ^ NKB6[ek] ^ e_c;
        e_c = (rd_j[ek] & NKB6[ek]) | (rd_j[ek] & e_c) | (NKB6[ek] & e_c);
    end
end
wire        fix = el_done && sall;
// j > e + KV_BITS, taken as e_new > e in plain logic (a ripple over the bits
// from bit 0 up; a compare yosys maps to a carry chain of cells of their
// own, after an adder for e + KV_BITS). In the pass j <= PX_LAST = 33, so
// e_new is j - KV_BITS <= 29 when j >= KV_BITS and wraps to 48 .. 63 (bit 5
// set, not more) when j < KV_BITS.
reg         e_gt;
integer     gk;
always @* begin
    e_gt = 1'b0;
    for (gk = 0; gk < 5; gk = gk + 1)
        e_gt = (e_new[gk] == r1_e[gk]) ? e_gt : e_new[gk];
    e_gt = e_gt && !e_new[5];
end

always @(posedge clk) begin
    // 0 between elements and groups (the read of s), e in the first read
    if (!rd_go || el_done || px_done)
        rd_j <= 6'd0;
    else if (!ex && rd_k == {KW{1'b0}})
        rd_j <= {1'b0, r1_e};
    else
        rd_j <= rd_j + 1'b1;
    if (rd_start)
        r1_s <= 1'b0;
    else if (rd_k == K_ONE)
        r1_s <= r1_z[0];
    // the pass: e takes j - KV_BITS where |x|'s bit j - 2 is set and that is
    // more than e
    if (rd_start)
        r1_e <= 5'd0;
    else if (ex && (zbit ^ sc) && e_gt)
        r1_e <= e_new[4:0];
    if (step0 || (ex && rd_j == 6'd1)) begin
        sc <= zbit;
        sall <= zbit;
    end else begin
        sc <= (zbit & r1_s) | (zbit & sc) | (r1_s & sc);
        sall <= sall & zbit;
    end
    emit <= rd_go && (step0 || (emit && !el_done));
    if (rst)
        emit <= 1'b0;
end

// word lane and exponent lane of this element (rows always complete, so the
// counters wrap at row ends by themselves); one exponent a word: no exponent
// lane counter, a constant 0 (else a flip-flop stuck at its reset value)
reg  [BW-1:0]  lane;
wire [NGW-1:0] elane;
wire           lane_last = lane == LANE_LAST;
wire           elane_last = elane == EL_LAST;
generate
    if (NGB > 1) begin : g_elane_cnt
        reg [NGW-1:0] elane_r;
        always @(posedge clk) begin
            // one exponent per group, taken with the group's first element
            if (el_done && gfirst)
                elane_r <= elane_last ? {NGW{1'b0}} : elane_r + 1'b1;
            if (rst)
                elane_r <= {NGW{1'b0}};
        end
        assign elane = elane_r;
    end else begin : g_elane_one
        assign elane = {NGW{1'b0}};
    end
endgenerate

// the word: a shift register (each bit enters at the top, so after BEAT
// elements lane i holds the word's element i); the last step of an
// element writes the clamp value over its lane instead when u was all
// ones (m = 2^(KV_BITS-1) -> s ? -(2^(KV_BITS-1) - 1) : 2^(KV_BITS-1) - 1)
wire [KV_BITS-1:0] clampv = {r1_s, {(KV_BITS - 2){~r1_s}}, 1'b1};
wire               mbit = zbit ^ sc;
generate
    if (BEAT > 1) begin : g_mshift
        always @(posedge clk) begin
            if (emit)
                m_data <= fix ? {clampv, m_data[MW-KV_BITS:1]} : {mbit, m_data[MW-1:1]};
        end
    end else begin : g_mone
        always @(posedge clk) begin
            if (emit)
                m_data <= fix ? clampv : {mbit, m_data[MW-1:1]};
        end
    end
endgenerate

// the exponent word: one exponent a word (NGB = 1) and KV_GROUP > 1: r1_e
// itself (it holds the group's exponent from its read-out through the
// write after the group's first element); else a register of NGB lanes
genvar gi;
generate
    if (NGB == 1 && KV_GROUP > 1) begin : g_eone
        assign m_edata = r1_e;
    end else begin : g_elanes
        reg [EW-1:0] edata;
        for (gi = 0; gi < NGB; gi = gi + 1) begin : g_elane
            localparam [NGW-1:0] EI = gi;
            always @(posedge clk) begin
                if (el_done && gfirst && elane == EI)
                    edata[gi*5 +: 5] <= r1_e;
            end
        end
        assign m_edata = edata;
    end
endgenerate

always @(posedge clk) begin
    if (el_done) begin
        lane <= lane_last ? {BW{1'b0}} : lane + 1'b1;
    end
    m_we <= el_done && row_ok && lane_last;
    m_ewe <= el_done && row_ok && gfirst && elane_last;
    if (rst) begin
        lane <= {BW{1'b0}};
        m_we <= 1'b0;
        m_ewe <= 1'b0;
    end
end

// the write address: loaded with the row, advanced after each word write
// (m_addr is the counter itself). WPR a power of two (and more than one
// word): the row's base is {row, 0}, so only the word index below it
// counts (it wraps at the row's end: rows are always complete) and the row
// part is just loaded.
generate
    if (WPR_P2 != 0 && WSH > 0 && WSH < MAW) begin : g_wa_split
        wire [MAW-1:WSH] wrow;
        reg [WSH-1:0]   wword;
        always @(posedge clk) begin
            if (m_we)
                wword <= wword + 1'b1;
            if (rst)
                wword <= {WSH{1'b0}};
        end
        if (SEQ_P2 != 0) begin : g_wrow_live
            // {layer, pos} is wiring: read live from the row's port (own),
            // which holds them until the row's done (no copy registers)
            wire [31:0] olayer32 = {{(32 - LW){1'b0}}, own ? s_v_layer : s_k_layer};
            wire [31:0] opos32 = {{(32 - PW){1'b0}}, own ? s_v_pos[PW-1:0] : s_k_pos[PW-1:0]};
            wire [31:0] obase32 = ((olayer32 << PW) | opos32) << WSH;
            assign wrow = obase32[MAW-1:WSH];
            wire unused_ob = &{1'b0, obase32[31:MAW], obase32[WSH-1:0], wbase32};
        end else begin : g_wrow_reg
            reg [MAW-1:WSH] wrow_r;
            always @(posedge clk) begin
                if (row_start)
                    wrow_r <= wbase32[MAW-1:WSH];
            end
            assign wrow = wrow_r;
            wire unused_wb = &{1'b0, wbase32[WSH-1:0]};
        end
        assign waddr = {wrow, wword};
    end else begin : g_wa_count
        reg [MAW-1:0] wcnt;
        always @(posedge clk) begin
            if (row_start)
                wcnt <= wbase32[MAW-1:0];
            else if (m_we)
                wcnt <= wcnt + 1'b1;
        end
        assign waddr = wcnt;
    end
endgenerate

assign m_addr = waddr;

generate
    if (EFROMM != 0) begin : g_ea_shift
        // the word being assembled when m_ewe rises is the group's first
        // element's: waddr / BPG is its exponent word
        assign m_eaddr = waddr[MAW-1:BSH];
        wire unused_eb = &{1'b0, ebase32};
    end else begin : g_ea_count
        reg [EAW-1:0] eaddr;
        always @(posedge clk) begin
            if (row_start)
                eaddr <= ebase32[EAW-1:0];
            else if (m_ewe)
                eaddr <= eaddr + 1'b1;
        end
        assign m_eaddr = eaddr;
        wire unused_eb = &{1'b0, ebase32[31:EAW]};
    end
endgenerate

// done: the cycle after the row's last word write was presented, i.e. when
// the RAM holds it
reg done_pre;
always @(posedge clk) begin
    done_pre <= el_done && rd_glast && meta_rlast;
    done <= done_pre;
    if (rst) begin
        done_pre <= 1'b0;
        done <= 1'b0;
    end
end

assign m_sel = own;
assign k_done = done && !own;
assign v_done = done && own;

// base addresses of a valid row fit MAW bits; y's sign bit is always 0
wire unused_ok = &{1'b0, wbase32[31:MAW], s_y[31], e_new[5]};

endmodule

`resetall
