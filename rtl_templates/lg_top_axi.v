`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: the emitted decoder's top reading its weights over AXI4
 * (template rtl_templates/lg_top_axi.v, `--ext-weights 2`; the on-chip form
 * is lg_top.v, the bare stream lg_top_ext.v; interface:
 * docs/architecture.md, "The external weight stream").
 *
 * Why: on an FPGA with DRAM the weights live behind an AXI interconnect.
 * This top is the decoder (${DECODER_MODULE}) with its weight stream fed by
 * ${READER_MODULE}, an AXI4 read master that fetches the beats each request
 * names from the image the generator writes as weights.bin, loaded at byte
 * address w_base: per token the whole image in INCR bursts (and with
 * --embed-stream first the token's embedding row).
 *
 * AXI: one read master (AR and R channels only, ID 0, INCR, ARSIZE the
 * whole data width, bursts of at most MAX_BURST words, never across 4 KiB,
 * at most MAX_OUTSTANDING bursts outstanding), AXI_DW wide (default: the smallest power of two
 * that holds a weight beat, so that a beat a cycle needs one word a cycle;
 * a narrower bus runs the mat-vec at the word rate). R data is taken only
 * when the reader has room: a stalled decoder holds the R channel.
 * w_base must be AXI_DW / 8-aligned (st_err_wbase otherwise); an error
 * response raises st_err_wresp (sticky until rst).
 *
 * w_image_ready: the memory holds the image at w_base (e.g. a loader is
 * done); it is st_weights_ready and gates the first token.
 *
 * Sequence, tokens, errors, the logit tap and the counters are those of the
 * on-chip top: write the seed while st_busy is low (ctl_seed_we, four
 * bytes, least significant first), pulse ctl_start while st_busy is low
 * (ctl_n_gen is sampled then; ctl_inv_temp is read during the run and must
 * stay stable until st_busy falls), send the prompt on s_tok (BOS first, the
 * last token marked s_tok_last); the core runs one position per token, then
 * samples and sends ctl_n_gen tokens on m_tok, feeding each back as the
 * next input. st_err_pos: a token would need position seq_len (not
 * processed); st_err_token: a prompt token >= vocab was rejected (consumed,
 * not processed); both sticky until rst or ctl_start.
 *
 * Cycles: the manifest's cycles per token count weights served a beat a
 * cycle from 3 cycles after the request; the memory's latency and a bus
 * narrower than a beat add to them (cnt_matvec counts the waits).
 *
 * Parameters: POS_W, TOK_W, WL_AW and WL_DW are baked at generation
 * (overriding them is an error); AXI_AW, AXI_DW, MAX_BURST and
 * MAX_OUTSTANDING are free. A word a cycle needs MAX_OUTSTANDING x MAX_BURST
 * at or above the memory's read latency in cycles.
 */
module ${MODULE} #(
    // position and ctl_n_gen width: holds 0..seq_len
    parameter POS_W = ${POS_W},
    // token id width: holds 0..vocab
    parameter TOK_W = ${TOK_W},
    // weight beat address width: clog2(weight beats)
    parameter WL_AW = ${WL_AW},
    // weight beat width: 8 * lanes + 4 * dexps
    parameter WL_DW = ${WL_DW},
    // AXI address width (at least 13 and the image's byte offsets)
    parameter AXI_AW = ${AXI_AW},
    // AXI data width: a power of two, 32 .. 1024
    parameter AXI_DW = ${AXI_DW},
    // longest burst in words: a power of two, 1 .. 256
    parameter MAX_BURST = ${MAX_BURST},
    // bursts outstanding at most (address offered, RLAST not yet taken): 1 .. 255
    parameter MAX_OUTSTANDING = ${MAX_OUTSTANDING}
) (
    input  wire               clk,
    input  wire               rst,
    // control: ctl_n_gen sampled on ctl_start while idle (st_busy low); ctl_inv_temp
    // is read during the run: hold it from ctl_start until st_busy falls
    input  wire               ctl_start,     // pulse: new sequence at position 0
    input  wire [23:0]        ctl_inv_temp,  // 1/T in Q16; 0 = greedy (argmax)
    // xorshift32 seed, a byte a cycle while idle, least significant first:
    // four writes set a 32-bit seed (0 -> 0x2545f491); none: the run goes on
    // with the previous run's PRNG state
    input  wire               ctl_seed_we,
    input  wire [7:0]         ctl_seed_byte,
    input  wire [POS_W-1:0]   ctl_n_gen,     // tokens to generate after the prompt
    // prompt tokens in; s_tok_last marks the last prompt token
    input  wire               s_tok_valid,  output wire s_tok_ready,
    input  wire [TOK_W-1:0]   s_tok_data,   input  wire s_tok_last,
    // generated tokens out (the core feeds each one back as the next input)
    output wire               m_tok_valid,  input  wire m_tok_ready,
    output wire [TOK_W-1:0]   m_tok_data,
    // logit tap for co-simulation: vocab words per position, in id order
    output wire               m_logit_valid, output wire [31:0] m_logit_data,
    output wire               m_logit_last,
    // status
    output wire               st_busy,
    output wire [POS_W-1:0]   st_pos,        // position of the token being processed
    output wire               st_err_pos,    // sticky: a token would pass seq_len (not processed)
    output wire               st_err_token,  // sticky: a prompt token >= vocab (rejected)
    // weights: byte address of weights.bin in the memory, and its AXI4 read master
    input  wire [AXI_AW-1:0]  w_base,
    output wire [AXI_AW-1:0]  m_axi_araddr,  output wire [7:0] m_axi_arlen,
    output wire [2:0]         m_axi_arsize,  output wire [1:0] m_axi_arburst,
    output wire [3:0]         m_axi_arcache, output wire [2:0] m_axi_arprot,
    output wire               m_axi_arvalid, input  wire m_axi_arready,
    input  wire [AXI_DW-1:0]  m_axi_rdata,   input  wire [1:0] m_axi_rresp,
    input  wire               m_axi_rlast,   input  wire m_axi_rvalid,
    output wire               m_axi_rready,
    input  wire               w_image_ready,     // the memory holds the image
    output wire               st_weights_ready,  // gates the first token
    output wire               st_err_wresp,      // sticky: a weight read came back in error
    output wire               st_err_wbase,      // w_base is not AXI_DW / 8-aligned
    // cycle counters (since ctl_start): total and per stage
    output wire [63:0]        cnt_total, cnt_matvec, cnt_attn, cnt_other
);

// ---- configuration (baked at generation time) -------------------------------------

// MAC lanes and dexp bits per beat
localparam integer LANES = ${LANES};
localparam integer DXW = ${DXW};
// beats in the weight image (one token's stream)
localparam integer NBEATS = ${NBEATS};

// bad parameter combinations are rejected at elaboration
initial begin
    if (POS_W != ${POS_W} || TOK_W != ${TOK_W} || WL_AW != ${WL_AW} || WL_DW != ${WL_DW}) begin
        $error("Error: POS_W, TOK_W, WL_AW and WL_DW are baked in at generation (instance %m)");
        $finish;
    end
    if (NBEATS < 1 || NBEATS > (1 << WL_AW)) begin
        $error("Error: the weight image's %0d beats do not fit WL_AW (instance %m)", NBEATS);
        $finish;
    end
end

// ---- weights: the AXI4 reader ------------------------------------------------------

// The decoder pulses w_start with its range; it starts a range only after the
// last one's final beat, when the reader is idle again (checked in simulation).
wire               w_start, req_ready;
wire [WL_AW-1:0]   w_start_addr, w_last_addr; // the decoder's beat range per start
wire               w_valid, w_ready;
wire [WL_DW-1:0]   w_data;

${READER_MODULE} #(
    .BEAT_W(WL_DW),
    .BEAT_AW(WL_AW),
    .AXI_AW(AXI_AW),
    .AXI_DW(AXI_DW),
    .MAX_BURST(MAX_BURST),
    .MAX_OUTSTANDING(MAX_OUTSTANDING)
) u_wrd (
    .clk(clk),
    .rst(rst),
    .base(w_base),
    .s_req_valid(w_start),
    .s_req_ready(req_ready),
    .s_req_first(w_start_addr),
    .s_req_last(w_last_addr),
    .m_w_valid(w_valid),
    .m_w_ready(w_ready),
    .m_w_data(w_data),
    .m_axi_araddr(m_axi_araddr),
    .m_axi_arlen(m_axi_arlen),
    .m_axi_arsize(m_axi_arsize),
    .m_axi_arburst(m_axi_arburst),
    .m_axi_arcache(m_axi_arcache),
    .m_axi_arprot(m_axi_arprot),
    .m_axi_arvalid(m_axi_arvalid),
    .m_axi_arready(m_axi_arready),
    .m_axi_rdata(m_axi_rdata),
    .m_axi_rresp(m_axi_rresp),
    .m_axi_rlast(m_axi_rlast),
    .m_axi_rvalid(m_axi_rvalid),
    .m_axi_rready(m_axi_rready),
    .st_err_resp(st_err_wresp),
    .st_err_base(st_err_wbase)
);

`ifndef SYNTHESIS
always @(posedge clk) begin
    if (!rst && w_start && !req_ready)
        $error("Error: a weight request while the reader is busy (instance %m)");
end
`endif

assign st_weights_ready = w_image_ready;

// the image word split into the decoder's fields
wire [LANES*8-1:0] w_mant = w_data[LANES*8-1:0];
wire [DXW-1:0]     w_dexp = w_data[LANES*8 +: DXW];

// ---- the decoder --------------------------------------------------------------------

${DECODER_MODULE} u_dec (
    .clk(clk),
    .rst(rst),
    .ctl_start(ctl_start),
    .ctl_inv_temp(ctl_inv_temp),
    .ctl_seed_we(ctl_seed_we),
    .ctl_seed_byte(ctl_seed_byte),
    .ctl_n_gen(ctl_n_gen),
    .s_tok_valid(s_tok_valid),
    .s_tok_ready(s_tok_ready),
    .s_tok_data(s_tok_data),
    .s_tok_last(s_tok_last),
    .m_tok_valid(m_tok_valid),
    .m_tok_ready(m_tok_ready),
    .m_tok_data(m_tok_data),
    .m_logit_valid(m_logit_valid),
    .m_logit_data(m_logit_data),
    .m_logit_last(m_logit_last),
    .st_busy(st_busy),
    .st_pos(st_pos),
    .st_err_pos(st_err_pos),
    .st_err_token(st_err_token),
    .w_loaded(w_image_ready),
    .w_start(w_start),
    .w_start_addr(w_start_addr),
    .w_last_addr(w_last_addr),
    .s_w_valid(w_valid),
    .s_w_ready(w_ready),
    .s_w_mant(w_mant),
    .s_w_dexp(w_dexp),
    .cnt_total(cnt_total),
    .cnt_matvec(cnt_matvec),
    .cnt_attn(cnt_attn),
    .cnt_other(cnt_other)
);

endmodule

`resetall
