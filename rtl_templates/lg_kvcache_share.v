`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: the K/V cache of all layers, one write-side quantizer shared by
 * K and V (template rtl_templates/lg_kvcache_share.v, the --mul-share form of
 * rtl_templates/lg_kvcache.v; C twin lg_kvcache + lg_ref_kv_quant in
 * src/ref_kvcache.c). Same parameters, ports, storage and read side as
 * lg_kvcache; only the write side's throughput differs.
 *
 * Why: in the decoder a position's K row (Wk run, after RoPE) and V row (Wv
 * run) arrive one after the other, so one quantizer (${KVQ_MODULE}, with
 * both write ports) serves both caches and routes its RAM writes by row;
 * about half the write-side logic of lg_kvcache. When a word of the
 * exponent RAM covers a power of two of mantissa words, the read side
 * derives the exponent address from the mantissa address (no second
 * address counter). Single port, the exponents live in the mantissa banks'
 * spare words (below): no block RAM. When SEQ_LEN, KV_DIM / BEAT and
 * HEAD_SIZE / BEAT are powers of two (P2A) a mantissa address is {layer *
 * SEQ_LEN + pos, head, beat}: the request's base address is wiring and the
 * read counter a row counter above a beat counter, the range ending on a
 * row compare (no adder over the address, no row down-counter). The bank
 * write address and data are formed once for both caches. The read
 * stream's timing is lg_kvcache's exactly.
 *
 * Memories (one K set and one V set, each holding every layer: row r =
 * layer * SEQ_LEN + pos):
 *   mantissa RAM  LAYERS * SEQ_LEN * KV_DIM / BEAT words of BEAT * KV_BITS
 *                 bits; a word is BEAT consecutive elements of a row, so a
 *                 beat is one read (lane i in bits [KV_BITS*i +: KV_BITS])
 *   exponent RAM  LAYERS * SEQ_LEN * KV_DIM / EGW words of NGB * 5 bits,
 *                 EGW = max(BEAT, KV_GROUP), NGB = max(1, BEAT / KV_GROUP):
 *                 the exponents of the groups one beat touches (one word
 *                 serves KV_GROUP / BEAT beats when KV_GROUP > BEAT)
 * With KV_PORTS = 2 each RAM has one write port (the quantizer) and one
 * registered read port, the simple dual-port shape that maps to block RAM.
 * With KV_PORTS = 1 the RAMs are single port: one address, a write or a
 * read per cycle (`if (we) mem[a] <= d; else if (re) q <= mem[a];`), the
 * shape yosys maps to iCE40 SPRAM (16 bits x 16 k). When BEAT > 1, KV_GROUP
 * > 1, an exponent word fits a mantissa word (NGB * 5 <= BEAT * KV_BITS)
 * and the mantissa words are even in number (SPX), each cache is two banks
 * of 2^BAW words, BAW = clog2(MDEPTH / 2 + EDEPTH): mantissa word a in bank
 * a[0] at a >> 1, and a copy of every exponent word e in both banks at ~e
 * (the top words); a beat reads its mantissas from one bank and its
 * exponents from the other in the same cycle. When a group spans an even
 * power of two of beats (XONE: KV_GROUP / BEAT = 2, 4, ...), a group's
 * first beat has an even address: its exponent word is read from bank 1
 * with its mantissas from bank 0 and held for the group's later beats, so
 * the exponents live in bank 1 only and bank 0 has no exponent address;
 * there exponent word g = a >> log2(KV_GROUP / BEAT) sits at {c, g[XK-1:0],
 * d}, {c, d} = ~(g >> XK), d of log2(KV_GROUP / BEAT) - 1 bits: the middle
 * bits are the same address bits as the mantissa row a >> 1's, so only the
 * few others need a read/exponent mux (XK the largest that keeps every
 * exponent row above the mantissa rows; iCEBreaker: XK = 10, 4 of 14 bits;
 * bank 0 10,240, bank 1 10,240 + 5,120 of 16,384 words, one SPRAM a bank,
 * no EBR). Otherwise the mantissa RAM is
 * one single-port RAM and the exponent RAM stays simple dual port (EBR). A
 * cycle in which the quantizer writes a mantissa word of a cache (or, SPX,
 * an exponent word) issues no read on that cache's stream (the beat on the
 * output holds; the stream resumes the next cycle), so reads lose one cycle
 * per word written meanwhile: KV_DIM / BEAT (+ KV_DIM / EGW, SPX) per row,
 * and none in the decoder, whose K (V) reads wait for the row's K (V)
 * write.
 *
 * Parameters: LAYERS, SEQ_LEN, N_KV_HEADS, HEAD_SIZE (KV_DIM = N_KV_HEADS *
 * HEAD_SIZE), KV_BITS (4..16), KV_GROUP (divides HEAD_SIZE), BEAT (read
 * beat width: divides HEAD_SIZE, and BEAT divides KV_GROUP or KV_GROUP
 * divides BEAT; lg_attention's BEAT, computed by lg_attn_beat()), KV_PORTS
 * (1 or 2, above).
 *
 * Write ports s_k_* / s_v_* (one shared ${KVQ_MODULE}): valid/ready, one Q16
 * element per transfer, KV_DIM per row; s_*_layer / s_*_pos are read from
 * a row's first element until its *_done (the port holds them that long, as
 * the decoder's layer and position registers do: no copy registers when
 * SEQ_LEN and KV_DIM / BEAT are powers of two). Rows are taken whole, one
 * at a time, K and V in turn when both wait: a row's first element is
 * taken in the previous row's done cycle at the earliest (a port's ready
 * is low meanwhile), then one element per cycle, except in the cycle after
 * a group's last and, for a group's last element, until the previous
 * group's bit-serial exponent pass and read-out (R = (KV_BITS + 37) *
 * KV_GROUP cycles) has ended. *_done pulses when the row is in the RAM: in
 * cycle c + R + 3 for a last element handed over in cycle c (a row offered
 * without gaps, NG = KV_DIM / KV_GROUP groups: (KV_GROUP - 1) + (NG - 1)
 * (R + 2) + R + 3 cycles after its first handshake; a K row and a V row
 * offered together: the V row is done twice that after the K row's first
 * handshake, lg_kvcache_pair_cycles; see ${KVQ_MODULE}'s header). A row
 * with pos >= SEQ_LEN or layer >= LAYERS is consumed without writing
 * anything (no corruption), sets err, and still pulses *_done.
 *
 * Read ports (K and V independent): a request (s_*req: valid/ready; layer,
 * kv head, rows first..last inclusive) streams rows first..last of that
 * head, HEAD_SIZE / BEAT beats per row in element order, on m_k_* / m_v_*:
 * valid/ready, mantissas, the beat's exponent(s) (aligned with the
 * mantissas: both RAMs are read in the same cycle), and last on the final
 * beat of the request. One beat per cycle; the first beat is valid 3 cycles
 * after the cycle of the request handshake (address load, start, RAM read).
 * A port takes a request only when idle: s_*req_ready is low from a
 * request's handshake until its last beat has been read from the RAM (the
 * cycle that read issues is the last one low; unlike lg_kvcache there is
 * no pending slot, so a request offered while one streams waits for it and
 * its first beat comes 3 cycles after its own handshake; the decoder's
 * attention asks for a head's rows only after the previous head's streams
 * ended). The request's fields are read from its handshake until
 * s_*req_ready rises again (P2A: the layer, head and last row are not
 * copied; the requester holds them that long and offers no other request
 * meanwhile, as the decoder's attention does: its fields are its layer,
 * position and head registers). s_*req_ready depends on registers only.
 * A request with layer >= LAYERS, head >= N_KV_HEADS, last >= SEQ_LEN or
 * first > last is dropped (no beats) and sets err. Reading a row before its write's done gives the
 * old row.
 *
 * err: sticky, cleared by rst.
 */
module ${MODULE} #(
    // decoder layers
    parameter LAYERS = ${LAYERS},
    // positions per layer
    parameter SEQ_LEN = ${SEQ_LEN},
    // K/V heads per row
    parameter N_KV_HEADS = ${N_KV_HEADS},
    // elements per head
    parameter HEAD_SIZE = ${HEAD_SIZE},
    // mantissa width in bits (4..16)
    parameter KV_BITS = ${KV_BITS},
    // elements sharing one exponent (divides HEAD_SIZE)
    parameter KV_GROUP = ${KV_GROUP},
    // mantissas per read beat and RAM word
    parameter BEAT = ${BEAT},
    // mantissa RAM ports: 2 simple dual port, 1 single port (SPRAM form)
    parameter KV_PORTS = ${KV_PORTS}
) (
    input  wire                 clk,
    input  wire                 rst,

    /*
     * K row write (Q16 after RoPE, KV_DIM per row)
     */
    input  wire                 s_k_valid,
    output wire                 s_k_ready,
    input  wire [31:0]          s_k_data,
    input  wire [LW-1:0]        s_k_layer,
    input  wire [31:0]          s_k_pos,

    /*
     * V row write (Q16, KV_DIM per row)
     */
    input  wire                 s_v_valid,
    output wire                 s_v_ready,
    input  wire [31:0]          s_v_data,
    input  wire [LW-1:0]        s_v_layer,
    input  wire [31:0]          s_v_pos,

    /*
     * K read request: rows first..last of one kv head of one layer
     */
    input  wire                 s_kreq_valid,
    output wire                 s_kreq_ready,
    input  wire [LW-1:0]        s_kreq_layer,
    input  wire [HW-1:0]        s_kreq_head,
    input  wire [PW-1:0]        s_kreq_first,
    input  wire [PW-1:0]        s_kreq_last,

    /*
     * V read request
     */
    input  wire                 s_vreq_valid,
    output wire                 s_vreq_ready,
    input  wire [LW-1:0]        s_vreq_layer,
    input  wire [HW-1:0]        s_vreq_head,
    input  wire [PW-1:0]        s_vreq_first,
    input  wire [PW-1:0]        s_vreq_last,

    /*
     * K read stream: BEAT mantissas and their exponent(s) per beat
     */
    output wire                 m_k_valid,
    input  wire                 m_k_ready,
    output wire [MW-1:0]        m_k_mant,
    output wire [EW-1:0]        m_k_exp,
    output wire                 m_k_last,

    /*
     * V read stream
     */
    output wire                 m_v_valid,
    input  wire                 m_v_ready,
    output wire [MW-1:0]        m_v_mant,
    output wire [EW-1:0]        m_v_exp,
    output wire                 m_v_last,

    /*
     * Status
     */
    output wire                 k_done,
    output wire                 v_done,
    output reg                  err
);

// ---- derived sizes ------------------------------------------------------------

localparam integer KV_DIM = N_KV_HEADS * HEAD_SIZE;
localparam integer LW = LAYERS > 1 ? $clog2(LAYERS) : 1;
localparam integer HW = N_KV_HEADS > 1 ? $clog2(N_KV_HEADS) : 1;
localparam integer PW = SEQ_LEN > 1 ? $clog2(SEQ_LEN) : 1;
localparam integer NGB = BEAT > KV_GROUP ? BEAT / KV_GROUP : 1;
localparam integer EGW = BEAT > KV_GROUP ? BEAT : KV_GROUP;
localparam integer MW = BEAT * KV_BITS;
localparam integer EW = NGB * 5;
// words per row and per head row (mantissa, exponent); beats per exp word
localparam integer WPR = KV_DIM / BEAT;
localparam integer EPR = KV_DIM / EGW;
localparam integer HB = HEAD_SIZE / BEAT;
localparam integer HE = HEAD_SIZE / EGW;
localparam integer BPG = EGW / BEAT;
localparam integer ROWS = LAYERS * SEQ_LEN;
localparam integer MDEPTH = ROWS * WPR;
localparam integer EDEPTH = ROWS * EPR;
localparam integer MAW = MDEPTH > 1 ? $clog2(MDEPTH) : 1;
localparam integer EAW = EDEPTH > 1 ? $clog2(EDEPTH) : 1;
localparam integer HBW = HB > 1 ? $clog2(HB) : 1;
localparam integer BPW = BPG > 1 ? $clog2(BPG) : 1;
// exponent address = mantissa address >> BSH when BPG is a power of two
localparam integer BSH = BPG > 1 ? $clog2(BPG) : 0;
localparam integer EFROMM = ((1 << BSH) == BPG && MAW - BSH == EAW) ? 1 : 0;
// single port with the exponents in the mantissa banks (see g_spx): two
// banks of 2^BAW words, MDEPTH / 2 mantissa words and EDEPTH exponent words
// (at least two a bank: the bank address is the mantissa address's
// [MAW-1:1], which a 2-word cache would select backwards)
localparam integer SPX = (KV_PORTS == 1 && MW >= EW && MDEPTH % 2 == 0 && MDEPTH >= 4 &&
                          BEAT > 1 && KV_GROUP > 1) ? 1 : 0;
localparam integer BAW = $clog2(MDEPTH / 2 + EDEPTH);

localparam [31:0] HB_M1 = HB - 1;
localparam [31:0] BPG_M1 = BPG - 1;
localparam [31:0] ROW_STEP = WPR - HB + 1;
localparam [31:0] EROW_STEP = EPR - HE + 1;
localparam [HBW-1:0] BEAT_LAST = HB_M1[HBW-1:0];
localparam [BPW-1:0] BSUB_LAST = BPG_M1[BPW-1:0];
localparam [MAW-1:0] ROW_STEP_A = ROW_STEP[MAW-1:0];
localparam [31:0] ONE32 = 1;
localparam [MAW-1:0] ONE_A = ONE32[MAW-1:0];
localparam [EAW-1:0] EROW_STEP_A = EROW_STEP[EAW-1:0];
localparam [31:0] SEQ32 = SEQ_LEN;
localparam [31:0] WPR32 = WPR;
localparam [31:0] EPR32 = EPR;
localparam [31:0] HB32 = HB;
localparam [31:0] HE32 = HE;
// power-of-two shapes (P2A: SEQ_LEN, WPR and HB powers of two, WPR > 1):
// a mantissa address is {layer * SEQ_LEN + pos, head, beat}, the request's
// base address is wiring, and the read counter is a row counter above a
// beat counter (no adder over the whole address, the range ends at the row
// compare instead of a row down-counter)
localparam integer WSH = WPR > 1 ? $clog2(WPR) : 0;
localparam integer HSH = HB > 1 ? $clog2(HB) : 0;
localparam integer SEQ_P2 = (1 << PW) == SEQ_LEN ? 1 : 0;
localparam integer P2A = (SEQ_P2 != 0 && (1 << WSH) == WPR && (1 << HSH) == HB && WSH > 0 &&
                          MAW - WSH >= PW) ? 1 : 0;
localparam [31:0] BMASK32 = HB - 1;
// SPX with an even power-of-two number of beats a group: a group's first
// beat has an even address (its mantissas in bank 0), so its exponent word
// is read from bank 1 in the same cycle and held for the group's other
// beats; the exponents live in bank 1 only (bank 0 reads mantissas only)
localparam integer XONE = (SPX != 0 && EFROMM != 0 && BSH > 0) ? 1 : 0;
// P2A with two or more beats a head row: the output beat's bank and
// group-first flag follow from the read address (see g_spx)
localparam integer ODER = (P2A != 0 && HSH > 0) ? 1 : 0;
// XONE: exponent word g = addr >> BSH sits in bank 1 at row {c, g[XK-1:0], d}
// with {c, d} = ~(g >> XK) (BAW - XK bits, d its XD = BSH - 1 low bits):
// its bits [XK+XD-1:XD] are addr[XK+BSH-1:BSH], the same address bits as the
// mantissa row addr >> 1 there, so those bits of bank 1's read address and
// of the shared write address need no mux. XK is the largest for which the
// lowest exponent row stays above the mantissa rows (XK = 0: row ~g, the
// layout of the other SPX shapes).
localparam integer XD = XONE != 0 ? BSH - 1 : 0;
function integer xk_fit(input integer dummy);
    integer k, tmin, lowrow;
    begin
        xk_fit = 0;
        for (k = 1; k <= EAW && k < BAW - XD; k = k + 1) begin
            // lowest slot used: 2^(BAW - k) - 1 - ((EDEPTH - 1) >> k)
            tmin = (1 << (BAW - k)) - 1 - ((EDEPTH - 1) >> k);
            lowrow = ((tmin >> XD) << (k + XD)) + (tmin & ((1 << XD) - 1));
            if (tmin >= 0 && lowrow >= MDEPTH / 2 && dummy == 0)
                xk_fit = k;
        end
    end
endfunction
localparam integer XK = XONE != 0 ? xk_fit(0) : 0;
localparam [31:0] XLO_M = (32'd1 << XK) - 32'd1;
localparam [31:0] XD_M = (32'd1 << XD) - 32'd1;
// the bank row of exponent word g (modulo 2^32: BAW bits are used)
function [31:0] erow(input [31:0] g);
    reg [31:0] t;
    begin
        t = ~(g >> XK);
        erow = ((t >> XD) << (XK + XD)) | ((g & XLO_M) << XD) | (t & XD_M);
    end
endfunction

// bad parameter combinations are rejected at elaboration
initial begin
    if (HEAD_SIZE < 1 || KV_GROUP < 1 || HEAD_SIZE % KV_GROUP != 0 || BEAT < 1 ||
        HEAD_SIZE % BEAT != 0 || (KV_GROUP % BEAT != 0 && BEAT % KV_GROUP != 0)) begin
        $error("Error: KV_GROUP and BEAT must divide HEAD_SIZE and one another (instance %m)");
        $finish;
    end
    if (KV_PORTS != 1 && KV_PORTS != 2) begin
        $error("Error: KV_PORTS must be 1 or 2 (instance %m)");
        $finish;
    end
    if (LAYERS < 1 || SEQ_LEN < 1 || N_KV_HEADS < 1) begin
        $error("Error: LAYERS, SEQ_LEN and N_KV_HEADS must be >= 1 (instance %m)");
        $finish;
    end
end

// ---- the two caches, K (index 0) and V (index 1) -----------------------------------

wire [1:0]      wr_done;
wire            wr_err;

wire [1:0]      rq_valid = {s_vreq_valid, s_kreq_valid};
wire [2*LW-1:0] rq_layer = {s_vreq_layer, s_kreq_layer};
wire [2*HW-1:0] rq_head = {s_vreq_head, s_kreq_head};
wire [2*PW-1:0] rq_first = {s_vreq_first, s_kreq_first};
wire [2*PW-1:0] rq_last = {s_vreq_last, s_kreq_last};
wire [1:0]      rq_ready;
wire [1:0]      rq_err;

wire [1:0]      rd_valid;
wire [1:0]      rd_ready = {m_v_ready, m_k_ready};
wire [2*MW-1:0] rd_mant;
wire [2*EW-1:0] rd_exp;
wire [1:0]      rd_last;

assign k_done = wr_done[0];
assign v_done = wr_done[1];
assign s_kreq_ready = rq_ready[0];
assign s_vreq_ready = rq_ready[1];
assign m_k_valid = rd_valid[0];
assign m_k_mant = rd_mant[0 +: MW];
assign m_k_exp = rd_exp[0 +: EW];
assign m_k_last = rd_last[0];
assign m_v_valid = rd_valid[1];
assign m_v_mant = rd_mant[MW +: MW];
assign m_v_exp = rd_exp[EW +: EW];
assign m_v_last = rd_last[1];

// ---- write side: the shared quantizer, its RAM writes routed by m_sel ---------------

// (public_flat_rd: the decoder co-simulation, sim/tb_decoder.cpp, records
// every RAM write from these and compares the caches' contents with the C
// model's; no effect on other tools)
wire           q_we_any /*verilator public_flat_rd*/;
wire [MAW-1:0] q_addr /*verilator public_flat_rd*/;
wire [MW-1:0]  q_data /*verilator public_flat_rd*/;
wire           q_ewe_any /*verilator public_flat_rd*/;
wire [EAW-1:0] q_eaddr /*verilator public_flat_rd*/;
wire [EW-1:0]  q_edata /*verilator public_flat_rd*/;
wire           q_sel /*verilator public_flat_rd*/;

${KVQ_MODULE} #(
    .KV_DIM(KV_DIM),
    .KV_GROUP(KV_GROUP),
    .KV_BITS(KV_BITS),
    .BEAT(BEAT),
    .LAYERS(LAYERS),
    .SEQ_LEN(SEQ_LEN)
) u_quant (
    .clk(clk),
    .rst(rst),
    .s_k_valid(s_k_valid),
    .s_k_ready(s_k_ready),
    .s_k_data(s_k_data),
    .s_k_layer(s_k_layer),
    .s_k_pos(s_k_pos),
    .s_v_valid(s_v_valid),
    .s_v_ready(s_v_ready),
    .s_v_data(s_v_data),
    .s_v_layer(s_v_layer),
    .s_v_pos(s_v_pos),
    .m_we(q_we_any),
    .m_addr(q_addr),
    .m_data(q_data),
    .m_ewe(q_ewe_any),
    .m_eaddr(q_eaddr),
    .m_edata(q_edata),
    .m_sel(q_sel),
    .k_done(wr_done[0]),
    .v_done(wr_done[1]),
    .err(wr_err)
);

// SPX: the bank write address and data, one copy for both caches (a cache
// uses them only in its own write cycles). An exponent word's bits above EW
// are never read back, so they carry the mantissa word's (no mux there).
localparam integer SBW = SPX != 0 ? BAW : 1;
wire [MW-1:0]  sp_wdata;
wire [SBW-1:0] sp_waddr;

generate
    if (SPX != 0) begin : g_spw
        wire [31:0] wm32 = {{(33 - MAW){1'b0}}, q_addr[MAW-1:1]};
        wire [31:0] we32 = erow({{(32 - EAW){1'b0}}, q_eaddr});
        assign sp_waddr = q_ewe_any ? we32[SBW-1:0] : wm32[SBW-1:0];
        if (MW > EW) begin : g_wide
            assign sp_wdata = {q_data[MW-1:EW], q_ewe_any ? q_edata : q_data[EW-1:0]};
        end else begin : g_eq
            assign sp_wdata = q_ewe_any ? q_edata : q_data;
        end
        // the address halves fit BAW bits
        wire unused_spw = &{1'b0, wm32[31:SBW], we32[31:SBW]};
    end else begin : g_nspw
        assign sp_waddr = 1'b0;
        assign sp_wdata = q_data;
        wire unused_spw = &{1'b0, sp_waddr, sp_wdata};
    end
endgenerate

genvar kd;
generate
    for (kd = 0; kd < 2; kd = kd + 1) begin : g_cache

        // this cache's share of the quantizer's writes
        localparam [0:0] KD = kd;
        wire q_we = q_we_any && q_sel == KD;
        wire q_ewe = q_ewe_any && q_sel == KD;

        // ---- read request: checked, base addresses computed

        wire [LW-1:0] r_layer = rq_layer[LW*kd +: LW];
        wire [HW-1:0] r_head = rq_head[HW*kd +: HW];
        wire [PW-1:0] r_first = rq_first[PW*kd +: PW];
        wire [PW-1:0] r_last = rq_last[PW*kd +: PW];
        wire [31:0]   r_layer32 = {{(32 - LW){1'b0}}, r_layer};
        wire [31:0]   r_head32 = {{(32 - HW){1'b0}}, r_head};
        wire [31:0]   r_first32 = {{(32 - PW){1'b0}}, r_first};
        wire [31:0]   r_last32 = {{(32 - PW){1'b0}}, r_last};
        // first <= last as a ripple over the bits in plain logic (about one
        // LUT a bit: a carry-chain compare needs an inverter LUT a bit too)
        reg           r_le;
        integer       ci;
        always @* begin
            r_le = 1'b1;
            for (ci = 0; ci < PW; ci = ci + 1)
                r_le = (r_first[ci] == r_last[ci]) ? r_le : r_last[ci];
        end
        wire          r_ok = r_layer32 < LAYERS && r_head32 < N_KV_HEADS &&
                             r_last32 < SEQ_LEN && r_le;
        // row of the first beat, its mantissa and exponent word addresses
        // (modulo 2^32; a valid request's addresses fit MAW / EAW bits)
        wire [31:0]   r_row32 = SEQ_P2 != 0 ? (r_layer32 << PW) | r_first32
                                              : r_layer32 * SEQ32 + r_first32;
        wire [31:0]   r_addr32 = P2A != 0 ? (r_row32 << WSH) | (r_head32 << HSH)
                                          : r_row32 * WPR32 + r_head32 * HB32;

        // No pending slot: a request is taken only by an idle port and loads
        // the address registers directly (rq_ld), act rising with it; pd_v
        // marks the cycle after, which issues no read (the stream starts the
        // cycle after that: the first beat is valid 3 cycles after the
        // handshake, as with a pending slot)
        reg           pd_v;
        reg           act;

        assign rq_ready[kd] = !act;
        wire rq_fire = rq_valid[kd] && !act;
        wire rq_ld = rq_fire && r_ok;
        assign rq_err[kd] = rq_fire && !r_ok;

        // ---- active stream: address generation ----------------------------------

        wire [MAW-1:0] addr;
        wire [EAW-1:0] eaddr;
        wire [HBW-1:0] beat;  // the beat within the head row
        reg           o_valid;

        // a read is issued when the output register is free or being taken
        // (and, single port, when the quantizer is not writing a mantissa word,
        // nor, exponents in the SPRAM banks, an exponent word)
        wire port_free = (KV_PORTS == 2) || !(q_we || (SPX != 0 && q_ewe));
        // act rises with the handshake (rq_ld), reads start the cycle after
        // pd_v (pd_v implies act)
        wire run = act && !pd_v;
        wire issue = run && (!o_valid || rd_ready[kd]) && port_free;
        wire beat_last = beat == BEAT_LAST;
        wire range_end;

        always @(posedge clk) begin
            pd_v <= rq_ld;
            if (rst)
                pd_v <= 1'b0;
        end

        if (P2A != 0) begin : g_ag_p2
            // {layer, row, head, beat}: only the row and the beat count (a
            // row counter above a beat counter, the beat bits wrapping by
            // themselves); the layer and head bits and the last row are the
            // request's own fields, read live (the port holds them until its
            // ready rises again, see the header: no copy registers); the
            // range ends on the last row's last beat
            localparam [31:0] LIVE_M = ~((((32'd1 << PW) - 32'd1) << WSH) | BMASK32);
            reg [PW-1:0]  rrow;
            reg [HBW-1:0] rbeat;

            always @(posedge clk) begin
                if (rq_ld) begin
                    rrow <= r_first;
                    rbeat <= {HBW{1'b0}};
                end else if (issue) begin
                    // + beat_last rather than + 1 under it: with a constant
                    // yosys drops the carry chain's first carry, and the
                    // chain then needs a feed-in cell of its own
                    rrow <= rrow + {{(PW-1){1'b0}}, beat_last};
                    rbeat <= rbeat + 1'b1;
                end
            end

            if (HSH > 0) begin : g_beat
                assign beat = rbeat;
            end else begin : g_beat1
                assign beat = 1'b0;
                wire unused_rbeat = &{1'b0, rbeat};
            end
            wire [31:0] a32 = (r_addr32 & LIVE_M) | ({{(32 - PW){1'b0}}, rrow} << WSH) |
                              {{(32 - HBW){1'b0}}, beat};
            assign addr = a32[MAW-1:0];
            assign range_end = rrow == r_last && beat_last;
            wire unused_a32 = &{1'b0, a32[31:MAW]};
        end else begin : g_ag_add
            reg [HBW-1:0] beat_r;
            always @(posedge clk) begin
                if (rq_ld)
                    beat_r <= {HBW{1'b0}};
                else if (issue)
                    beat_r <= beat_last ? {HBW{1'b0}} : beat_r + 1'b1;
            end
            assign beat = beat_r;

            reg [MAW-1:0] acnt;
            // last - first: the rows after the first
            wire [PW-1:0] r_span = r_last - r_first;
            reg [PW-1:0]  rows_left;

            always @(posedge clk) begin
                if (rq_ld) begin
                    acnt <= r_addr32[MAW-1:0];
                    rows_left <= r_span;
                end else if (issue) begin
                    // one adder: the next beat, or the next row of the same head
                    acnt <= acnt + (beat_last ? ROW_STEP_A : ONE_A);
                    if (beat_last)
                        rows_left <= rows_left - 1'b1;
                end
            end

            assign addr = acnt;
            assign range_end = rows_left == {PW{1'b0}} && beat_last;
        end

        // the exponent word of the beat at addr: addr / BPG when BPG is a
        // power of two, else a second counter (as lg_kvcache)
        if (EFROMM != 0) begin : g_ea_shift
            assign eaddr = addr[MAW-1:BSH];
        end else begin : g_ea_count
            wire [31:0]   r_eaddr32 = r_row32 * EPR32 + r_head32 * HE32;
            reg [EAW-1:0] ecnt;
            reg [BPW-1:0] bsub;

            always @(posedge clk) begin
                if (rq_ld) begin
                    ecnt <= r_eaddr32[EAW-1:0];
                    bsub <= {BPW{1'b0}};
                end else if (issue) begin
                    if (beat == BEAT_LAST) begin
                        bsub <= {BPW{1'b0}};
                        ecnt <= ecnt + EROW_STEP_A;
                    end else if (bsub == BSUB_LAST) begin
                        bsub <= {BPW{1'b0}};
                        ecnt <= ecnt + 1'b1;
                    end else begin
                        bsub <= bsub + 1'b1;
                    end
                end
            end

            assign eaddr = ecnt;
            // for a valid request the address fits EAW bits
            wire unused_ea = &{1'b0, r_eaddr32[31:EAW]};
        end

        always @(posedge clk) begin
            if (rq_ld)
                act <= 1'b1;
            else if (issue && range_end)
                act <= 1'b0;
            if (rst)
                act <= 1'b0;
        end

        // ---- the RAMs; read data: the RAM output registers are the stream registers
        // They hold while the stream is stalled (no read is issued then), so the
        // mantissas and the exponent word stay aligned.

        wire [MW-1:0] o_mant;
        wire [EW-1:0] o_exp;
        reg           o_last;

        always @(posedge clk) begin
            if (issue)
                o_last <= range_end;
        end

        if (SPX != 0) begin : g_spx
            // Two single-port banks (one SPRAM each at the iCEBreaker shape):
            // mantissa word a in bank a[0] at a >> 1, and a copy of every
            // exponent word e in both banks at the complemented address ~e
            // (the top EDEPTH words; XONE: in bank 1 only, at erow(e), the
            // complement of e's bits above XK around its low XK bits). A beat reads
            // its mantissa word from one bank and its exponent word from the
            // other in the same cycle (XONE: a group's first beat only); an
            // exponent write goes to both banks (XONE: bank 1), a mantissa
            // write to one (never in the same cycle: BEAT > 1, KV_GROUP > 1).
            reg  [MW-1:0]  bank0 [0:(1 << BAW)-1];
            reg  [MW-1:0]  bank1 [0:(1 << BAW)-1];
            reg  [MW-1:0]  bq0, bq1;
            wire           o_sel;
            wire [31:0]    rm32 = {{(33 - MAW){1'b0}}, addr[MAW-1:1]};
            wire [31:0]    re32 = erow({{(32 - EAW){1'b0}}, eaddr});
            wire [MW-1:0]  wdata = sp_wdata;
            wire [BAW-1:0] waddr_b = sp_waddr[BAW-1:0];
            // XONE: the exponents in bank 1 only, bank 0 reads mantissas only
            wire           we0 = (XONE == 0 && q_ewe) || (q_we && !q_addr[0]);
            wire           we1 = q_ewe || (q_we && q_addr[0]);
            // bank b holds the beat's mantissas when addr[0] == b, else its exponents
            wire [BAW-1:0] a0 = we0 ? waddr_b : (XONE == 0 && addr[0]) ? re32[BAW-1:0]
                                                                        : rm32[BAW-1:0];
            wire [BAW-1:0] a1 = we1 ? waddr_b : addr[0] ? rm32[BAW-1:0] : re32[BAW-1:0];

            always @(posedge clk) begin
                if (we0)
                    bank0[a0] <= wdata;
                else if (issue)
                    bq0 <= bank0[a0];
            end

            always @(posedge clk) begin
                if (we1)
                    bank1[a1] <= wdata;
                else if (issue)
                    bq1 <= bank1[a1];
            end

            // the bank of the beat on the output (addr[0] of the latest read).
            // P2A with two or more beats a head row: every read steps addr[0]
            // (the beat counter's low bit), a request starts on an even beat
            // and ends on an odd one (so a load after the last read keeps
            // addr[0] = 0): the latest read's addr[0] is ~addr[0], no register
            if (ODER != 0) begin : g_osel_d
                assign o_sel = !addr[0];
            end else begin : g_osel_r
                reg o_sel_r;
                always @(posedge clk) begin
                    if (issue)
                        o_sel_r <= addr[0];
                end
                assign o_sel = o_sel_r;
            end

            assign o_mant = o_sel ? bq1 : bq0;
            wire [MW-1:0] bqe;
            if (XONE != 0) begin : g_xone
                // the beat on the output is its group's first (its exponent
                // word in bq1) or a later one (the word held from the first:
                // taken when the next beat's read replaces bq1)
                wire         o_gf;
                reg [EW-1:0] ehold;
                if (ODER != 0) begin : g_ogf_d
                    // as o_sel: the latest read was a group's first beat
                    // exactly when addr's beat-in-group bits are now 1 (a
                    // load sets them to 0, after a group's last beat)
                    localparam [BSH-1:0] GF_NEXT = 1;
                    assign o_gf = addr[BSH-1:0] == GF_NEXT;
                end else begin : g_ogf_r
                    reg o_gf_r;
                    always @(posedge clk) begin
                        if (issue)
                            o_gf_r <= addr[BSH-1:0] == {BSH{1'b0}};
                    end
                    assign o_gf = o_gf_r;
                end
                always @(posedge clk) begin
                    if (issue && o_gf)
                        ehold <= bq1[EW-1:0];
                end
                assign bqe = o_gf ? bq1 : {{(MW - EW){1'b0}}, ehold};
            end else begin : g_xtwo
                assign bqe = o_sel ? bq0 : bq1;
            end
            assign o_exp = bqe[EW-1:0];
            // the address halves fit BAW bits; exponent words use EW of MW bits
            wire unused_spx = &{1'b0, rm32[31:BAW], re32[31:BAW], bqe[MW-1:EW]};
        end else begin : g_ebr_exp
            reg [MW-1:0] mant [0:MDEPTH-1];
            reg [EW-1:0] expo [0:EDEPTH-1];
            reg [MW-1:0] om;
            reg [EW-1:0] oe;

            always @(posedge clk) begin
                if (q_ewe)
                    expo[q_eaddr] <= q_edata;
            end

            if (KV_PORTS == 1) begin : g_sp
                // one address: the write's, else the read's
                wire [MAW-1:0] sp_addr = q_we ? q_addr : addr;

                always @(posedge clk) begin
                    if (q_we)
                        mant[sp_addr] <= q_data;
                    else if (issue)
                        om <= mant[sp_addr];
                end
            end else begin : g_dp
                always @(posedge clk) begin
                    if (q_we)
                        mant[q_addr] <= q_data;
                end

                always @(posedge clk) begin
                    if (issue)
                        om <= mant[addr];
                end
            end

            always @(posedge clk) begin
                if (issue)
                    oe <= expo[eaddr];
            end

            assign o_mant = om;
            assign o_exp = oe;
        end

        always @(posedge clk) begin
            if (!o_valid || rd_ready[kd])
                o_valid <= run && port_free;
            if (rst)
                o_valid <= 1'b0;
        end

        assign rd_valid[kd] = o_valid;
        assign rd_mant[MW*kd +: MW] = o_mant;
        assign rd_exp[EW*kd +: EW] = o_exp;
        assign rd_last[kd] = o_last;

        // for a valid request the address fits MAW bits
        wire unused_ok = &{1'b0, r_addr32[31:MAW]};
    end
endgenerate

// ---- status -----------------------------------------------------------------------

always @(posedge clk) begin
    if (|{wr_err, rq_err})
        err <= 1'b1;
    if (rst)
        err <= 1'b0;
end

endmodule

`resetall
