`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: K/V cache write-side quantizer, Q16 rows -> KV words (template
 * rtl_templates/lg_kvquant.v, C twin lg_ref_kv_quant in src/ref_kvcache.c).
 * One instance per cache (K and V) inside lg_kvcache.
 *
 * Why: a cached element is stored as a KV_BITS mantissa with one 5-bit
 * exponent per KV_GROUP elements, and the exponent depends on the largest
 * magnitude of its group, so a group must be buffered whole before its
 * first element can be quantized. A two-half (ping-pong) group buffer lets
 * group g be quantized while group g+1 arrives: one element per cycle in,
 * one per cycle out, no stall.
 *
 * Numerics (bit-exact with the C twin), per group:
 *   maxabs = max |x|      (x = -2^31 gives 2^31)
 *   e = max(0, bitlen(maxabs) - (KV_BITS - 1))        leading-one detect
 *   m = clamp(round_shift(x, e), +-(2^(KV_BITS-1) - 1))
 * round_shift is round half up (floor(x / 2^e) + bit e-1 of x). No
 * multiplier, no divider.
 *
 * Storage layout (shared with lg_kvcache's read ports): row r = layer *
 * SEQ_LEN + pos. Mantissa word = BEAT consecutive elements of a row (lane i
 * = element i of the word, in bits [KV_BITS*i +: KV_BITS]), word address
 * r * (KV_DIM / BEAT) + element / BEAT. Exponent word = the exponents of
 * EGW = max(BEAT, KV_GROUP) consecutive elements (NGB = max(1, BEAT /
 * KV_GROUP) exponents, 5 bits each, lowest group in the low bits), address
 * r * (KV_DIM / EGW) + element / EGW.
 *
 * Parameters: KV_DIM (elements per row), KV_GROUP (divides KV_DIM), KV_BITS
 * (4..16), BEAT (mantissas per word: divides KV_DIM, and BEAT divides
 * KV_GROUP or KV_GROUP divides BEAT), LAYERS, SEQ_LEN.
 *
 * Handshake contract:
 *  - s_*: valid/ready, one Q16 element per transfer, KV_DIM per row, rows
 *    back to back. s_layer and s_pos are sampled with the first element of
 *    each row. s_ready is low only while the half the next element would
 *    go to is still being read out (never at full rate).
 *  - m_we/m_addr/m_data and m_ewe/m_eaddr/m_edata: registered write ports
 *    of the mantissa and exponent RAMs (the RAM writes at the next edge).
 *  - done: one-cycle pulse when the last word of a row has been written
 *    into the RAM (a read issued in the done cycle sees the new row).
 *  - err: one-cycle pulse in the cycle after the first element of a row
 *    whose s_layer >= LAYERS or s_pos >= SEQ_LEN was taken; such a row is
 *    consumed (the stream cannot hang), nothing is written, and done still
 *    pulses at its end.
 *
 * Latency and throughput: one element per cycle. A group's elements are
 * read back and quantized one per cycle from the cycle after its last
 * element's handshake (buffer read, round/clamp/pack into the write
 * register, RAM write). With the last element of a row handed over in cycle
 * c, done is high in cycle c + KV_GROUP + 3; a row whose first element is
 * handed over in cycle c0 is done in cycle c0 + KV_DIM + KV_GROUP + 2 when
 * it arrives without gaps. The next row's first element can be taken in the
 * cycle after the previous row's last.
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
     * Row input (Q16, KV_DIM elements per row)
     */
    input  wire                 s_valid,
    output wire                 s_ready,
    input  wire [31:0]          s_data,
    input  wire [LW-1:0]        s_layer,
    input  wire [31:0]          s_pos,

    /*
     * Mantissa RAM write port
     */
    output reg                  m_we,
    output reg  [MAW-1:0]       m_addr,
    output reg  [MW-1:0]        m_data,

    /*
     * Exponent RAM write port
     */
    output reg                  m_ewe,
    output reg  [EAW-1:0]       m_eaddr,
    output reg  [EW-1:0]        m_edata,

    /*
     * Status
     */
    output reg                  done,
    output reg                  err
);

// ---- derived sizes ------------------------------------------------------------

localparam integer LW = LAYERS > 1 ? $clog2(LAYERS) : 1;
// exponents per exponent word, elements covered by one exponent word
localparam integer NGB = BEAT > KV_GROUP ? BEAT / KV_GROUP : 1;
localparam integer EGW = BEAT > KV_GROUP ? BEAT : KV_GROUP;
// words per row (mantissa, exponent)
localparam integer WPR = KV_DIM / BEAT;
localparam integer EPR = KV_DIM / EGW;
localparam integer ROWS = LAYERS * SEQ_LEN;
localparam integer MAW = ROWS * WPR > 1 ? $clog2(ROWS * WPR) : 1;
localparam integer EAW = ROWS * EPR > 1 ? $clog2(ROWS * EPR) : 1;
localparam integer MW = BEAT * KV_BITS;
localparam integer EW = NGB * 5;
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
// largest mantissa magnitude, sign-extended to 32 bits for the clamp
localparam signed [31:0] MMAX = (32'sd1 <<< (KV_BITS - 1)) - 32'sd1;

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

// ---- input side: collect a group into one half of the buffer -------------------

// busy[h]: half h holds a complete group that is not yet fully read out
reg [1:0]    busy;
// half being filled, element index in the row and in the group
reg          wh;
reg [RW-1:0] in_idx;
reg [GW-1:0] in_gi;

assign s_ready = !busy[wh];
wire s_fire = s_valid && s_ready;
wire in_first = in_idx == {RW{1'b0}};
wire in_glast = in_gi == GRP_LAST;
wire in_rlast = in_idx == ROW_LAST;

always @(posedge clk) begin
    if (s_fire) begin
        in_idx <= in_rlast ? {RW{1'b0}} : in_idx + 1'b1;
        in_gi <= in_glast ? {GW{1'b0}} : in_gi + 1'b1;
        if (in_glast)
            wh <= !wh;
    end
    if (rst) begin
        in_idx <= {RW{1'b0}};
        in_gi <= {GW{1'b0}};
        wh <= 1'b0;
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

// running max |x| of the group (|-2^31| = 2^31 fits 32 unsigned bits)
wire [31:0] x_abs = s_data[31] ? 32'd0 - s_data : s_data;
reg  [31:0] maxabs;
wire [31:0] max_now = (in_gi == {GW{1'b0}} || x_abs > maxabs) ? x_abs : maxabs;

always @(posedge clk) begin
    if (s_fire)
        maxabs <= max_now;
end

// leading-one detect of the completed group's max by binary search (five
// 2:1 steps instead of a 32-deep priority chain): lead = index of the top
// set bit, bitlen = lead + 1 (0 for 0); e = max(0, bitlen - (KV_BITS - 1))
wire        lo_4 = |max_now[31:16];
wire [15:0] lo_x4 = lo_4 ? max_now[31:16] : max_now[15:0];
wire        lo_3 = |lo_x4[15:8];
wire [7:0]  lo_x3 = lo_3 ? lo_x4[15:8] : lo_x4[7:0];
wire        lo_2 = |lo_x3[7:4];
wire [3:0]  lo_x2 = lo_2 ? lo_x3[7:4] : lo_x3[3:0];
wire        lo_1 = |lo_x2[3:2];
wire [1:0]  lo_x1 = lo_1 ? lo_x2[3:2] : lo_x2[1:0];
wire [5:0]  bitlen = (max_now == 32'd0) ? 6'd0 : {1'b0, lo_4, lo_3, lo_2, lo_1, lo_x1[1]} + 6'd1;
localparam [5:0] KB_M1 = KV_BITS - 1;
wire [5:0] e_full = bitlen > KB_M1 ? bitlen - KB_M1 : 6'd0;

// Row checks and base addresses, from the first element's layer and pos. A
// bad row is consumed but never written.
// (32-bit arithmetic modulo 2^32: for a valid row the results fit MAW / EAW
// bits, and the low bits of a sum or product do not depend on the high ones)
localparam [31:0] SEQ32 = SEQ_LEN;
localparam [31:0] WPR32 = WPR;
localparam [31:0] EPR32 = EPR;
wire [31:0]    layer32 = {{(32 - LW){1'b0}}, s_layer};
wire           row_ok_now = (layer32 < LAYERS) && (s_pos < SEQ_LEN);
wire [31:0]    row32 = layer32 * SEQ32 + s_pos;
wire [31:0]    wbase32 = row32 * WPR32;
wire [31:0]    ebase32 = row32 * EPR32;
wire [MAW-1:0] wbase_now = wbase32[MAW-1:0];
wire [EAW-1:0] ebase_now = ebase32[EAW-1:0];

reg           row_ok;
reg [MAW-1:0] row_wbase;
reg [EAW-1:0] row_ebase;

always @(posedge clk) begin
    if (s_fire && in_first) begin
        row_ok <= row_ok_now;
        row_wbase <= wbase_now;
        row_ebase <= ebase_now;
    end
end

// Per-half group metadata, written when the group completes: its exponent,
// whether it opens / closes a row, the row's check and base addresses.
// (one register set per half, selected by plain muxes)
reg [4:0]       meta_e0, meta_e1;
reg [1:0]       meta_rfirst;
reg [1:0]       meta_rlast;
reg [1:0]       meta_ok;
reg [MAW-1:0]   meta_wbase0, meta_wbase1;
reg [EAW-1:0]   meta_ebase0, meta_ebase1;
// the group opens its row when its first element is the row's first; with
// KV_GROUP = 1 the row's first element completes the group in the same cycle
reg           grp_rfirst;

always @(posedge clk) begin
    if (s_fire && in_gi == {GW{1'b0}})
        grp_rfirst <= in_first;
end

wire cur_rfirst = in_gi == {GW{1'b0}} ? in_first : grp_rfirst;

wire           cur_ok = in_first ? row_ok_now : row_ok;
wire [MAW-1:0] cur_wbase = in_first ? wbase_now : row_wbase;
wire [EAW-1:0] cur_ebase = in_first ? ebase_now : row_ebase;

always @(posedge clk) begin
    if (s_fire && in_glast) begin
        if (wh) begin
            meta_e1 <= e_full[4:0];
            meta_rfirst[1] <= cur_rfirst;
            meta_rlast[1] <= in_rlast;
            meta_ok[1] <= cur_ok;
            meta_wbase1 <= cur_wbase;
            meta_ebase1 <= cur_ebase;
        end else begin
            meta_e0 <= e_full[4:0];
            meta_rfirst[0] <= cur_rfirst;
            meta_rlast[0] <= in_rlast;
            meta_ok[0] <= cur_ok;
            meta_wbase0 <= cur_wbase;
            meta_ebase0 <= cur_ebase;
        end
    end
end

// err: pulse with the first element of a bad row
always @(posedge clk) begin
    err <= s_fire && in_first && !row_ok_now;
    if (rst)
        err <= 1'b0;
end

// ---- read-out: one element per cycle from the completed half ----------------------

// half being read out and the element index within its group
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

// A half is busy from its group's completion to its last read. The writer
// only fills a half that is not busy and the reader only empties a busy one,
// so set and clear never meet on the same half.
always @(posedge clk) begin
    if (s_fire && in_glast)
        busy[wh] <= 1'b1;
    if (rd_go && rd_glast)
        busy[rh] <= 1'b0;
    if (rst)
        busy <= 2'b00;
end

// ---- stage 1: buffer read (registered: block/distributed RAM) --------------------

reg [31:0]    r1_x;
reg           r1_valid;
reg [4:0]     r1_e;
reg           r1_gfirst;
reg           r1_rfirst;
reg           r1_rlast;
reg           r1_ok;
reg [MAW-1:0] r1_wbase;
reg [EAW-1:0] r1_ebase;

always @(posedge clk) begin
    r1_x <= gbuf[rd_ptr];
    r1_e <= rh ? meta_e1 : meta_e0;
    r1_gfirst <= rd_gi == {GW{1'b0}};
    r1_rfirst <= meta_rfirst[rh] && rd_gi == {GW{1'b0}};
    r1_rlast <= meta_rlast[rh] && rd_glast;
    r1_ok <= meta_ok[rh];
    r1_wbase <= rh ? meta_wbase1 : meta_wbase0;
    r1_ebase <= rh ? meta_ebase1 : meta_ebase0;
end

always @(posedge clk) begin
    r1_valid <= rd_go;
    if (rst)
        r1_valid <= 1'b0;
end

// ---- stage 2: round half up by e, clamp, pack into words ------------------------

// floor(x / 2^e) + bit e-1 = (t >>> 1) + t[0] with t = x >>> (e - 1)
wire signed [31:0] r1_xs = r1_x;
wire signed [31:0] r1_t = r1_xs >>> (r1_e - 5'd1);
wire signed [31:0] r1_th = r1_t >>> 1;
wire signed [31:0] r1_rnd = (r1_e == 5'd0) ? r1_xs : r1_th + {31'd0, r1_t[0]};
wire signed [31:0] r1_q = (r1_rnd > MMAX) ? MMAX : (r1_rnd < -MMAX) ? -MMAX : r1_rnd;

// word lane and exponent lane of this element (rows always complete, so the
// counters wrap at row ends by themselves)
reg  [BW-1:0]  lane;
reg  [NGW-1:0] elane;
reg  [MAW-1:0] waddr;
reg  [EAW-1:0] eaddr;
reg  [MW-1:0]  pack;
reg  [EW-1:0]  epack;
wire           lane_last = lane == LANE_LAST;
wire           elane_last = elane == EL_LAST;
wire [MAW-1:0] waddr_cur = r1_rfirst ? r1_wbase : waddr;
wire [EAW-1:0] eaddr_cur = r1_rfirst ? r1_ebase : eaddr;
// the word and exponent word including this element's contribution
wire [MW-1:0]  word_now;
wire [EW-1:0]  eword_now;

genvar gi;
generate
    for (gi = 0; gi < BEAT; gi = gi + 1) begin : g_lane
        localparam [BW-1:0] LI = gi;
        assign word_now[gi*KV_BITS +: KV_BITS] =
            (lane == LI) ? r1_q[KV_BITS-1:0] : pack[gi*KV_BITS +: KV_BITS];
    end
    for (gi = 0; gi < NGB; gi = gi + 1) begin : g_elane
        localparam [NGW-1:0] EI = gi;
        assign eword_now[gi*5 +: 5] = (elane == EI) ? r1_e : epack[gi*5 +: 5];
    end
endgenerate

always @(posedge clk) begin
    if (r1_valid) begin
        pack <= word_now;
        lane <= lane_last ? {BW{1'b0}} : lane + 1'b1;
        waddr <= lane_last ? waddr_cur + 1'b1 : waddr_cur;
        // one exponent per group, taken with the group's first element
        if (r1_gfirst) begin
            epack <= eword_now;
            elane <= elane_last ? {NGW{1'b0}} : elane + 1'b1;
            eaddr <= elane_last ? eaddr_cur + 1'b1 : eaddr_cur;
        end
    end
    if (rst) begin
        lane <= {BW{1'b0}};
        elane <= {NGW{1'b0}};
    end
end

// RAM write ports (registered)
always @(posedge clk) begin
    m_we <= r1_valid && r1_ok && lane_last;
    m_addr <= waddr_cur;
    m_data <= word_now;
    m_ewe <= r1_valid && r1_ok && r1_gfirst && elane_last;
    m_eaddr <= eaddr_cur;
    m_edata <= eword_now;
    if (rst) begin
        m_we <= 1'b0;
        m_ewe <= 1'b0;
    end
end

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

// the clamped mantissa's upper bits are sign copies; e <= 33 - KV_BITS < 32;
// base addresses of a valid row fit MAW / EAW bits
// base addresses of a valid row fit MAW / EAW bits; the buffer address
// sums have a spare top bit when KV_GROUP = 1; the leading-one search's last
// step needs only the upper bit of its pair
wire unused_ok = &{1'b0, r1_q[31:KV_BITS], e_full[5], wbase32[31:MAW], ebase32[31:EAW],
                   wr_sum, rd_sum, lo_x1[0]};

endmodule

`resetall
