`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: the emitted decoder's top with an external weight stream
 * (template rtl_templates/lg_top_ext.v, `--ext-weights 1`; the on-chip form
 * is lg_top.v; interface: docs/architecture.md, "The top module").
 *
 * Why: a model whose weights do not fit on chip (15m and up on most FPGAs)
 * keeps them in DRAM or flash. The decoder reads every weight exactly once
 * per token, in one fixed order (docs/architecture.md, "The weight stream"),
 * so the memory side is a sequential reader: it serves beat ranges of the
 * image the generator writes as weights.bin. This top is the decoder
 * (${DECODER_MODULE}) with that stream brought out; nothing else differs from
 * the on-chip form, and the same co-simulation proves it bit-exact
 * (sim/tb_decoder.cpp serves weights.bin with random latency and gaps).
 *
 * Weight requests (m_wreq): the decoder asks for beats m_wreq_first ..
 * m_wreq_last (inclusive, beat indices of weights.bin); m_wreq_valid stays
 * high with the range stable until m_wreq_ready (AXI rules). Per token it
 * asks for the whole image (0 .. NBEATS - 1), and with --embed-stream first
 * for the embedding row of the token (a classifier row). It never asks for
 * the next range before every beat of the last one has arrived, so a
 * reader needs no request queue.
 *
 * Weight beats (s_w): valid / ready, AXI-stream rules (valid held with the
 * data until ready; ready may wait on valid, not the other way round), the
 * beats of the requested range in order, any number of idle cycles
 * between them. s_w_data is one beat of weights.bin: WL_DW = 8 * LANES +
 * DXW bits, lane i's int8 mantissa in bits [8i +: 8] (lane 0 least
 * significant), the dexps above them. weights.bin holds beat b at byte
 * offset b * ceil(WL_DW / 8), least significant byte first.
 *
 * w_image_ready: the external memory holds the image (e.g. a DRAM loader is
 * done); it is st_weights_ready and gates the first token. A reader that
 * must not be interrupted keeps it high through a run.
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
 * Cycles: the manifest's cycles per token count a reader that serves a
 * beat every cycle from 3 cycles after the request (the on-chip memory's
 * latency); a slower reader adds its waits (cnt_matvec counts them).
 *
 * Parameters are baked at generation: POS_W = clog2(seq_len + 1), TOK_W =
 * clog2(vocab + 1) (so that an out-of-range id can be sent), WL_AW and WL_DW
 * the weight image's beat address and width. Overriding them is an error.
 */
module ${MODULE} #(
    // position and ctl_n_gen width: holds 0..seq_len
    parameter POS_W = ${POS_W},
    // token id width: holds 0..vocab
    parameter TOK_W = ${TOK_W},
    // weight beat address width: clog2(weight beats)
    parameter WL_AW = ${WL_AW},
    // weight beat width: 8 * lanes + 4 * dexps
    parameter WL_DW = ${WL_DW}
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
    // external weight stream: requests (beat ranges of weights.bin) and beats
    output wire               m_wreq_valid, input wire m_wreq_ready,
    output wire [WL_AW-1:0]   m_wreq_first, output wire [WL_AW-1:0] m_wreq_last,
    input  wire               s_w_valid,    output wire s_w_ready,
    input  wire [WL_DW-1:0]   s_w_data,
    input  wire               w_image_ready,     // the memory holds the image
    output wire               st_weights_ready,  // gates the first token
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

// ---- weight requests ---------------------------------------------------------------

// The decoder pulses w_start with its range; the request is held here until
// the reader takes it. The decoder starts a range only after the last one's
// final beat, so one register suffices (checked in simulation).
wire               w_start;
wire [WL_AW-1:0]   w_start_addr, w_last_addr; // the decoder's beat range per start
reg                req_valid_reg = 1'b0;
reg  [WL_AW-1:0]   req_first_reg = {WL_AW{1'b0}};
reg  [WL_AW-1:0]   req_last_reg = {WL_AW{1'b0}};

always @(posedge clk) begin
    if (m_wreq_ready)
        req_valid_reg <= 1'b0;
    if (w_start) begin
        req_valid_reg <= 1'b1;
        req_first_reg <= w_start_addr;
        req_last_reg <= w_last_addr;
    end
    if (rst)
        req_valid_reg <= 1'b0;
end

`ifndef SYNTHESIS
always @(posedge clk) begin
    if (!rst && w_start && req_valid_reg && !m_wreq_ready)
        $error("Error: a weight request while the last one waits (instance %m)");
end
`endif

assign m_wreq_valid = req_valid_reg;
assign m_wreq_first = req_first_reg;
assign m_wreq_last = req_last_reg;
assign st_weights_ready = w_image_ready;

// ---- weight beats: the image word split into the decoder's fields ----------------

wire [LANES*8-1:0] w_mant = s_w_data[LANES*8-1:0];
wire [DXW-1:0]     w_dexp = s_w_data[LANES*8 +: DXW];

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
    .s_w_valid(s_w_valid),
    .s_w_ready(s_w_ready),
    .s_w_mant(w_mant),
    .s_w_dexp(w_dexp),
    .cnt_total(cnt_total),
    .cnt_matvec(cnt_matvec),
    .cnt_attn(cnt_attn),
    .cnt_other(cnt_other)
);

endmodule

`resetall
