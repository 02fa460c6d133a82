`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: the K/V cache of all layers (template rtl_templates/lg_kvcache.v,
 * C twin lg_kvcache + lg_ref_kv_quant in src/ref_kvcache.c).
 *
 * Why: attention at position pos reads the K and V rows 0..pos of every
 * layer, so they are kept on chip, quantized (docs/numerics.md 3.10) to a
 * KV_BITS mantissa per element plus a 5-bit exponent per KV_GROUP elements.
 * Rows are written as they are produced (K after RoPE, V from the mat-vec)
 * and read back as row streams, one beat of BEAT mantissas per cycle, which
 * is what lg_attention consumes (and what an off-chip cache would serve
 * behind the same interface).
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
 * With KV_PORTS = 2 each RAM has one write port (its quantizer) and one
 * registered read port, the simple dual-port shape that maps to block RAM.
 * With KV_PORTS = 1 the mantissa RAMs are single port: one address, a write
 * or a read per cycle (`if (we) mem[a] <= d; else if (re) q <= mem[a];`),
 * the shape yosys maps to iCE40 SPRAM (SB_SPRAM256KA, 16 bits x 16 k per
 * block) where simple dual port cannot go. A cycle in which the quantizer
 * writes a mantissa word issues no read on that port's stream (the beat on
 * the output holds; the stream resumes the next cycle), so reads lose one
 * cycle per mantissa word written meanwhile: KV_DIM / BEAT per row, and
 * none in the decoder, whose K (V) reads wait for the row's K (V) write.
 * The exponent RAMs (a few bits per group) stay simple dual port (EBR).
 *
 * Parameters: LAYERS, SEQ_LEN, N_KV_HEADS, HEAD_SIZE (KV_DIM = N_KV_HEADS *
 * HEAD_SIZE), KV_BITS (4..16), KV_GROUP (divides HEAD_SIZE), BEAT (read
 * beat width: divides HEAD_SIZE, and BEAT divides KV_GROUP or KV_GROUP
 * divides BEAT; lg_attention's BEAT, computed by lg_attn_beat()), KV_PORTS
 * (1 or 2, above).
 *
 * Write ports s_k_* / s_v_* (independent, ${KVQ_MODULE} each): valid/ready,
 * one Q16 element per transfer, KV_DIM per row; s_*_layer / s_*_pos sampled
 * with a row's first element. One element per cycle; *_done pulses when the
 * row is in the RAM: in cycle c + KV_GROUP + 3 for a last element handed
 * over in cycle c (a gapless row: KV_DIM + KV_GROUP + 2 cycles after its
 * first handshake). A row with pos >= SEQ_LEN or layer >= LAYERS is
 * consumed without writing anything (no corruption), sets err, and still
 * pulses *_done.
 *
 * Read ports (K and V independent): a request (s_*req: valid/ready; layer,
 * kv head, rows first..last inclusive) streams rows first..last of that
 * head, HEAD_SIZE / BEAT beats per row in element order, on m_k_* / m_v_*:
 * valid/ready, mantissas, the beat's exponent(s) (aligned with the
 * mantissas: both RAMs are read in the same cycle), and last on the final
 * beat of the request. One beat per cycle; the first beat is valid 3 cycles
 * after the cycle of the request handshake on an idle port (request into the
 * pending slot, address load, RAM read), and a request accepted while the
 * previous one streams follows it with no gap. s_*req_ready is a
 * register (one request waits while one streams). A request with layer >=
 * LAYERS, head >= N_KV_HEADS, last >= SEQ_LEN or first > last is dropped
 * (no beats) and sets err. Reading a row before its write's done gives the
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

localparam [31:0] HB_M1 = HB - 1;
localparam [31:0] BPG_M1 = BPG - 1;
localparam [31:0] ROW_STEP = WPR - HB + 1;
localparam [31:0] EROW_STEP = EPR - HE + 1;
localparam [HBW-1:0] BEAT_LAST = HB_M1[HBW-1:0];
localparam [BPW-1:0] BSUB_LAST = BPG_M1[BPW-1:0];
localparam [MAW-1:0] ROW_STEP_A = ROW_STEP[MAW-1:0];
localparam [EAW-1:0] EROW_STEP_A = EROW_STEP[EAW-1:0];
localparam [31:0] SEQ32 = SEQ_LEN;
localparam [31:0] WPR32 = WPR;
localparam [31:0] EPR32 = EPR;
localparam [31:0] HB32 = HB;
localparam [31:0] HE32 = HE;

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

wire [1:0]      wr_valid = {s_v_valid, s_k_valid};
wire [63:0]     wr_data = {s_v_data, s_k_data};
wire [2*LW-1:0] wr_layer = {s_v_layer, s_k_layer};
wire [63:0]     wr_pos = {s_v_pos, s_k_pos};
wire [1:0]      wr_ready;
wire [1:0]      wr_done;
wire [1:0]      wr_err;

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

assign s_k_ready = wr_ready[0];
assign s_v_ready = wr_ready[1];
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

genvar kd;
generate
    for (kd = 0; kd < 2; kd = kd + 1) begin : g_cache

        // ---- write side: quantizer and RAM write ports ---------------------------

        // (public_flat_rd: the decoder co-simulation, sim/tb_decoder.cpp,
        // records every RAM write from these and compares the cache's contents
        // with the C model's; no effect on other tools)
        wire           q_we /*verilator public_flat_rd*/;
        wire [MAW-1:0] q_addr /*verilator public_flat_rd*/;
        wire [MW-1:0]  q_data /*verilator public_flat_rd*/;
        wire           q_ewe /*verilator public_flat_rd*/;
        wire [EAW-1:0] q_eaddr /*verilator public_flat_rd*/;
        wire [EW-1:0]  q_edata /*verilator public_flat_rd*/;

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
            .s_valid(wr_valid[kd]),
            .s_ready(wr_ready[kd]),
            .s_data(wr_data[32*kd +: 32]),
            .s_layer(wr_layer[LW*kd +: LW]),
            .s_pos(wr_pos[32*kd +: 32]),
            .m_we(q_we),
            .m_addr(q_addr),
            .m_data(q_data),
            .m_ewe(q_ewe),
            .m_eaddr(q_eaddr),
            .m_edata(q_edata),
            .done(wr_done[kd]),
            .err(wr_err[kd])
        );

        // ---- the RAMs (registered read; the mantissa RAM's form per KV_PORTS) ----

        reg [MW-1:0] mant [0:MDEPTH-1];
        reg [EW-1:0] expo [0:EDEPTH-1];

        always @(posedge clk) begin
            if (q_ewe)
                expo[q_eaddr] <= q_edata;
        end

        // ---- read request: checked, base addresses computed into the pending slot

        wire [LW-1:0] r_layer = rq_layer[LW*kd +: LW];
        wire [HW-1:0] r_head = rq_head[HW*kd +: HW];
        wire [PW-1:0] r_first = rq_first[PW*kd +: PW];
        wire [PW-1:0] r_last = rq_last[PW*kd +: PW];
        wire [31:0]   r_layer32 = {{(32 - LW){1'b0}}, r_layer};
        wire [31:0]   r_head32 = {{(32 - HW){1'b0}}, r_head};
        wire [31:0]   r_first32 = {{(32 - PW){1'b0}}, r_first};
        wire [31:0]   r_last32 = {{(32 - PW){1'b0}}, r_last};
        wire          r_ok = r_layer32 < LAYERS && r_head32 < N_KV_HEADS &&
                             r_last32 < SEQ_LEN && r_first <= r_last;
        // row of the first beat, its mantissa and exponent word addresses
        // (modulo 2^32; a valid request's addresses fit MAW / EAW bits)
        wire [31:0]   r_row32 = r_layer32 * SEQ32 + r_first32;
        wire [31:0]   r_addr32 = r_row32 * WPR32 + r_head32 * HB32;
        wire [31:0]   r_eaddr32 = r_row32 * EPR32 + r_head32 * HE32;

        // pending slot: one request waiting while the previous one streams
        reg           pd_v;
        reg [MAW-1:0] pd_addr;
        reg [EAW-1:0] pd_eaddr;
        reg [PW-1:0]  pd_rows;

        assign rq_ready[kd] = !pd_v;
        wire rq_fire = rq_valid[kd] && !pd_v;
        assign rq_err[kd] = rq_fire && !r_ok;

        // ---- active stream: address generation ----------------------------------

        reg           act;
        reg [MAW-1:0] addr;
        reg [EAW-1:0] eaddr;
        reg [PW-1:0]  rows_left;
        reg [HBW-1:0] beat;
        reg [BPW-1:0] bsub;
        reg           o_valid;

        // a read is issued when the output register is free or being taken
        // (and, single port, when the quantizer is not writing a mantissa word)
        wire port_free = (KV_PORTS == 2) || !q_we;
        wire issue = act && (!o_valid || rd_ready[kd]) && port_free;
        wire range_end = rows_left == {PW{1'b0}} && beat == BEAT_LAST;
        wire load = pd_v && (!act || (issue && range_end));

        always @(posedge clk) begin
            if (rq_fire && r_ok) begin
                pd_addr <= r_addr32[MAW-1:0];
                pd_eaddr <= r_eaddr32[EAW-1:0];
                pd_rows <= r_last - r_first;
            end
        end

        always @(posedge clk) begin
            if (rq_fire && r_ok)
                pd_v <= 1'b1;
            else if (load)
                pd_v <= 1'b0;
            if (rst)
                pd_v <= 1'b0;
        end

        always @(posedge clk) begin
            if (load) begin
                addr <= pd_addr;
                eaddr <= pd_eaddr;
                rows_left <= pd_rows;
                beat <= {HBW{1'b0}};
                bsub <= {BPW{1'b0}};
            end else if (issue) begin
                if (beat == BEAT_LAST) begin
                    // next row of the same head
                    beat <= {HBW{1'b0}};
                    bsub <= {BPW{1'b0}};
                    rows_left <= rows_left - 1'b1;
                    addr <= addr + ROW_STEP_A;
                    eaddr <= eaddr + EROW_STEP_A;
                end else begin
                    beat <= beat + 1'b1;
                    addr <= addr + 1'b1;
                    if (bsub == BSUB_LAST) begin
                        bsub <= {BPW{1'b0}};
                        eaddr <= eaddr + 1'b1;
                    end else begin
                        bsub <= bsub + 1'b1;
                    end
                end
            end
        end

        always @(posedge clk) begin
            if (load)
                act <= 1'b1;
            else if (issue && range_end)
                act <= 1'b0;
            if (rst)
                act <= 1'b0;
        end

        // ---- read data: the RAM output registers are the stream registers ----------
        // They hold while the stream is stalled (no read is issued then), so the
        // mantissas and the exponent word stay aligned.

        reg [MW-1:0] o_mant;
        reg [EW-1:0] o_exp;
        reg          o_last;

        if (KV_PORTS == 1) begin : g_sp
            // one address: the write's, else the read's
            wire [MAW-1:0] sp_addr = q_we ? q_addr : addr;

            always @(posedge clk) begin
                if (q_we)
                    mant[sp_addr] <= q_data;
                else if (issue)
                    o_mant <= mant[sp_addr];
            end
        end else begin : g_dp
            always @(posedge clk) begin
                if (q_we)
                    mant[q_addr] <= q_data;
            end

            always @(posedge clk) begin
                if (issue)
                    o_mant <= mant[addr];
            end
        end

        always @(posedge clk) begin
            if (issue) begin
                o_exp <= expo[eaddr];
                o_last <= range_end;
            end
        end

        always @(posedge clk) begin
            if (!o_valid || rd_ready[kd])
                o_valid <= act && port_free;
            if (rst)
                o_valid <= 1'b0;
        end

        assign rd_valid[kd] = o_valid;
        assign rd_mant[MW*kd +: MW] = o_mant;
        assign rd_exp[EW*kd +: EW] = o_exp;
        assign rd_last[kd] = o_last;

        // for a valid request the addresses fit MAW / EAW bits
        wire unused_ok = &{1'b0, r_addr32[31:MAW], r_eaddr32[31:EAW]};
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
