`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: the emitted decoder's top (template rtl_templates/lg_top.v;
 * interface fixed by docs/architecture.md, "The top module").
 *
 * Why: one module a user instantiates: the decoder (${DECODER_MODULE}: the
 * controller and every compute unit) fed by the on-chip weight memory
 * (${WMEM_MODULE}, initialized from the generator's weight image and
 * writable through the wl_* boot port). A design that streams the weights
 * from flash or DRAM takes another top: lg_top_ext.v (`--ext-weights 1`,
 * the weight stream brought out) or lg_top_axi.v (`--ext-weights 2`, an
 * AXI4 read master).
 *
 * Sequence: write the seed while st_busy is low (ctl_seed_we, four bytes,
 * least significant first), pulse ctl_start while st_busy is low (ctl_n_gen
 * is sampled then; ctl_inv_temp is read during the run and must stay stable
 * until st_busy falls), send the prompt on s_tok (BOS first, the last
 * token marked s_tok_last); the core runs one position per token, then
 * samples and sends ctl_n_gen tokens on m_tok, feeding each back as the next
 * input (llama2.c generate(); it also stops after sending BOS, id 1).
 * st_err_pos: a token would need position seq_len (not processed; the
 * sequence ends). st_err_token: a prompt token >= vocab was rejected
 * (consumed, not processed). Both are sticky until rst or ctl_start; the
 * K/V cache and the position are left as they were.
 *
 * m_logit: every logit of every position, vocab words in id order, as the
 * classifier produces them (no backpressure: a tap for co-simulation).
 *
 * Weight load port: wl_we writes wl_data (one weight beat: LANES int8
 * mantissas, then the dexps) to beat wl_addr; wl_done marks the image
 * complete. The memory is preloaded from the image at configuration, so
 * st_weights_ready is high after reset; a write clears it until wl_done,
 * and no token is accepted meanwhile.
 *
 * Cycle counters (since ctl_start, while st_busy): cnt_total, and its split
 * into mat-vec runs, attention (K/V write wait, attention, its output
 * quantizer) and everything else.
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
    // weight load address width: clog2(weight beats)
    parameter WL_AW = ${WL_AW},
    // weight load data width: one beat, 8 * lanes + 4 * dexps
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
    // weight load port (boot): writes the weight image word by word
    input  wire               wl_we, input wire [WL_AW-1:0] wl_addr,
    input  wire [WL_DW-1:0]   wl_data, input wire wl_done,
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

// ---- weight memory ------------------------------------------------------------------

wire               w_start, w_busy, w_done, w_loaded;
wire [WL_AW-1:0]   w_start_addr, w_last_addr; // the decoder's beat range per start
wire               w_valid, w_ready, w_last;
wire [LANES*8-1:0] w_mant;
wire [DXW-1:0]     w_dexp;
wire unused_w = ^{w_busy, w_done, w_last}; // the decoder counts its beats

${WMEM_MODULE} u_wmem (
    .clk(clk),
    .rst(rst),
    .start(w_start),
    .start_addr(w_start_addr),
    .last_addr(w_last_addr),
    .busy(w_busy),
    .done(w_done),
    .boot_we(wl_we),
    .boot_addr(wl_addr),
    .boot_data(wl_data),
    .boot_done(wl_done),
    .loaded(w_loaded),
    .m_w_valid(w_valid),
    .m_w_ready(w_ready),
    .m_w_mant(w_mant),
    .m_w_dexp(w_dexp),
    .m_w_last(w_last)
);

assign st_weights_ready = w_loaded;

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
    .w_loaded(w_loaded),
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
