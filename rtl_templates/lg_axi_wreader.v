`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: AXI4 read master for the external weight stream (template
 * rtl_templates/lg_axi_wreader.v; the top of an `--ext-weights 2` design,
 * lg_top_axi.v, instantiates it; docs/architecture.md, "The external
 * weight stream").
 *
 * Why: the decoder reads weights.bin (the generator's image) once a token,
 * in order; in DRAM behind an AXI interconnect that is a handful of long
 * INCR bursts. This unit turns a request for weight beats first .. last
 * into those bursts and repacks the bytes that come back into beats: a
 * beat is BB = ceil(BEAT_W / 8) bytes at byte offset b * BB of the image,
 * an AXI word WB = AXI_DW / 8 bytes, and the two seldom divide each other.
 *
 * Requests (s_req, valid / ready): beats s_req_first .. s_req_last
 * (inclusive). Ready is high only while idle; the unit is idle again the
 * cycle after the range's last beat is taken.
 *
 * Reads: the words that hold bytes first * BB .. (last + 1) * BB - 1 of the
 * image at `base` (base must be WB-aligned: a misaligned base raises
 * st_err_base and is read as if aligned down, in simulation also an error),
 * no more: bursts of at most MAX_BURST words, never across a 4 KiB
 * boundary, ARSIZE = log2(WB), INCR, ID 0, one after the other on AR (an
 * address may follow the last one's handshake in the next cycle), and at
 * most MAX_OUTSTANDING bursts outstanding (offered on AR, their RLAST not
 * yet taken): an interconnect or memory controller tracks only so many
 * reads, and MAX_OUTSTANDING x MAX_BURST words bound what the memory can
 * have queued for this unit. Keeping a word a cycle coming needs
 * MAX_OUTSTANDING x MAX_BURST at or above the memory's latency in cycles
 * (and MAX_OUTSTANDING >= 2 with bursts of one word). R data is taken only
 * when the repacking buffer has room, so a stalled decoder stalls the R
 * channel rather than dropping data. RLAST ends a burst (the count above;
 * in simulation it is checked against the burst's length). RRESP SLVERR or
 * DECERR raises st_err_resp (sticky until rst); the data is used as it
 * came.
 *
 * Beats (m_w, valid / ready, AXI-stream rules): valid and data come from
 * registers. The unit holds K = ceil((BB + WB - 1) / WB) + 1 words (the
 * words a beat can span, and one more arriving): a word is taken while
 * fewer are held, so with WB >= BB and a memory that keeps up a beat leaves
 * every cycle; with WB < BB the word rate sets the pace (BB / WB words a
 * beat).
 *
 * Latency: a request is taken at cycle 0, its byte range is set at 1, the
 * first address is offered at 2; the first beat leaves 1 cycle after the
 * words that complete it are taken. Rate: one burst address a cycle while
 * ARREADY is high and fewer than MAX_OUTSTANDING are outstanding (a burst
 * completing in a cycle frees its place in that cycle).
 */
module ${MODULE} #(
    // weight beat width in bits (the top's WL_DW)
    parameter BEAT_W = ${BEAT_W},
    // beat index width (the top's WL_AW)
    parameter BEAT_AW = ${BEAT_AW},
    // AXI address width
    parameter AXI_AW = ${AXI_AW},
    // AXI data width: 32 .. 1024, a power of two
    parameter AXI_DW = ${AXI_DW},
    // longest burst in words: 1 .. 256, a power of two
    parameter MAX_BURST = ${MAX_BURST},
    // bursts outstanding at most (address offered, RLAST not yet taken): 1 .. 255
    parameter MAX_OUTSTANDING = ${MAX_OUTSTANDING}
) (
    input  wire                 clk,
    input  wire                 rst,

    // byte address of the image (weights.bin) in the memory, WB-aligned,
    // stable while a request runs
    input  wire [AXI_AW-1:0]    base,

    // requests: beats s_req_first .. s_req_last
    input  wire                 s_req_valid,
    output wire                 s_req_ready,
    input  wire [BEAT_AW-1:0]   s_req_first,
    input  wire [BEAT_AW-1:0]   s_req_last,

    // beats, one per handshake, in order
    output wire                 m_w_valid,
    input  wire                 m_w_ready,
    output wire [BEAT_W-1:0]    m_w_data,

    // AXI4 read address channel
    output wire [AXI_AW-1:0]    m_axi_araddr,
    output wire [7:0]           m_axi_arlen,
    output wire [2:0]           m_axi_arsize,
    output wire [1:0]           m_axi_arburst,
    output wire [3:0]           m_axi_arcache,
    output wire [2:0]           m_axi_arprot,
    output wire                 m_axi_arvalid,
    input  wire                 m_axi_arready,

    // AXI4 read data channel
    input  wire [AXI_DW-1:0]    m_axi_rdata,
    input  wire [1:0]           m_axi_rresp,
    input  wire                 m_axi_rlast,
    input  wire                 m_axi_rvalid,
    output wire                 m_axi_rready,

    // sticky status
    output wire                 st_err_resp,   // a read came back SLVERR / DECERR
    output wire                 st_err_base    // base is not WB-aligned
);

// ---- sizes -------------------------------------------------------------------------

// bytes a beat, bytes a word, log2 of the latter
localparam integer BB = (BEAT_W + 7) / 8;
localparam integer WB = AXI_DW / 8;
localparam integer WBL = $clog2(WB);
// words held (a beat's window, BB + WB - 1 bytes, and one word more in
// flight: full rate), their count's width, the window, the words a beat can
// finish and their count's width, the offset sum's width
localparam integer K = (BB + WB - 1 + WB - 1) / WB + 1;
localparam integer NKW = $clog2(K + 1);
localparam integer WIN = BB + WB - 1;
localparam integer CMAX = (WB - 1 + BB) / WB;
localparam integer CB = $clog2(CMAX + 1);
localparam integer OFW = WBL + CB;
// the byte counts' common width
localparam integer HW = (NKW + WBL > OFW ? NKW + WBL : OFW) + 1;
// image byte offsets: up to 2^BEAT_AW beats of BB bytes (at least one bit
// above the word offset)
localparam integer OW0 = BEAT_AW + $clog2(BB + 1);
localparam integer OW = OW0 > WBL ? OW0 : WBL + 1;
// word counts (a request's words, plus one; wide enough for 4096 / WB and
// MAX_BURST too)
localparam integer NW = OW - WBL + 1 > 13 ? OW - WBL + 1 : 13;
// words to the next 4 KiB boundary: 1 .. 4096 / WB
localparam integer KW = 12 - WBL + 1;
localparam integer MBL = $clog2(MAX_BURST);
// the outstanding count's width
localparam integer OCW = $clog2(MAX_OUTSTANDING + 1);
// sized constants (32-bit first, then the bits each use needs)
localparam [31:0] BB_32 = BB;
localparam [31:0] K_32 = K;
localparam [31:0] MAXB_32 = MAX_BURST;
localparam [OW-1:0] BB_O = BB_32[OW-1:0];
localparam [OFW-1:0] BB_F = BB_32[OFW-1:0];
localparam [NKW-1:0] K_N = K_32[NKW-1:0];
localparam [NW-1:0] MAXB = MAXB_32[NW-1:0];
localparam [31:0] MAXO_32 = MAX_OUTSTANDING;
localparam [OCW-1:0] MAXO = MAXO_32[OCW-1:0];

initial begin
    if (AXI_DW < 32 || AXI_DW > 1024 || (1 << WBL) != WB || WB * 8 != AXI_DW) begin
        $error("Error: AXI_DW %0d must be a power of two in 32 .. 1024 (instance %m)", AXI_DW);
        $finish;
    end
    if (MAX_BURST < 1 || MAX_BURST > 256 || (1 << MBL) != MAX_BURST) begin
        $error("Error: MAX_BURST %0d must be a power of two in 1 .. 256 (instance %m)",
               MAX_BURST);
        $finish;
    end
    if (MAX_OUTSTANDING < 1 || MAX_OUTSTANDING > 255) begin
        $error("Error: MAX_OUTSTANDING %0d must be in 1 .. 255 (instance %m)", MAX_OUTSTANDING);
        $finish;
    end
    if (BEAT_W < 1 || BEAT_AW < 1 || AXI_AW < 13 || AXI_AW < OW) begin
        $error("Error: BEAT_W, BEAT_AW must be positive and AXI_AW at least 13 and %0d (instance %m)",
               OW);
        $finish;
    end
end

// ---- request: the byte range and the words that hold it ----------------------------

localparam [1:0] S_IDLE = 2'd0, S_SETUP = 2'd1, S_RUN = 2'd2;
reg  [1:0]          state_reg = S_IDLE;
reg  [OW-1:0]       off_s_reg = {OW{1'b0}};  // first byte of the range
reg  [OW-1:0]       off_e_reg = {OW{1'b0}};  // one past its last byte
reg  [BEAT_AW:0]    beats_left_reg = {(BEAT_AW + 1){1'b0}};

wire req_fire = s_req_valid && s_req_ready;
assign s_req_ready = state_reg == S_IDLE;

// word index range [ws, we) relative to base; the first word's skipped bytes
wire [NW-1:0]  ws = {{(NW - OW + WBL){1'b0}}, off_s_reg[OW-1:WBL]};
wire [NW-1:0]  we = {{(NW - OW + WBL){1'b0}}, off_e_reg[OW-1:WBL]}
                    + {{(NW - 1){1'b0}}, |off_e_reg[WBL-1:0]};
wire [WBL-1:0] skip = off_s_reg[WBL-1:0];

// ---- address channel -----------------------------------------------------------------

// The next burst's first word (nx_addr) and the words not yet offered
// (nx_left) are registers, so the next burst's length is ready while the
// current address waits for ARREADY: an address can follow a handshake in
// the next cycle.
reg  [AXI_AW-1:0]   nx_addr_reg = {AXI_AW{1'b0}};
reg  [NW-1:0]       nx_left_reg = {NW{1'b0}};
reg  [AXI_AW-1:0]   ar_addr_reg = {AXI_AW{1'b0}};
reg                 ar_valid_reg = 1'b0;
reg  [7:0]          ar_len_reg = 8'd0;
reg  [OCW-1:0]      out_n_reg = {OCW{1'b0}};   // bursts offered, RLAST not yet taken

// words to the 4 KiB boundary from nx_addr (WB-aligned: 4096 - its offset in
// the page is a whole number of words), and the next burst's length
wire [12:0]   to_4k_b = 13'd4096 - {1'b0, nx_addr_reg[11:0]};
wire [NW-1:0] cap_4k = {{(NW - KW){1'b0}}, to_4k_b[12:WBL]};
wire [NW-1:0] cap_a = nx_left_reg < MAXB ? nx_left_reg : MAXB;
wire [NW-1:0] burst_n = cap_a < cap_4k ? cap_a : cap_4k;
wire [8:0]    burst = burst_n[8:0];   // 1 .. MAX_BURST
wire unused_b = ^{to_4k_b[WBL-1:0], burst_n[NW-1:9]};

// a burst ends when its RLAST is taken (r_fire below)
wire r_end;
// offer the next burst: words left, the AR register free (or freeing now),
// a place among the outstanding (or one freeing now)
wire ar_load = state_reg == S_RUN && nx_left_reg != 0 && (!ar_valid_reg || m_axi_arready)
               && (out_n_reg != MAXO || r_end);

always @(posedge clk) begin
    if (ar_load) begin
        ar_valid_reg <= 1'b1;
        ar_addr_reg <= nx_addr_reg;
        ar_len_reg <= burst[7:0] - 8'd1;
        nx_addr_reg <= nx_addr_reg + ({{(AXI_AW - 9){1'b0}}, burst} << WBL);
        nx_left_reg <= nx_left_reg - {{(NW - 9){1'b0}}, burst};
    end else if (m_axi_arready)
        ar_valid_reg <= 1'b0;
    if (ar_load && !r_end)
        out_n_reg <= out_n_reg + 1'b1;
    else if (!ar_load && r_end)
        out_n_reg <= out_n_reg - 1'b1;
    if (state_reg == S_SETUP) begin
        // base aligned down (st_err_base says when it was not)
        nx_addr_reg <= {base[AXI_AW-1:WBL], {WBL{1'b0}}}
                       + {{(AXI_AW - OW){1'b0}}, off_s_reg[OW-1:WBL], {WBL{1'b0}}};
        nx_left_reg <= we - ws;
    end
    if (rst) begin
        ar_valid_reg <= 1'b0;
        nx_left_reg <= {NW{1'b0}};
        out_n_reg <= {OCW{1'b0}};
    end
end

assign m_axi_araddr = ar_addr_reg;
assign m_axi_arlen = ar_len_reg;
assign m_axi_arsize = WBL[2:0];
assign m_axi_arburst = 2'b01;   // INCR
assign m_axi_arcache = 4'b0011; // normal, non-cacheable, bufferable
assign m_axi_arprot = 3'b000;
assign m_axi_arvalid = ar_valid_reg;

// ---- data channel and repacking ------------------------------------------------------

// The words in arrival order (slot 0 the oldest), and the first byte of slot 0
// not yet sent. A beat is the BB bytes from there: a window of the low
// BB + WB - 1 bytes shifted by off (a byte of WB positions per output byte:
// cheap next to shifting whole words into a byte-granular buffer). Taking a
// beat moves off by BB and drops the words it finished (c of them).
reg  [K*AXI_DW-1:0] wbuf_reg = {(K * AXI_DW){1'b0}};
reg  [NKW-1:0]      nw_reg = {NKW{1'b0}};       // words held
reg  [WBL-1:0]      off_reg = {WBL{1'b0}};
reg  [NW-1:0]       r_left_reg = {NW{1'b0}};    // words still to come
reg                 err_resp_reg = 1'b0;

// a beat is held when the words reach past off + BB (the bytes held, nw
// words, counted from slot 0's first byte)
wire [OFW-1:0]      off_next = {{(OFW - WBL){1'b0}}, off_reg} + BB_F;
wire [HW-1:0]       held = {{(HW - NKW - WBL){1'b0}}, nw_reg, {WBL{1'b0}}};
assign m_w_valid = state_reg == S_RUN && held >= {{(HW - OFW){1'b0}}, off_next};
wire w_fire = m_w_valid && m_w_ready;
wire last_beat = beats_left_reg == 1;
assign m_axi_rready = state_reg == S_RUN && r_left_reg != 0 && nw_reg < K_N;
wire r_fire = m_axi_rvalid && m_axi_rready;
assign r_end = r_fire && m_axi_rlast;

wire [WIN*8-1:0]    win = wbuf_reg[WIN*8-1:0];
wire [WIN*8-1:0]    beat = win >> {off_reg, 3'b000};

// a taken beat: the new offset and the words it finished
wire [CB-1:0]       c = w_fire ? off_next[OFW-1:WBL] : {CB{1'b0}};
wire [K*AXI_DW-1:0] wbuf_sh = wbuf_reg >> (c * AXI_DW);
wire [NKW-1:0]      nw_sh = nw_reg - {{(NKW - CB){1'b0}}, c};

// the new word goes to slot nw_sh (free: nw_reg < K)
reg  [K*AXI_DW-1:0] wbuf_next;
integer i;
always @* begin
    wbuf_next = wbuf_sh;
    for (i = 0; i < K; i = i + 1)
        if (r_fire && nw_sh == i[NKW-1:0])
            wbuf_next[i*AXI_DW +: AXI_DW] = m_axi_rdata;
end

always @(posedge clk) begin
    case (state_reg)
    S_IDLE: if (req_fire) begin
        off_s_reg <= {{(OW - BEAT_AW){1'b0}}, s_req_first} * BB_O;
        off_e_reg <= {{(OW - BEAT_AW - 1){1'b0}}, {1'b0, s_req_last} + 1'b1} * BB_O;
        beats_left_reg <= {1'b0, s_req_last} - {1'b0, s_req_first} + 1'b1;
        state_reg <= S_SETUP;
    end
    S_SETUP: begin
        r_left_reg <= we - ws;
        // the range's first byte is byte `skip` of its first word; what the
        // last range left (the padding past its end) goes
        nw_reg <= {NKW{1'b0}};
        off_reg <= skip;
        state_reg <= S_RUN;
    end
    default: begin
        wbuf_reg <= wbuf_next;
        nw_reg <= nw_sh + {{(NKW - 1){1'b0}}, r_fire};
        if (w_fire)
            off_reg <= off_next[WBL-1:0];
        if (r_fire) begin
            r_left_reg <= r_left_reg - 1'b1;
            if (m_axi_rresp[1])
                err_resp_reg <= 1'b1;
        end
        if (w_fire) begin
            beats_left_reg <= beats_left_reg - 1'b1;
            // the last word came with (or before) the last beat's bytes: what
            // is left is the padding past the range
            if (last_beat)
                state_reg <= S_IDLE;
        end
    end
    endcase
    if (rst) begin
        state_reg <= S_IDLE;
        nw_reg <= {NKW{1'b0}};
        r_left_reg <= {NW{1'b0}};
        err_resp_reg <= 1'b0;
    end
end

assign m_w_data = beat[BEAT_W-1:0];
assign st_err_resp = err_resp_reg;
assign st_err_base = |base[WBL-1:0];

wire unused_r = ^{m_axi_rresp[0], beat[WIN*8-1:BEAT_W]};

`ifndef SYNTHESIS
always @(posedge clk) begin
    if (!rst && req_fire && |base[WBL-1:0])
        $error("Error: base 0x%0h is not %0d-byte aligned (instance %m)", base, WB);
    if (!rst && state_reg == S_RUN && last_beat && w_fire && r_left_reg != 0)
        $error("Error: the last beat left words unread (instance %m)");
    if (!rst && state_reg == S_RUN && last_beat && w_fire && (out_n_reg != 0 || ar_valid_reg))
        $error("Error: the last beat left bursts outstanding (instance %m)");
end

// RLAST where the burst's words end (the offered lengths in a queue of
// MAX_OUTSTANDING; the count above trusts RLAST)
reg [8:0] sim_len [0:255];
integer   sim_wr = 0, sim_rd = 0, sim_got = 0;
always @(posedge clk) begin
    if (rst) begin
        sim_wr <= 0;
        sim_rd <= 0;
        sim_got <= 0;
    end else begin
        if (ar_load) begin
            sim_len[sim_wr[7:0]] <= burst;
            sim_wr <= sim_wr + 1;
        end
        if (r_fire) begin
            if (sim_rd == sim_wr)
                $error("Error: R data with no burst outstanding (instance %m)");
            else if (m_axi_rlast != (sim_got + 1 == {23'd0, sim_len[sim_rd[7:0]]}))
                $error("Error: RLAST %0d at word %0d of a %0d-word burst (instance %m)",
                       m_axi_rlast, sim_got + 1, sim_len[sim_rd[7:0]]);
            if (m_axi_rlast) begin
                sim_rd <= sim_rd + 1;
                sim_got <= 0;
            end else
                sim_got <= sim_got + 1;
        end
    end
end
`endif

endmodule

`resetall
