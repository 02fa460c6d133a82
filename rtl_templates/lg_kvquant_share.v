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
 * can reach (see Numerics).
 *
 * Numerics (bit-exact with the C twin), per group of KV_GROUP elements:
 *   maxabs = max |x|      (x = -2^31 gives 2^31)
 *   e = max(0, bitlen(maxabs) - (KV_BITS - 1))        leading-one detect
 *   m = clamp(round_shift(x, e), +-(2^(KV_BITS-1) - 1))
 * round_shift is round half up (floor(x / 2^e) + bit e-1 of x). bitlen of
 * the max equals bitlen of the OR of the magnitudes, so the group keeps a
 * running OR (no 32-bit compare) of a value with |x|'s bit length formed
 * without a negation (see x_mag). Every x of the group has |x| <
 * 2^(e + KV_BITS - 1), so for e > 0 t = x >>> (e - 1) lies in
 * [-2^KV_BITS, 2^KV_BITS) and only its low KV_BITS + 1 bits are formed;
 * (t >>> 1) + t[0] is then in [-2^(KV_BITS-1), 2^(KV_BITS-1)] and the
 * clamp only has to catch the two end values. For e = 0, |x| < 2^(KV_BITS-1)
 * needs no clamp. No multiplier, no divider.
 *
 * Storage layout: as lg_kvquant (row r = layer * SEQ_LEN + pos; mantissa
 * word r * (KV_DIM / BEAT) + element / BEAT, lane i in bits [KV_BITS*i +:
 * KV_BITS]; exponent word r * (KV_DIM / EGW) + element / EGW, EGW =
 * max(BEAT, KV_GROUP), NGB = max(1, BEAT / KV_GROUP) exponents a word,
 * lowest group in the low bits). When EGW / BEAT is a power of two the
 * exponent address is the mantissa address shifted (no exponent counter).
 *
 * Parameters: KV_DIM (elements per row), KV_GROUP (divides KV_DIM), KV_BITS
 * (4..16), BEAT (mantissas per word: divides KV_DIM, and BEAT divides
 * KV_GROUP or KV_GROUP divides BEAT), LAYERS, SEQ_LEN.
 *
 * Handshake contract:
 *  - s_k_* / s_v_*: valid/ready, one Q16 element per transfer, KV_DIM per
 *    row; s_*_layer / s_*_pos sampled with the first element of each row.
 *    Rows are taken whole and one at a time: a row's first element is
 *    taken only when the previous row is done (in its done cycle at the
 *    earliest). A grant register picks the port: it passes to the other
 *    port at each row's last element, and, between rows, to the other port
 *    when that one is valid and the granted one is not (one cycle). Ready
 *    depends on registers only. Within a row s_*_ready is low only while
 *    the buffer half the next element would go to is still being read out
 *    (never at one element per cycle).
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
 * Latency and throughput: one element per cycle within a row. With a
 * row's last element handed over in cycle c, its done is high in cycle
 * c + KV_GROUP + 3 (as lg_kvquant); a gapless row whose first element is
 * handed over in cycle c0 is done in cycle c0 + KV_DIM + KV_GROUP + 2, and
 * the next row (the other port's, when it is waiting) can start in that
 * cycle: a K row and a V row offered together take 2 (KV_DIM + KV_GROUP +
 * 2) cycles from the K row's first element to the V row's done.
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
    output reg  [EW-1:0]        m_edata,
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
// the rounding window: t = x >>> (e - 1) in KV_BITS + 1 bits
localparam integer TW = KV_BITS + 1;

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
// clamp bounds in the window width: +-(2^(KV_BITS-1) - 1) and the one value
// beyond each that rounding can reach
localparam [TW-1:0] T_MMAX = {2'b00, {(KV_BITS - 1){1'b1}}};
localparam [TW-1:0] T_MMIN = {2'b11, {(KV_BITS - 2){1'b0}}, 1'b1};
localparam [TW-1:0] T_POVF = {2'b01, {(KV_BITS - 1){1'b0}}};
localparam [TW-1:0] T_NOVF = {2'b11, {(KV_BITS - 1){1'b0}}};

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

// busy[h]: half h holds a complete group that is not yet fully read out
reg [1:0]    busy;
// half being filled, element index in the row and in the group
reg          wh;
reg [RW-1:0] in_idx;
reg [GW-1:0] in_gi;
// a row has been started and its done has not pulsed yet
reg          row_act;
// port granted (0 K, 1 V) and owner of the row in flight
reg          gnt;
reg          own;
reg          done;

wire in_first = in_idx == {RW{1'b0}};
wire in_glast = in_gi == GRP_LAST;
wire in_rlast = in_idx == ROW_LAST;
// the next element may go in: its half is free and, for a row's first
// element, the previous row is done
wire in_ok = !busy[wh] && (!in_first || !row_act || done);
wire s_valid = gnt ? s_v_valid : s_k_valid;
wire [31:0] s_data = gnt ? s_v_data : s_k_data;
wire [LW-1:0] s_layer = gnt ? s_v_layer : s_k_layer;
wire [31:0] s_pos = gnt ? s_v_pos : s_k_pos;
wire s_fire = s_valid && in_ok;
wire row_start = s_fire && in_first;

assign s_k_ready = in_ok && !gnt;
assign s_v_ready = in_ok && gnt;

always @(posedge clk) begin
    if (s_fire) begin
        in_idx <= in_rlast ? {RW{1'b0}} : in_idx + 1'b1;
        in_gi <= in_glast ? {GW{1'b0}} : in_gi + 1'b1;
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
        in_gi <= {GW{1'b0}};
        wh <= 1'b0;
        gnt <= 1'b0;
        own <= 1'b0;
        row_act <= 1'b0;
    end
end

// group buffer: two halves of KV_GROUP elements (element i of half h at
// h * KV_GROUP + i), written as elements arrive, read back one per cycle
reg [31:0] gbuf [0:2*KV_GROUP-1];
wire [GW:0]      wr_sum = (wh ? KG : {(GW + 1){1'b0}}) + {1'b0, in_gi};
wire [PTRW-1:0]  wr_ptr = wr_sum[PTRW-1:0];

always @(posedge clk) begin
    if (s_fire)
        gbuf[wr_ptr] <= s_data;
end

// running OR over the group of a value with the bit length of |x|: x for
// x >= 0; for x < 0, ~x = |x| - 1 has the same bit length unless |x| is a
// power of two (x = 1..10..0: every set bit has a set bit above it, up to
// bit 31), where ~x shifted up with a 1 below has |x|'s (no negation, no
// carry chain). The OR's bit length is that of the group's max |x|.
wire [31:0] x_inv = s_data ^ {32{s_data[31]}};
wire        x_p2 = s_data[31] && &(s_data[31:1] | ~s_data[30:0]);
wire [31:0] x_mag = x_p2 ? {x_inv[30:0], 1'b1} : x_inv;
reg  [31:0] orabs;
wire [31:0] or_now = in_gi == {GW{1'b0}} ? x_mag : orabs | x_mag;

always @(posedge clk) begin
    if (s_fire)
        orabs <= or_now;
end

// leading-one detect by binary search (five 2:1 steps): lead = index of the
// top set bit, bitlen = lead + 1 (0 for 0); e = max(0, bitlen - (KV_BITS - 1))
wire        lo_4 = |or_now[31:16];
wire [15:0] lo_x4 = lo_4 ? or_now[31:16] : or_now[15:0];
wire        lo_3 = |lo_x4[15:8];
wire [7:0]  lo_x3 = lo_3 ? lo_x4[15:8] : lo_x4[7:0];
wire        lo_2 = |lo_x3[7:4];
wire [3:0]  lo_x2 = lo_2 ? lo_x3[7:4] : lo_x3[3:0];
wire        lo_1 = |lo_x2[3:2];
wire [1:0]  lo_x1 = lo_1 ? lo_x2[3:2] : lo_x2[1:0];
wire [5:0]  bitlen = (or_now == 32'd0) ? 6'd0 : {1'b0, lo_4, lo_3, lo_2, lo_1, lo_x1[1]} + 6'd1;
localparam [5:0] KB_M1 = KV_BITS - 1;
wire [5:0] e_full = bitlen > KB_M1 ? bitlen - KB_M1 : 6'd0;

// Row check and base addresses from the first element's layer and pos (a
// bad row is consumed but never written). 32-bit arithmetic modulo 2^32:
// for a valid row the results fit MAW / EAW bits.
localparam [31:0] SEQ32 = SEQ_LEN;
localparam [31:0] WPR32 = WPR;
localparam [31:0] EPR32 = EPR;
localparam integer PW = SEQ_LEN > 1 ? $clog2(SEQ_LEN) : 1;
localparam [PW:0] SEQ_P = SEQ32[PW:0];
wire [31:0]    layer32 = {{(32 - LW){1'b0}}, s_layer};
// pos < SEQ_LEN as "no bit above PW" and a PW-bit compare (no 32-bit chain)
wire           pos_ok = s_pos[31:PW] == {(32 - PW){1'b0}} && {1'b0, s_pos[PW-1:0]} < SEQ_P;
wire           row_ok_now = (layer32 < LAYERS) && pos_ok;
wire [31:0]    row32 = layer32 * SEQ32 + s_pos;
wire [31:0]    wbase32 = row32 * WPR32;
wire [31:0]    ebase32 = row32 * EPR32;

// one row at a time: the row state is loaded with the first element and
// the write address counter runs from there (the previous row's last word
// was written before its done, so nothing else uses them meanwhile)
reg           row_ok;
reg [MAW-1:0] waddr;

always @(posedge clk) begin
    err <= row_start && !row_ok_now;
    if (row_start)
        row_ok <= row_ok_now;
    if (rst)
        err <= 1'b0;
end

// per-half group exponent and row-end flag, written when the group completes
reg [4:0] meta_e0, meta_e1;
reg [1:0] meta_rlast;

always @(posedge clk) begin
    if (s_fire && in_glast) begin
        if (wh)
            meta_e1 <= e_full[4:0];
        else
            meta_e0 <= e_full[4:0];
        meta_rlast[wh] <= in_rlast;
    end
end

// ---- read-out: one element per cycle from the completed half ----------------------

reg          rh;
reg [GW-1:0] rd_gi;
wire rd_go = busy[rh];
wire rd_glast = rd_gi == GRP_LAST;
wire [GW:0]      rd_sum = (rh ? KG : {(GW + 1){1'b0}}) + {1'b0, rd_gi};
wire [PTRW-1:0]  rd_ptr = rd_sum[PTRW-1:0];

always @(posedge clk) begin
    if (rd_go) begin
        rd_gi <= rd_glast ? {GW{1'b0}} : rd_gi + 1'b1;
        if (rd_glast)
            rh <= !rh;
    end
    if (rst) begin
        rd_gi <= {GW{1'b0}};
        rh <= 1'b0;
    end
end

// A half is busy from its group's completion to its last read; the writer
// only fills a free half and the reader only empties a busy one.
always @(posedge clk) begin
    if (s_fire && in_glast)
        busy[wh] <= 1'b1;
    if (rd_go && rd_glast)
        busy[rh] <= 1'b0;
    if (rst)
        busy <= 2'b00;
end

// ---- stage 1: buffer read (registered: block RAM) --------------------------------

reg [31:0] r1_x;
reg        r1_valid;
reg [4:0]  r1_e;
reg        r1_gfirst;
reg        r1_rlast;

always @(posedge clk) begin
    r1_x <= gbuf[rd_ptr];
    r1_e <= rh ? meta_e1 : meta_e0;
    r1_gfirst <= rd_gi == {GW{1'b0}};
    r1_rlast <= meta_rlast[rh] && rd_glast;
end

always @(posedge clk) begin
    r1_valid <= rd_go;
    if (rst)
        r1_valid <= 1'b0;
end

// ---- stage 2: round half up by e, clamp, pack straight into the write registers

// t = x >>> (e - 1) = {x, 0} >>> e, only its low TW bits (the rest are sign
// copies for e > 0): a log shifter whose stages keep only the bits the later
// stages can reach (the unused upper bits of each stage are trimmed by
// synthesis; a full 32-bit >>> costs about 30 LUTs more)
reg [TW+30:0] r1_sh;
always @* begin
    r1_sh = {{(TW - 2){r1_x[31]}}, r1_x, 1'b0};
    if (r1_e[4])
        r1_sh = {{16{r1_x[31]}}, r1_sh[TW+30:16]};
    if (r1_e[3])
        r1_sh = {{8{r1_x[31]}}, r1_sh[TW+30:8]};
    if (r1_e[2])
        r1_sh = {{4{r1_x[31]}}, r1_sh[TW+30:4]};
    if (r1_e[1])
        r1_sh = {{2{r1_x[31]}}, r1_sh[TW+30:2]};
    if (r1_e[0])
        r1_sh = {r1_x[31], r1_sh[TW+30:1]};
end
wire [TW-1:0]      r1_t = r1_sh[TW-1:0];
wire [TW-1:0]      r1_rnd = {r1_t[TW-1], r1_t[TW-1:1]} + {{(TW - 1){1'b0}}, r1_t[0]};
wire [TW-1:0]      r1_cl = r1_rnd == T_POVF ? T_MMAX : r1_rnd == T_NOVF ? T_MMIN : r1_rnd;
wire [KV_BITS-1:0] r1_q = r1_e == 5'd0 ? r1_x[KV_BITS-1:0] : r1_cl[KV_BITS-1:0];

// word lane and exponent lane of this element (rows always complete, so the
// counters wrap at row ends by themselves)
reg  [BW-1:0]  lane;
reg  [NGW-1:0] elane;
wire           lane_last = lane == LANE_LAST;
wire           elane_last = elane == EL_LAST;

genvar gi;
generate
    for (gi = 0; gi < BEAT; gi = gi + 1) begin : g_lane
        localparam [BW-1:0] LI = gi;
        always @(posedge clk) begin
            if (r1_valid && lane == LI)
                m_data[gi*KV_BITS +: KV_BITS] <= r1_q;
        end
    end
    for (gi = 0; gi < NGB; gi = gi + 1) begin : g_elane
        localparam [NGW-1:0] EI = gi;
        always @(posedge clk) begin
            if (r1_valid && r1_gfirst && elane == EI)
                m_edata[gi*5 +: 5] <= r1_e;
        end
    end
endgenerate

always @(posedge clk) begin
    if (r1_valid) begin
        lane <= lane_last ? {BW{1'b0}} : lane + 1'b1;
        // one exponent per group, taken with the group's first element
        if (r1_gfirst)
            elane <= elane_last ? {NGW{1'b0}} : elane + 1'b1;
    end
    m_we <= r1_valid && row_ok && lane_last;
    m_ewe <= r1_valid && row_ok && r1_gfirst && elane_last;
    if (rst) begin
        lane <= {BW{1'b0}};
        elane <= {NGW{1'b0}};
        m_we <= 1'b0;
        m_ewe <= 1'b0;
    end
end

// the write address: loaded with the row, advanced after each word write
// (m_addr is the counter itself)
always @(posedge clk) begin
    if (row_start)
        waddr <= wbase32[MAW-1:0];
    else if (m_we)
        waddr <= waddr + 1'b1;
end

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
    done_pre <= r1_valid && r1_rlast;
    done <= done_pre;
    if (rst) begin
        done_pre <= 1'b0;
        done <= 1'b0;
    end
end

assign m_sel = own;
assign k_done = done && !own;
assign v_done = done && own;

// e <= 33 - KV_BITS < 32; the window's upper bits (and the clamped value's
// sign copy) and the bits of x above KV_BITS are not needed; base addresses of a valid row fit MAW bits;
// the buffer address sums have a spare top bit when KV_GROUP = 1; the
// leading-one search's last step needs only the upper bit of its pair
wire unused_ok = &{1'b0, e_full[5], r1_sh[TW+30:TW], r1_cl[TW-1], r1_x[31:KV_BITS], wbase32[31:MAW],
                   wr_sum, rd_sum, lo_x1[0]};

endmodule

`resetall
