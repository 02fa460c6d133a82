`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: the decoder: pipeline controller and datapath glue around the
 * units (template rtl_templates/lg_decoder.v, C twin lg_ref_forward in
 * src/ref_model.c for one position, and llama2.c's generate() loop for the
 * token sequence; docs/architecture.md, docs/numerics.md section 4).
 *
 * Why: the units compute; this module decides *when*. It runs one position
 * per token, stage by stage, with start/done (or a counted stream) between
 * the units, and routes every stream to the unit that needs it:
 *
 *   token -> embed -> x buffer (and, in the same handshakes, rmsnorm)
 *   per layer l:  rmsnorm(att[l]) -> actq -> mat-vec buffer
 *                 Wq, Wk -> rope -> q buffer / (k - mu[l]) -> K cache;  Wv -> V cache
 *                 q buffer -> attention(l, pos) -> actq -> mat-vec buffer
 *                 Wo -> residual(x) -> x buffer and rmsnorm(ffn[l])
 *                 rmsnorm -> actq -> mat-vec buffer
 *                 W1 -> h1 buffer;  W3, h1 buffer -> silu -> actq -> W2 buffer
 *                 W2 -> residual(x) -> x buffer and the next rmsnorm
 *   rmsnorm(final) -> actq -> mat-vec buffer;  Wcls -> logits (tap, sampler)
 *
 * Every new x is loaded into the norm while it is produced (the norm's load
 * pass hides behind the embedding or the Wo / W2 run); the norm's sum and
 * output passes and the quantizer's output pass (VL elements per cycle
 * each, --vec-lanes: min(LANES, 16) by default, straight into the engine's buffer VL-wide), and
 * each dependent engine's pipeline drain are what remains between two
 * mat-vec runs. Runs over the same vector are chained: Wk starts the cycle
 * after Wq's last beat was taken (Wq's last rows still in the pipeline),
 * Wv after Wk, W3 after W1, so the weight stream pauses one cycle there.
 * The results leave in run order; okind_reg (the run on the output side)
 * routes them while kind_reg (the run on the weight side) feeds beats.${LEAN_NOTE}
 * The attention starts when the last q element is in the q buffer (during
 * Wk) and streams as soon as this position's K and V rows are written.
 * SiLU and attention outputs (one per cycle) are packed into beats of VL
 * for the activation quantizer (one unit: a dim or the hidden vector).
 *
 * Mat-vec engine: one ${MATVEC_MODULE} for every matrix, holding two
 * activation vectors: region 0 (COLS = dim) for the matrices that read a
 * dim vector and region 1 (COLS2 = hidden_dim) for W2, so the W2 vector
 * loads while W3 still reads the dim vector. ROWS = the largest row count:
 * rows of a shorter matrix are counted here, and the next run's start ends
 * it at its row boundary, keeping the activation buffer. The weight stream s_w arrives in
 * consumption order (Wq, Wk, Wv, Wo, W1, W3, W2 per layer, then Wcls) and is
 * handed to the running engine, exactly rows * ceil(cols / LANES) beats per
 * matrix; shift = -(ebase + s) with ebase a generation-time constant per
 * matrix and s the activation quantizer's shift.
 *
 * Sequence (llama2.c generate()): the seed is written a byte a cycle while
 * idle (ctl_seed_we / ctl_seed_byte, least significant byte first, straight
 * into the sampler's PRNG state: no 32-bit copy, which is 32 flip-flops on
 * the iCEBreaker, whose host link delivers the seed a byte at a time;
 * without writes a run continues the previous run's PRNG sequence);
 * ctl_start (while idle) clears the state and loads ctl_n_gen; ctl_inv_temp
 * is not copied: the sampler reads it with each vector's first logit, so it
 * must stay stable
 * from ctl_start until st_busy falls (lg_uart_tokens holds its header
 * registers through a run; a 24-bit copy here held it a second time,
 * 24 flip-flops on the iCEBreaker); prompt tokens arrive on s_tok, one position each;
 * after the position of the token marked s_tok_last the sampler draws a
 * token, which leaves on m_tok and is fed back as the next position's input,
 * ctl_n_gen times in all. The sequence ends after ctl_n_gen tokens, after a
 * BOS (id 1) comes out (sent on m_tok, not fed back, as llama2.c stops), or
 * when a token would need position seq_len (st_err_pos, not processed). A
 * prompt token >= vocab is consumed and rejected (st_err_token; the prompt
 * goes on at the same position). A rejected prompt token that carries
 * s_tok_last ends the sequence without sampling. Both error flags are
 * sticky until rst or the next ctl_start; nothing else changes, so the K/V
 * cache and the position stay as they were. st_busy stays high until the
 * last generated token has been taken from m_tok.
 *
 * Streams: s_tok, m_tok and the weight stream are valid/ready (AXI-stream
 * rules). m_logit is a tap without backpressure: every logit of every
 * position, in id order, the cycle the classifier result is accepted
 * (m_logit_last on id vocab - 1).
 *
 * Cycle counters (cleared by ctl_start, counting while st_busy): total,
 * mat-vec runs (engine start to its last result; the attention's start
 * overlaps Wk / Wv and counts there), attention (after Wv: waiting for the
 * K/V rows to be written, the rest of the attention and the output
 * quantizer up to the Wo buffer load), other (embedding, norms and
 * quantizers, sampling, waiting on the host).
 *
 * Stage latencies are the units' (their headers); this module adds one
 * cycle per stage change (and one per K element whose k - mu saturates, a
 * rare event outside the model: it waits a cycle for its saturated value
 * from the K offset ROM). Per position without stalls (lg_decoder_cycles()
 * in src/emit_decoder.c states the model the bench checks):
 *   embed + per layer (2 norms, the Wq-Wk-Wv chain, the attention after
 *   Wv, Wo, the W1-W3 chain and the SiLU tail, W2) + final norm +
 *   classifier (+ sampler).
 * Measured, stories260K at 16 lanes: 17671 cycles at position 0 (16288 of
 * them weight beats), 37823 at position 511 (docs/architecture.md,
 * Performance).
 *
 * state_reg and kind_reg carry a Verilator public_flat_rd comment so that the
 * co-simulation harness (sim/tb_decoder.cpp) can attribute cycles to stages;
 * other tools ignore it.
 */
module ${MODULE} #(
    // position width (holds 0..seq_len); baked, do not override
    parameter POS_W = ${POS_W},
    // token id width (holds 0..vocab); baked, do not override
    parameter TOK_W = ${TOK_W},
    // MAC lanes of the mat-vec engines; baked, do not override
    parameter LANES = ${LANES},
    // dexp bits per weight beat; baked, do not override
    parameter DXW = ${DXW},
    // $readmemh image of the K offsets mu (n_layers * kv_dim Q16 words)
    parameter KOFF_FILE = "${KOFF_FILE}"
) (
    input  wire                 clk,
    input  wire                 rst,

    /*
     * Control
     */
    input  wire                 ctl_start,
    input  wire [23:0]          ctl_inv_temp,
    input  wire                 ctl_seed_we,
    input  wire [7:0]           ctl_seed_byte,
    input  wire [POS_W-1:0]     ctl_n_gen,

    /*
     * Prompt tokens in, generated tokens out
     */
    input  wire                 s_tok_valid,
    output wire                 s_tok_ready,
    input  wire [TOK_W-1:0]     s_tok_data,
    input  wire                 s_tok_last,
    output wire                 m_tok_valid,
    input  wire                 m_tok_ready,
    output wire [TOK_W-1:0]     m_tok_data,

    /*
     * Logit tap
     */
    output wire                 m_logit_valid,
    output wire [31:0]          m_logit_data,
    output wire                 m_logit_last,

    /*
     * Status
     */
    output wire                 st_busy,
    output wire [POS_W-1:0]     st_pos,
    output wire                 st_err_pos,
    output wire                 st_err_token,

    /*
     * Weight stream (from the weight memory or an external reader)
     */
    input  wire                 w_loaded,
    output wire                 w_start,
    output wire [WL_AW-1:0]     w_start_addr,  // beat range of this start
    output wire [WL_AW-1:0]     w_last_addr,
    input  wire                 s_w_valid,
    output wire                 s_w_ready,
    input  wire [LANES*8-1:0]   s_w_mant,
    input  wire [DXW-1:0]       s_w_dexp,

    /*
     * Cycle counters
     */
    output wire [63:0]          cnt_total,
    output wire [63:0]          cnt_matvec,
    output wire [63:0]          cnt_attn,
    output wire [63:0]          cnt_other
);

// ---- configuration (baked at generation time) -------------------------------------

// weight stream: beat address width and the last beat of one token's stream
localparam integer WL_AW = ${WL_AW};
localparam [31:0] NBEATS_M1 = ${NBEATS} - 1;
localparam [WL_AW-1:0] W_LAST = NBEATS_M1[WL_AW-1:0];
// 1: the embedding rows come from the weight stream (lg_embstream), 0: ROM
localparam integer EMB_STREAM = ${EMB_STREAM};

localparam integer DIM = ${DIM};
localparam integer HID = ${HIDDEN};
localparam integer KVD = ${KV_DIM};
localparam integer NL = ${N_LAYERS};
localparam integer VOCAB = ${VOCAB};
localparam integer SEQ = ${SEQ_LEN};
// mat-vec engine over dim inputs: rows of its largest matrix
localparam integer ROWS_D = ${ROWS_D};
// weight beats per row of a dim-input and of a hidden-input matrix
localparam integer BPR_D = (DIM + LANES - 1) / LANES;
localparam integer BPR_H = (HID + LANES - 1) / LANES;
// K/V cache read beat: mantissa and exponent bits (lg_attn_beat)
localparam integer KV_MW = ${KV_MW};
localparam integer KV_EW = ${KV_EW};
// vector lanes of the norm, the activation quantizers and the mat-vec
// buffer write ports (lg_decoder_vec_lanes(): --vec-lanes, by default
// min(LANES, 16); a power of two <= LANES); chunks of VL per dim and hidden
// vector
localparam integer VL = ${VL};
localparam integer NCH_D = (DIM + VL - 1) / VL;
localparam integer NCH_H = (HID + VL - 1) / VL;
localparam integer CD_W = NCH_D > 1 ? $clog2(NCH_D) : 1;
localparam integer CH_W = NCH_H > 1 ? $clog2(NCH_H) : 1;
localparam integer VLW = VL > 1 ? $clog2(VL) : 1;

// widths: layer (cache/attention ports), kv head, cache row, norm row,
// matrix index (7 per layer + classifier), run beats, results per run
localparam integer LW = NL > 1 ? $clog2(NL) : 1;
localparam integer KHW = ${N_KV_HEADS} > 1 ? $clog2(${N_KV_HEADS}) : 1;
localparam integer KPW = SEQ > 1 ? $clog2(SEQ) : 1;
localparam integer NSEL_W = $clog2(2 * NL + 1);
localparam integer BL_W = ${BL_W};
localparam integer OC_W = $clog2(ROWS_D + 1);

localparam integer DA_W = $clog2(DIM);
localparam integer HA_W = $clog2(HID);
localparam integer KO_W = $clog2(NL * KVD + 2); // K offsets and the two saturated values
localparam integer SMP_W = $clog2(VOCAB);

// sized constants
localparam [31:0] DIM32 = DIM;
localparam [31:0] HID32 = HID;
localparam [31:0] KVD32 = KVD;
localparam [31:0] VOCAB32 = VOCAB;
localparam [31:0] SEQ32 = SEQ;
localparam [31:0] NLM1_32 = NL - 1;
localparam [31:0] RB_Q32 = DIM * BPR_D;
localparam [31:0] RB_K32 = KVD * BPR_D;
localparam [31:0] RB_1_32 = HID * BPR_D;
localparam [31:0] RB_2_32 = DIM * BPR_H;
localparam [31:0] RB_C32 = VOCAB * BPR_D;
// (run beats - 1: the count runs down to -1, see beats_left_reg)
localparam [31:0] RB_Q_M1 = RB_Q32 - 1;
localparam [31:0] RB_K_M1 = RB_K32 - 1;
localparam [31:0] RB_1_M1 = RB_1_32 - 1;
localparam [31:0] RB_2_M1 = RB_2_32 - 1;
localparam [31:0] RB_C_M1 = RB_C32 - 1;
localparam [BL_W:0] RB_Q = {1'b0, RB_Q_M1[BL_W-1:0]};
localparam [BL_W:0] RB_K = {1'b0, RB_K_M1[BL_W-1:0]};
localparam [BL_W:0] RB_1 = {1'b0, RB_1_M1[BL_W-1:0]};
localparam [BL_W:0] RB_2 = {1'b0, RB_2_M1[BL_W-1:0]};
localparam [BL_W:0] RB_C = {1'b0, RB_C_M1[BL_W-1:0]};
localparam [OC_W-1:0] ROWS_DIM = DIM32[OC_W-1:0];
localparam [OC_W-1:0] ROWS_KVD = KVD32[OC_W-1:0];
localparam [OC_W-1:0] ROWS_HID = HID32[OC_W-1:0];
localparam [OC_W-1:0] ROWS_VOC = VOCAB32[OC_W-1:0];
localparam [LW-1:0] LAYER_LAST = NLM1_32[LW-1:0];
localparam [POS_W-1:0] POS_END = SEQ32[POS_W-1:0];
localparam [31:0] ONE32 = 1;
localparam [TOK_W-1:0] TOK_BOS = ONE32[TOK_W-1:0];
localparam [DA_W-1:0] DA_LAST = DIM32[DA_W-1:0] - 1'b1;
localparam [HA_W-1:0] HA_LAST = HID32[HA_W-1:0] - 1'b1;
localparam [31:0] VL_M1_32 = VL - 1;
localparam [VLW-1:0] VL_LAST = VL_M1_32[VLW-1:0];

// bad parameter combinations are rejected at elaboration
initial begin
    if (POS_W != ${POS_W} || TOK_W != ${TOK_W} || LANES != ${LANES} || DXW != ${DXW}) begin
        $error("Error: POS_W, TOK_W, LANES and DXW are baked in at generation (instance %m)");
        $finish;
    end
end

// ---- controller state ------------------------------------------------------------

localparam [3:0] S_IDLE = 4'd0, // waiting for ctl_start
                 S_TOK = 4'd1,  // waiting for a prompt token
                 S_EMB = 4'd2,  // embedding row -> x buffer
                 S_NORM = 4'd3, // x -> rmsnorm -> actq -> mat-vec buffer
                 S_MV = 4'd4,   // one mat-vec run
                 S_KVW = 4'd5,  // waiting for the K/V row writes
                 S_ATT = 4'd6,  // attention -> actq -> mat-vec buffer
                 S_SAMP = 4'd7, // waiting for the sampled token
                 S_NEXT = 4'd8, // prompt position done
                 S_END = 4'd9;  // sequence over; waiting for m_tok to drain

// mat-vec runs, in stream order within a layer; K_C is the classifier
localparam [2:0] K_Q = 3'd0, K_K = 3'd1, K_V = 3'd2, K_O = 3'd3, K_1 = 3'd4, K_3 = 3'd5,
                 K_2 = 3'd6, K_C = 3'd7;

// phases of S_MV: start pulse, run
localparam P_START = 1'b0, P_RUN = 1'b1;

reg [3:0] state_reg /*verilator public_flat_rd*/;
reg [2:0] kind_reg /*verilator public_flat_rd*/;  // run of S_MV, or the run after S_NORM
reg       phase_reg;   // S_MV phase
${OKIND_REG}
reg       first_reg;   // first cycle in the current state
reg [LW-1:0] layer_reg;
reg [POS_W-1:0] pos_reg;
reg [POS_W-1:0] gen_left_reg; // tokens still to generate
reg [TOK_W-1:0] tok_reg;      // token of the current position
reg       tok_last_reg;       // it is the last prompt token
reg       sampling_reg;       // this position's logits go to the sampler
reg       err_pos_reg, err_tok_reg;

// ---- stream bookkeeping flags (set by the datapath, cleared by stages) ------------

reg       xw_done_reg;   // the x buffer got all DIM writes (embed or residual)
reg       actd_full_reg; // the engine's dim-vector region holds a new vector
reg       acth_full_reg; // its W2 (hidden-vector) region holds a new vector
reg       kdone_reg, vdone_reg;
reg       out_done_reg;  // the running engine delivered all rows
// The shift of the last vector the quantizer delivered is its m_a_shift
// itself: the quantizer's s register holds it from the vector's last input
// until the next vector's first input (it follows the running maximum of
// the inputs, which only a new input moves). The engine captures a run's
// shift with its start, and every vector is complete before the start of
// the runs that read it, and enters the quantizer after the last start over
// the vector before (the hidden vector with W3's results, the attention's
// after Wv's start, the norms' after the Wo / W2 results), so no copy of it
// is needed here, for either region.

// ---- the weight stream into the running engine ------------------------------------

// weight beats still owed to the running engine, minus one, with a sign
// bit: the run takes beats while it is >= 0, and its last beat is the one
// taken at 0 (the decrement's borrow): no comparisons of the count. (The
// embedding row's beats, outside S_MV, move a negative count further down;
// it stays negative, the row being far shorter than 2^BL_W beats, and every
// run's start reloads it.)
reg [BL_W:0] beats_left_reg;
wire [BL_W:0] beats_left_dec = beats_left_reg - 1'b1;
reg [OC_W-1:0] out_cnt_reg;
wire [OC_W-1:0] out_cnt_q = out_cnt_reg;

wire in_mv = state_reg == S_MV;
wire mv_run = in_mv && phase_reg == P_RUN;
wire use_h = kind_reg == K_2;

wire mvd_s_w_ready;
wire w_gate = mv_run && !beats_left_reg[BL_W];
// the embedding row's beats (lg_embstream) come before any run's
assign s_w_ready = emb_s_w_ready || (w_gate && mvd_s_w_ready);
wire w_fire = s_w_valid && s_w_ready;
// the run's last weight beat is taken this cycle (a chained run starts next)
wire last_beat_fire = w_fire && beats_left_dec[BL_W];

// ---- engine outputs -----------------------------------------------------------------

wire        mvd_out_valid;
wire [31:0] mvd_out_data;
reg         mvd_out_ready;
wire        mv_out_valid = mvd_out_valid;
wire [31:0] mv_out_data = mvd_out_data;
wire        mv_out_fire = in_mv && mvd_out_valid && mvd_out_ready;

// last row index of the run whose results are leaving (a constant per kind,
// so no subtractor after the mux)
function [OC_W-1:0] last_row_of(input [2:0] k);
    case (k)
        K_Q, K_O, K_2: last_row_of = ROWS_DIM - 1'b1;
        K_K, K_V: last_row_of = ROWS_KVD - 1'b1;
        K_1, K_3: last_row_of = ROWS_HID - 1'b1;
        default: last_row_of = ROWS_VOC - 1'b1;
    endcase
endfunction
wire            out_last_row = out_cnt_reg == last_row_of(okind_reg);
// a run that follows its predecessor over the same activation vector
// (Wq -> Wk -> Wv, W1 -> W3) starts as soon as the predecessor's last
// weight beat is taken, while its last rows drain
wire            chain_next = ${CHAIN_NEXT};

reg [BL_W:0] run_beats;
always @* begin
    case (kind_reg)
        K_Q, K_O: run_beats = RB_Q;
        K_K, K_V: run_beats = RB_K;
        K_1, K_3: run_beats = RB_1;
        K_2: run_beats = RB_2;
        default: run_beats = RB_C;
    endcase
end

// ebase of the run's matrix, indexed by {layer, kind} (the classifier is
// {last layer, K_C}): no matrix counter beside the layer and the kind
wire [LW+2:0] wsel = {layer_reg, kind_reg};
reg signed [9:0] ebase;
always @* begin
    case (wsel)
${EBASE_CASES}
        default: ebase = ${EBASE_DEFAULT};
    endcase
end

// shift = -(ebase + s) (the emitter checks that it fits 8 signed bits)
wire [4:0] aq_m_shift; // the quantizer's s (u_aq, below)
wire [4:0] run_s = aq_m_shift;
wire signed [9:0] shift_w = 10'sd0 - ebase - $signed({5'd0, run_s});
wire signed [7:0] run_shift = shift_w[7:0];
wire unused_shift = ^shift_w[9:8];

wire mv_start = in_mv && phase_reg == P_START;
wire mvd_start = mv_start && !use_h;

// ---- units: activation quantizers and mat-vec engines ------------------------------

// dim-input quantizer source: the norm (VL elements per beat), or the
// attention output packed into beats of VL
reg         aqd_s_valid;
wire        aqd_s_ready;
reg  [VL*32-1:0] aqd_s_data;
wire        aqd_m_valid;
wire        aqd_m_last;

// hidden-input quantizer source (silu output packed into beats of VL -> W2
// buffer)
wire        aqh_s_valid;
wire        aqh_s_ready;
wire [VL*32-1:0] aqh_s_data;
wire        aqh_m_valid;
wire        aqh_m_last;

// One quantizer for both: a dim vector (COLS) or the hidden vector (COLS2,
// s_x_sel). They never overlap: the hidden vector loads during W3 and has
// left before W2 starts; dim vectors come from the norm (before Wq, W1,
// Wcls) and the attention (before Wo). aq_h_reg remembers which one is in
// the unit, so its output goes to the right buffer region, counter and flag.
wire        aq_s_valid = aqh_s_valid || aqd_s_valid;
wire        aq_s_ready;
wire [VL*32-1:0] aq_s_data = aqh_s_valid ? aqh_s_data : aqd_s_data;
wire        aq_m_valid;
wire [VL*16-1:0] aq_m_data;
wire        aq_m_last;
reg         aq_h_reg;

assign aqh_s_ready = aq_s_ready;
assign aqd_s_ready = aq_s_ready && !aqh_s_valid;
assign aqd_m_valid = aq_m_valid && !aq_h_reg;
assign aqh_m_valid = aq_m_valid && aq_h_reg;
assign aqd_m_last = aq_m_last;
assign aqh_m_last = aq_m_last;

always @(posedge clk) begin
    if (aq_s_valid && aq_s_ready)
        aq_h_reg <= aqh_s_valid;
    if (rst)
        aq_h_reg <= 1'b0;
end

${ACTQ_MODULE} #(
    .COLS(DIM),
    .VL(VL),
    .COLS2(HID)
) u_aq (
    .clk(clk),
    .rst(rst),
    .s_x_valid(aq_s_valid),
    .s_x_ready(aq_s_ready),
    .s_x_sel(aqh_s_valid),
    .s_x_data(aq_s_data),
    .m_a_valid(aq_m_valid),
    .m_a_ready(1'b1),
    .m_a_data(aq_m_data),
    .m_a_shift(aq_m_shift),
    .m_a_last(aq_m_last)
);

// quantized vectors go straight into the engine's activation buffer, one
// chunk of VL mantissas per cycle: the dim vector into region 0, the W2
// vector into region 1 (the two quantizers never write in the same cycle:
// the hidden one runs during W3, the dim one before Wq, Wo, W1 and Wcls;
// the hidden one wins if they ever did, which the decoder bench would see)
// The chunk address: the engine's result counter out_cnt_reg (below), which
// is idle at 0 whenever the quantizer delivers (every vector it quantizes
// is complete only after the last result of the run before: the dim vectors
// come from the norm or the attention after the engine's results left, the
// hidden vector after W3's last result), and wraps at the vector's m_a_last
// as at a run's last row (OC_W >= MW_AW: the engine's rows cover the chunks).
localparam integer MW_AW = CD_W > CH_W ? CD_W : CH_W;
wire              mv_act_we = aq_m_valid;
wire              mv_act_wsel = aqh_m_valid;
wire [MW_AW-1:0]  mv_act_waddr = out_cnt_q[MW_AW-1:0];
wire [VL*16-1:0]  mv_act_wdata = aq_m_data;

wire mvd_busy, mvd_done, mvd_out_last;
wire unused_mv = ^{mvd_busy, mvd_done, mvd_out_last};

${MATVEC_MODULE} #(
    .LANES(LANES),
    .GROUP(${GROUP}),
    .COLS(DIM),
    .ROWS(ROWS_D),
    .WL(VL),
    .COLS2(HID)${MATVEC_OPEN_RUN}
) u_mv (
    .clk(clk),
    .rst(rst),
    .act_we(mv_act_we),
    .act_wsel(mv_act_wsel),
    .act_waddr(mv_act_waddr),
    .act_wdata(mv_act_wdata),
    .start(mv_start),
    .shift(run_shift),
    .start_sel(use_h),
    .busy(mvd_busy),
    .done(mvd_done),
    .s_w_valid(s_w_valid && w_gate),
    .s_w_ready(mvd_s_w_ready),
    .s_w_mant(s_w_mant),
    .s_w_dexp(s_w_dexp),
    .m_out_valid(mvd_out_valid),
    .m_out_ready(mvd_out_ready),
    .m_out_data(mvd_out_data),
    .m_out_last(mvd_out_last)
);

// ---- x buffer (residual stream) ---------------------------------------------------------

wire        xb_m_valid;
reg         xb_m_ready;
wire [31:0] xb_m_data;
wire        xb_m_last, xb_busy;
reg         xb_we;
wire [DA_W-1:0] xb_waddr; // the x writes' count (ro_cnt_reg, below)
reg  [31:0] xb_wdata;
wire        xb_rd_start = mv_start && (kind_reg == K_O || kind_reg == K_2);
wire unused_xb = ^{xb_m_last, xb_busy};

${VECBUF_XH_MODULE} #(
    .DEPTH(DIM),
    .W(32)
) u_xbuf (
    .clk(clk),
    .rst(rst),
    .we(xb_we),
    .waddr(xb_waddr),
    .wdata(xb_wdata),
    .rd_start(xb_rd_start),
    .rd_busy(xb_busy),
    .m_valid(xb_m_valid),
    .m_ready(xb_m_ready),
    .m_data(xb_m_data),
    .m_last(xb_m_last)
);

// ---- embedding ------------------------------------------------------------------------------

reg         emb_req_reg; // token offered to the embedding unit
wire        emb_tok_ready;
wire        emb_x_valid;
reg         emb_x_ready;
wire [31:0] emb_x_data;
wire        emb_x_last, emb_err;
wire unused_emb = ^{emb_x_last, emb_err};

// the embedding unit's range request and beats (lg_embstream only; the ROM
// form ties them off)
wire             emb_w_start;
wire [WL_AW-1:0] emb_w_start_addr, emb_w_last_addr;
wire             emb_s_w_ready;

// ${EMBED_MODULE}: lg_embed (the table in its own ROM) or lg_embstream (the
// row read from the weight stream: --embed-stream); the instance below is
// the emitter's, one of the two port lists
${EMBED_INST}

// ---- RMSNorm --------------------------------------------------------------------------------

reg         norm_s_valid;
reg  [31:0] norm_s_data;
wire        norm_s_ready;
wire        norm_m_valid;
reg         norm_m_ready;
wire [VL*32-1:0] norm_m_data;
wire        norm_m_last, norm_done;
wire unused_norm = ^{norm_m_last, norm_done};
// gain row of the norm, sampled with its first element: 2l for the
// embedding row (layer 0; kind K_Q, or K_C left from the last position),
// 2l+1 for the Wo results, 2l+2 for the W2 results (the next layer's, or
// after the last layer the final norm's 2 NL): from the layer and the kind,
// no counter of its own
wire [31:0] nsel_hi = {{(32-LW){1'b0}}, layer_reg} + {31'd0, kind_reg == K_2};
wire [NSEL_W-1:0] nsel = {nsel_hi[NSEL_W-2:0], kind_reg == K_O};
wire unused_nsel = ^nsel_hi[31:NSEL_W-1];

${NORM_MODULE} #(
    .VL(VL)
) u_norm (
    .clk(clk),
    .rst(rst),
    .s_valid(norm_s_valid),
    .s_ready(norm_s_ready),
    .s_data(norm_s_data),
    .s_sel(nsel),
    .m_valid(norm_m_valid),
    .m_ready(norm_m_ready),
    .m_data(norm_m_data),
    .m_last(norm_m_last),
    .done(norm_done)
);

// ---- residual add ---------------------------------------------------------------------------

wire        res_on = in_mv && (okind_reg == K_O || okind_reg == K_2);
wire        res_x_ready, res_d_ready;
wire        res_m_valid;
reg         res_m_ready;
wire [31:0] res_m_data;

${RESID_MODULE} u_res (
    .clk(clk),
    .rst(rst),
    .s_x_valid(res_on && xb_m_valid),
    .s_x_ready(res_x_ready),
    .s_x_data(xb_m_data),
    .s_d_valid(res_on && mv_out_valid),
    .s_d_ready(res_d_ready),
    .s_d_data(mv_out_data),
    .m_valid(res_m_valid),
    .m_ready(res_m_ready),
    .m_data(res_m_data)
);

// x buffer routing. Every new x (the embedding row, the residual results)
// is written to the x buffer and, in the same handshake, loaded into the
// norm, whose load pass thus overlaps the stage that produces x (the norm
// only accepts while it is idle, i.e. always here: its previous vector left
// long before).
always @* begin
    xb_m_ready = res_on && res_x_ready;
    emb_x_ready = 1'b0;
    res_m_ready = 1'b0;
    norm_s_valid = 1'b0;
    norm_s_data = res_m_data;
    xb_we = 1'b0;
    xb_wdata = res_m_data;
    if (state_reg == S_EMB) begin
        emb_x_ready = norm_s_ready;
        norm_s_valid = emb_x_valid;
        norm_s_data = emb_x_data;
        xb_we = emb_x_valid && norm_s_ready;
        xb_wdata = emb_x_data;
    end else if (res_on) begin
        res_m_ready = norm_s_ready;
        norm_s_valid = res_m_valid;
        xb_we = res_m_valid && norm_s_ready;
    end
end

// the x writes restart at element 0 with the embedding and with Wo and W2
wire xw_clear = (state_reg == S_EMB && first_reg) || (mv_start && (kind_reg == K_O || kind_reg == K_2));

// ---- RoPE (q heads then k heads: one vector of n_heads + n_kv_heads heads) ----------------

wire        rope_s_ready;
wire        rope_m_valid;
reg         rope_m_ready;
wire [31:0] rope_m_data;
wire        rope_m_last;
wire unused_rope = rope_m_last;
wire        rope_on = in_mv && (okind_reg == K_Q || okind_reg == K_K);

${ROPE_MODULE} u_rope (
    .clk(clk),
    .rst(rst),
    .s_valid(rope_on && mvd_out_valid),
    .s_ready(rope_s_ready),
    .s_data(mvd_out_data),
    .s_pos({{(32-POS_W){1'b0}}, pos_reg}),
    .m_valid(rope_m_valid),
    .m_ready(rope_m_ready),
    .m_data(rope_m_data),
    .m_last(rope_m_last)
);

// rotated elements 0..DIM-1 are q (-> q buffer), DIM..DIM+KVD-1 are k; the
// count restarts with every Q run, so RC_W bits hold DIM + KVD without wrap.
// The same counter numbers the x buffer writes (0..DIM-1 after xw_clear):
// they happen in the embedding and in Wo and W2, the rotations in Wq, Wk
// (and their drain into Wv), never together, so one counter serves both.
localparam integer RC_W = $clog2(DIM + KVD + 1);
localparam [RC_W-1:0] RC_DIM = DIM32[RC_W-1:0];
reg  [RC_W-1:0] ro_cnt_reg;
${RO_IS_K}
wire        kv_k_ready;
wire        k_hold; // a K element waits for its saturated value (below)
wire        rope_fire = rope_m_valid && rope_m_ready;
wire [RC_W-1:0] ro_cnt_next = (xw_clear || (mv_start && kind_reg == K_Q)) ? {RC_W{1'b0}} :
                              (rope_fire || xb_we) ? ro_cnt_reg + 1'b1 : ro_cnt_reg;
assign xb_waddr = ro_cnt_reg[DA_W-1:0];

always @* begin
    rope_m_ready = ro_is_k ? kv_k_ready && !k_hold : 1'b1;
end

always @(posedge clk) begin
    ro_cnt_reg <= ro_cnt_next;
    if (rst)
        ro_cnt_reg <= {RC_W{1'b0}};
end

// K offset, stored negated: -mu[l][i] (Q16; |mu| <= 2^31 - 1, so it fits),
// one ROM word per layer and K channel; negated so that k - mu is an add
// (iCE40 carry chains take an add's operands as they are, a subtrahend
// through an inverter LUT per bit). The read
// address runs one element ahead (the next address when an element is
// taken), so the word of the element on the rope output is always ready.
// With KVD a power of two dividing DIM the word address is {layer, the
// low bits of the rotation count} (element DIM + i has i in those bits): no
// address counter. Otherwise every layer takes exactly KVD K elements,
// layer after layer, so the address counts on through the layers (layer
// l's K run starts at l * KVD, where layer l - 1's stopped) and restarts
// with each position. Words NL * KVD and NL * KVD + 1 hold the saturated
// values 2^31 - 1 and -(2^31 - 1) (k - mu below).
reg [31:0] koff_rom [0:NL*KVD+1];
initial $readmemh(KOFF_FILE, koff_rom);

localparam integer KVD_LOG = $clog2(KVD);
localparam KOFF_CAT = ((1 << KVD_LOG) == KVD) && (DIM % KVD == 0);
reg  [31:0]     nmu_reg; // -mu of the element on the rope output
wire [KO_W-1:0] koff_next;

generate
    if (KOFF_CAT) begin : g_koff_cat
        wire [31:0] ro_next32 = {{(32-RC_W){1'b0}}, ro_cnt_next};
        wire [31:0] koff_cat = ({{(32-LW){1'b0}}, layer_reg} << KVD_LOG) | (ro_next32 & (KVD32 - 1));
        assign koff_next = koff_cat[KO_W-1:0];
        wire unused_koff = ^koff_cat[31:KO_W];
    end else begin : g_koff_cnt
        reg  [KO_W-1:0] koff_addr_reg;
        wire            k_fire = ro_is_k && rope_fire;
        assign koff_next = k_fire ? koff_addr_reg + 1'b1 : koff_addr_reg;

        always @(posedge clk) begin
            koff_addr_reg <= koff_next;
            if (rst || (state_reg == S_EMB && first_reg))
                koff_addr_reg <= {KO_W{1'b0}};
        end
    end
endgenerate

// k - mu, saturated to +-(2^31 - 1). The 33-bit difference is outside 32
// bits exactly when its top two bits differ (the sign bit says which end),
// and -2^31 is the one 32-bit value below -(2^31 - 1): bit tests instead of
// two 33-bit comparisons against constants (which map to carry chains).
// A saturating element is not offered to the cache at once: it waits a
// cycle (k_hold) while the ROM reads its saturated value into nmu_reg
// (ksat_reg), which then goes out in place of the sum. So the output is
// ksat_reg ? nmu_reg : sum, a mux that lives in the adder's own LUT (its
// fourth input; the overflow tests read the same output, which is the sum
// whenever they count), rather than a saturation mux after the adder. The
// extra cycle comes only with a saturating element.
reg         ksat_reg; // nmu_reg holds the saturated value of the element on the rope output
wire signed [32:0] ksub = $signed({rope_m_data[31], rope_m_data}) + $signed({nmu_reg[31], nmu_reg});
wire [31:0] ksat = ksat_reg ? nmu_reg : ksub[31:0];
wire        k_over = (ksub[32] != ksat[31]) || (ksat[31] && ksat[30:0] == 31'd0);
assign k_hold = rope_m_valid && ro_is_k && !ksat_reg && k_over;
// the saturated value's word: 2^31 - 1 (NL * KVD, even) or -(2^31 - 1) by
// the true sign, kept from nmu_reg while the element waits for the cache
localparam [31:0] KSAT_A32 = NL * KVD;
wire            ksat_neg = ksat_reg ? nmu_reg[31] : ksub[32];
wire [KO_W-1:0] ksat_addr = KSAT_A32[KO_W-1:0] | {{(KO_W-1){1'b0}}, ksat_neg};
wire [KO_W-1:0] koff_rd = (k_hold || (ksat_reg && !rope_fire)) ? ksat_addr : koff_next;

always @(posedge clk) begin
    nmu_reg <= koff_rom[koff_rd];
    if (k_hold)
        ksat_reg <= 1'b1;
    else if (rope_fire)
        ksat_reg <= 1'b0;
    if (rst)
        ksat_reg <= 1'b0;
end

// ---- q buffer --------------------------------------------------------------------------------

wire        qb_m_valid;
wire        qb_m_ready;
wire [31:0] qb_m_data;
wire        qb_m_last, qb_busy;
wire unused_qb = ^{qb_m_last, qb_busy};
wire [31:0] ro_cnt_q = {{(32-RC_W){1'b0}}, ro_cnt_reg};
wire unused_ro = ^ro_cnt_q[31:DA_W];

${VECBUF_MODULE} #(
    .DEPTH(DIM),
    .W(32)
) u_qbuf (
    .clk(clk),
    .rst(rst),
    .we(rope_m_valid && !ro_is_k),
    .waddr(ro_cnt_q[DA_W-1:0]),
    .wdata(rope_m_data),
    .rd_start(att_go),
    .rd_busy(qb_busy),
    .m_valid(qb_m_valid),
    .m_ready(qb_m_ready),
    .m_data(qb_m_data),
    .m_last(qb_m_last)
);

// ---- K/V cache and attention -----------------------------------------------------------

wire kv_v_ready, kv_k_done, kv_v_done, kv_err;
wire unused_kv = kv_err;

wire             kreq_valid, kreq_ready, vreq_valid, vreq_ready;
// this position's K (V) row is in the cache: the attention's K (V) requests
// wait for it (see att_go); K rows are written a run before V rows, so the
// first head's scores are computed while the V row is still being written
wire             k_ok = kdone_reg;
wire             v_ok = vdone_reg;
wire [LW-1:0]    kreq_layer, vreq_layer;
wire [KHW-1:0]   kreq_head, vreq_head;
wire [KPW-1:0]   kreq_first, kreq_last, vreq_first, vreq_last;
wire             kb_valid, kb_ready, vb_valid, vb_ready, kb_last, vb_last;
wire [KV_MW-1:0] kb_mant, vb_mant;
wire [KV_EW-1:0] kb_exp, vb_exp;

${KVCACHE_MODULE} u_kv (
    .clk(clk),
    .rst(rst),
    .s_k_valid(rope_m_valid && ro_is_k && !k_hold),
    .s_k_ready(kv_k_ready),
    .s_k_data(ksat),
    .s_k_layer(layer_reg),
    .s_k_pos({{(32-POS_W){1'b0}}, pos_reg}),
    .s_v_valid(in_mv && okind_reg == K_V && mvd_out_valid),
    .s_v_ready(kv_v_ready),
    .s_v_data(mvd_out_data),
    .s_v_layer(layer_reg),
    .s_v_pos({{(32-POS_W){1'b0}}, pos_reg}),
    .s_kreq_valid(kreq_valid && k_ok),
    .s_kreq_ready(kreq_ready),
    .s_kreq_layer(kreq_layer),
    .s_kreq_head(kreq_head),
    .s_kreq_first(kreq_first),
    .s_kreq_last(kreq_last),
    .s_vreq_valid(vreq_valid && v_ok),
    .s_vreq_ready(vreq_ready),
    .s_vreq_layer(vreq_layer),
    .s_vreq_head(vreq_head),
    .s_vreq_first(vreq_first),
    .s_vreq_last(vreq_last),
    .m_k_valid(kb_valid),
    .m_k_ready(kb_ready),
    .m_k_mant(kb_mant),
    .m_k_exp(kb_exp),
    .m_k_last(kb_last),
    .m_v_valid(vb_valid),
    .m_v_ready(vb_ready),
    .m_v_mant(vb_mant),
    .m_v_exp(vb_exp),
    .m_v_last(vb_last),
    .k_done(kv_k_done),
    .v_done(kv_v_done),
    .err(kv_err)
);

wire        att_busy, att_done, att_err;
wire        att_out_valid;
wire [31:0] att_out_data;
wire        att_out_last;
wire unused_att = ^{att_busy, att_done, att_err, att_out_last};
wire        in_att = state_reg == S_ATT;
// The attention starts as soon as the last q element is in the q buffer
// (during Wk): its query quantizer and the first heads' query banks fill
// while Wk and Wv stream, and its K/V row requests are held back until this
// position's rows are written (k_ok, v_ok), so it reads no stale row. From then
// until the Wo run its output is the dim quantizer's source (the norm is
// idle: its next input is the Wo residual).
wire        att_go = rope_fire && !ro_is_k && ro_cnt_reg == RC_DIM - 1'b1;
reg         att_on_reg;
wire        att_route = att_on_reg;

always @(posedge clk) begin
    if (att_go)
        att_on_reg <= 1'b1;
    else if (mv_start && kind_reg == K_O)
        att_on_reg <= 1'b0;
    if (rst)
        att_on_reg <= 1'b0;
end
// attention output packer (below): the quantizer beat it offers
wire             apk_in_ready;
wire             apk_valid;
wire [VL*32-1:0] apk_data;

${ATTN_MODULE} u_att (
    .clk(clk),
    .rst(rst),
    .start(att_go),
    .start_layer(layer_reg),
    .start_pos({{(32-POS_W){1'b0}}, pos_reg}),
    .busy(att_busy),
    .done(att_done),
    .err(att_err),
    .s_q_valid(qb_m_valid),
    .s_q_ready(qb_m_ready),
    .s_q_data(qb_m_data),
    .m_kreq_valid(kreq_valid),
    .m_kreq_ready(kreq_ready && k_ok),
    .m_kreq_layer(kreq_layer),
    .m_kreq_head(kreq_head),
    .m_kreq_first(kreq_first),
    .m_kreq_last(kreq_last),
    .m_vreq_valid(vreq_valid),
    .m_vreq_ready(vreq_ready && v_ok),
    .m_vreq_layer(vreq_layer),
    .m_vreq_head(vreq_head),
    .m_vreq_first(vreq_first),
    .m_vreq_last(vreq_last),
    .s_k_valid(kb_valid),
    .s_k_ready(kb_ready),
    .s_k_mant(kb_mant),
    .s_k_exp(kb_exp),
    .s_k_last(kb_last),
    .s_v_valid(vb_valid),
    .s_v_ready(vb_ready),
    .s_v_mant(vb_mant),
    .s_v_exp(vb_exp),
    .s_v_last(vb_last),
    .m_out_valid(att_out_valid),
    .m_out_ready(att_route && apk_in_ready),
    .m_out_data(att_out_data),
    .m_out_last(att_out_last)
);

// Attention output packer: VL elements (or the vector's last, possibly
// partial, beat) into one quantizer beat. A full beat waits in the packer
// until the quantizer takes it; meanwhile the next element may enter only
// in the cycle the beat leaves. With VL = 1 an element is a beat: the
// attention's output register is the beat (no packer register, 32 FFs and
// their cells fewer).
generate
    if (VL == 1) begin : g_apk_wire
        assign apk_in_ready = aqd_s_ready;
        assign apk_valid = att_out_valid;
        assign apk_data = att_out_data;
    end else begin : g_apk
        reg  [VL*32-1:0] apk_data_reg;
        reg  [VLW-1:0]   apk_lane_reg;
        reg              apk_full_reg;
        wire             apk_in_fire = att_route && att_out_valid && apk_in_ready;
        wire             apk_out_fire = apk_full_reg && aqd_s_ready && att_route;

        assign apk_in_ready = !apk_full_reg || aqd_s_ready;
        assign apk_valid = apk_full_reg;
        assign apk_data = apk_data_reg;

        always @(posedge clk) begin
            if (apk_out_fire)
                apk_full_reg <= 1'b0;
            if (apk_in_fire) begin
                apk_data_reg[32*apk_lane_reg +: 32] <= att_out_data;
                if (apk_lane_reg == VL_LAST || att_out_last) begin
                    apk_lane_reg <= {VLW{1'b0}};
                    apk_full_reg <= 1'b1;
                end else begin
                    apk_lane_reg <= apk_lane_reg + 1'b1;
                end
            end
            if (rst) begin
                apk_full_reg <= 1'b0;
                apk_lane_reg <= {VLW{1'b0}};
            end
        end
    end
endgenerate

// dim-input quantizer source
always @* begin
    aqd_s_valid = norm_m_valid;
    aqd_s_data = norm_m_data;
    norm_m_ready = aqd_s_ready;
    if (att_route) begin
        aqd_s_valid = apk_valid;
        aqd_s_data = apk_data;
        norm_m_ready = 1'b0;
    end
end

// ---- h1 buffer and SiLU gate ------------------------------------------------------------

wire        hb_m_valid;
wire        hb_m_ready;
wire [31:0] hb_m_data;
wire        hb_m_last, hb_busy;
wire unused_hb = ^{hb_m_last, hb_busy, out_cnt_q};
wire        silu_on = in_mv && okind_reg == K_3;
// SiLU output and its packer (below)
wire             silu_m_valid;
wire [31:0]      silu_m_data;
wire             hpk_in_ready;
wire        silu_h3_ready;

${VECBUF_XH_MODULE} #(
    .DEPTH(HID),
    .W(32)
) u_hbuf (
    .clk(clk),
    .rst(rst),
    .we(in_mv && okind_reg == K_1 && mvd_out_valid),
    .waddr(out_cnt_q[HA_W-1:0]),
    .wdata(mvd_out_data),
    .rd_start(mv_out_fire && okind_reg == K_1 && out_last_row),
    .rd_busy(hb_busy),
    .m_valid(hb_m_valid),
    .m_ready(hb_m_ready),
    .m_data(hb_m_data),
    .m_last(hb_m_last)
);

${SILU_MODULE} u_gate (
    .clk(clk),
    .rst(rst),
    .s_h1_valid(silu_on && hb_m_valid),
    .s_h1_ready(hb_m_ready),
    .s_h1_data(hb_m_data),
    .s_h3_valid(silu_on && mvd_out_valid),
    .s_h3_ready(silu_h3_ready),
    .s_h3_data(mvd_out_data),
    .m_valid(silu_m_valid),
    .m_ready(hpk_in_ready),
    .m_data(silu_m_data)
);

// SiLU output packer (as the attention's): beats of VL for the W2 quantizer;
// the hidden vector's last element closes a partial beat. VL = 1: the
// SiLU's output register is the beat.
generate
    if (VL == 1) begin : g_hpk_wire
        assign hpk_in_ready = aqh_s_ready;
        assign aqh_s_valid = silu_m_valid;
        assign aqh_s_data = silu_m_data;
    end else begin : g_hpk
        reg  [VL*32-1:0] hpk_data_reg;
        reg  [VLW-1:0]   hpk_lane_reg;
        reg  [HA_W-1:0]  hpk_cnt_reg;
        reg              hpk_full_reg;
        wire             hpk_in_fire = silu_m_valid && hpk_in_ready;

        assign hpk_in_ready = !hpk_full_reg || aqh_s_ready;
        assign aqh_s_valid = hpk_full_reg;
        assign aqh_s_data = hpk_data_reg;

        always @(posedge clk) begin
            if (hpk_full_reg && aqh_s_ready)
                hpk_full_reg <= 1'b0;
            if (hpk_in_fire) begin
                hpk_data_reg[32*hpk_lane_reg +: 32] <= silu_m_data;
                hpk_cnt_reg <= hpk_cnt_reg == HA_LAST ? {HA_W{1'b0}} : hpk_cnt_reg + 1'b1;
                if (hpk_lane_reg == VL_LAST || hpk_cnt_reg == HA_LAST) begin
                    hpk_lane_reg <= {VLW{1'b0}};
                    hpk_full_reg <= 1'b1;
                end else begin
                    hpk_lane_reg <= hpk_lane_reg + 1'b1;
                end
            end
            if (rst) begin
                hpk_full_reg <= 1'b0;
                hpk_lane_reg <= {VLW{1'b0}};
                hpk_cnt_reg <= {HA_W{1'b0}};
            end
        end
    end
endgenerate

// ---- sampler and the token output slot ---------------------------------------------------

wire             smp_logit_ready;
wire             smp_tok_valid;
wire [SMP_W-1:0] smp_tok_data;
reg              tok_out_valid_reg;
wire             in_cls = in_mv && okind_reg == K_C;
wire             smp_tok_ready = state_reg == S_SAMP && !tok_out_valid_reg;
wire             smp_fire = smp_tok_valid && smp_tok_ready;
wire [TOK_W-1:0] smp_tok = {{(TOK_W-SMP_W){1'b0}}, smp_tok_data};

${SAMPLER_MODULE} u_smp (
    .clk(clk),
    .rst(rst),
    .inv_temp({8'd0, ctl_inv_temp}),
    .seed_we(state_reg == S_IDLE && ctl_seed_we),
    .seed_byte(ctl_seed_byte),
    .s_logit_valid(in_cls && sampling_reg && mvd_out_valid),
    .s_logit_ready(smp_logit_ready),
    .s_logit_data(mvd_out_data),
    .m_tok_valid(smp_tok_valid),
    .m_tok_ready(smp_tok_ready),
    .m_tok_data(smp_tok_data)
);

assign m_tok_valid = tok_out_valid_reg;
// the drawn token waits in tok_reg (the next position's input as well): it
// changes only on a prompt token (S_TOK: no token is out then) or the next
// draw (after this one has been taken)
assign m_tok_data = tok_reg;

always @(posedge clk) begin
    if (smp_fire) begin
        tok_out_valid_reg <= 1'b1;
    end else if (m_tok_ready) begin
        tok_out_valid_reg <= 1'b0;
    end
    if (rst)
        tok_out_valid_reg <= 1'b0;
end

// logit tap: every accepted classifier result
assign m_logit_valid = in_cls && mvd_out_valid && mvd_out_ready;
assign m_logit_data = mvd_out_data;
// (m_logit_valid: the classifier's results leave, whose last row is vocab - 1)
assign m_logit_last = out_last_row;

// ---- engine output routing -------------------------------------------------------------

always @* begin
    mvd_out_ready = 1'b0;
    if (in_mv) begin
        case (okind_reg)
            K_Q, K_K: mvd_out_ready = rope_s_ready;
            K_V: mvd_out_ready = kv_v_ready;
            K_O: mvd_out_ready = res_d_ready;
            K_1: mvd_out_ready = 1'b1;
            K_3: mvd_out_ready = silu_h3_ready;
            K_2: mvd_out_ready = res_d_ready;
            default: mvd_out_ready = sampling_reg ? smp_logit_ready : 1'b1;
        endcase
    end
end

// ---- datapath bookkeeping flags ------------------------------------------------------------

always @(posedge clk) begin
    // results of the running engine
    // results of the run on the output side: the count wraps after each
    // run's last row; the run being fed is complete when its own last row
    // left (a chained predecessor's last row does not count). Between runs
    // the same counter addresses the quantizer's chunks (mv_act_waddr).
    if (mv_out_fire || aq_m_valid)
        out_cnt_reg <= (mv_out_fire ? out_last_row : aq_m_last) ? {OC_W{1'b0}} : out_cnt_reg + 1'b1;
    if (mv_start)
        out_done_reg <= 1'b0;
    else if (mv_out_fire && out_last_row && okind_reg == kind_reg)
        out_done_reg <= 1'b1;
${OKIND_NEXT}    // weight beats still owed to the running engine
    if (mv_start)
        beats_left_reg <= run_beats;
    else if (w_fire)
        beats_left_reg <= beats_left_dec;
    // x buffer writes (embedding row or residual results)
    if (xw_clear)
        xw_done_reg <= 1'b0;
    else if (xb_we && xb_waddr == DA_LAST)
        xw_done_reg <= 1'b1;
    // quantized vectors loaded into the engines' buffers
    if (mvd_start)
        actd_full_reg <= 1'b0;
    else if (aqd_m_valid && aqd_m_last)
        actd_full_reg <= 1'b1;
    if (mv_start && kind_reg == K_3)
        acth_full_reg <= 1'b0;
    else if (aqh_m_valid && aqh_m_last)
        acth_full_reg <= 1'b1;
    // K/V rows written
    if (mv_start && kind_reg == K_Q) begin
        kdone_reg <= 1'b0;
        vdone_reg <= 1'b0;
    end else begin
        if (kv_k_done)
            kdone_reg <= 1'b1;
        if (kv_v_done)
            vdone_reg <= 1'b1;
    end
    if (rst) begin
        out_cnt_reg <= {OC_W{1'b0}};
        out_done_reg <= 1'b0;
${OKIND_RST}        beats_left_reg <= {(BL_W+1){1'b1}};
        xw_done_reg <= 1'b0;
        actd_full_reg <= 1'b0;
        acth_full_reg <= 1'b0;
        kdone_reg <= 1'b0;
        vdone_reg <= 1'b0;
    end
end

// ---- the controller -----------------------------------------------------------------------

// the dim engine's buffer holds the new vector, or its last chunk is written
// this cycle (the run's first buffer read comes two cycles later)
wire actd_full_now = actd_full_reg || (aqd_m_valid && aqd_m_last);

// a mat-vec run is complete when its last result was taken and what it
// feeds has finished: the x buffer writes (Wo, W2), the W2 buffer (W3)
reg run_complete;
always @* begin
    case (kind_reg)
        K_O, K_2: run_complete = out_done_reg && xw_done_reg;
        K_3: run_complete = out_done_reg && acth_full_reg;
        default: run_complete = out_done_reg;
    endcase
end

wire tok_fire = s_tok_valid && s_tok_ready;
wire tok_bad = s_tok_data >= VOCAB32[TOK_W-1:0];
wire pos_full = pos_reg == POS_END;
wire [POS_W-1:0] pos_inc = pos_reg + 1'b1;

assign s_tok_ready = state_reg == S_TOK && w_loaded;
// The token's stream (every layer, then the classifier) starts with the
// embedding stage; with the embedding read from the stream, once the
// embedding unit has its whole row (ready for a token again: its last beat
// was taken 2 cycles before at least, so lg_wmem, which ends the range at
// its last beat, is idle again; lg_qspi_stream streams on past the row and
// this start cuts that burst: the decoder has no busy input).
reg  main_pend_reg;
wire main_start = (EMB_STREAM != 0) ? (main_pend_reg && emb_tok_ready)
                                    : (state_reg == S_EMB && first_reg);
assign w_start = emb_w_start || main_start;
assign w_start_addr = emb_w_start ? emb_w_start_addr : {WL_AW{1'b0}};
assign w_last_addr = emb_w_start ? emb_w_last_addr : W_LAST;

always @(posedge clk) begin
    if (emb_w_start)
        main_pend_reg <= 1'b1;
    else if (main_start)
        main_pend_reg <= 1'b0;
    if (rst)
        main_pend_reg <= 1'b0;
end

always @(posedge clk) begin
    first_reg <= 1'b0;
    case (state_reg)
        S_IDLE: begin
            if (ctl_start) begin
                state_reg <= S_TOK;
                first_reg <= 1'b1;
                pos_reg <= {POS_W{1'b0}};
                gen_left_reg <= ctl_n_gen;
                err_pos_reg <= 1'b0;
                err_tok_reg <= 1'b0;
            end
        end
        S_TOK: begin
            if (tok_fire) begin
                if (tok_bad || pos_full) begin
                    // rejected: consumed, nothing processed
                    if (tok_bad)
                        err_tok_reg <= 1'b1;
                    else
                        err_pos_reg <= 1'b1;
                    if (s_tok_last) begin
                        state_reg <= S_END;
                        first_reg <= 1'b1;
                    end
                end else begin
                    tok_reg <= s_tok_data;
                    tok_last_reg <= s_tok_last;
                    sampling_reg <= s_tok_last && gen_left_reg != {POS_W{1'b0}};
                    state_reg <= S_EMB;
                    first_reg <= 1'b1;
                end
            end
        end
        S_EMB: begin
            if (first_reg)
                layer_reg <= {LW{1'b0}};
            if (!first_reg && xw_done_reg) begin
                state_reg <= S_NORM;
                first_reg <= 1'b1;
                kind_reg <= K_Q;
            end
        end
        S_NORM: begin
            if (!first_reg && actd_full_now) begin
                state_reg <= S_MV;
                first_reg <= 1'b1;
                phase_reg <= P_START;
            end
        end
        S_MV: begin
            case (phase_reg)
                P_START: phase_reg <= P_RUN;
                default: if (chain_next ? last_beat_fire : run_complete) begin
                    // on to the next run (a chained one while this one drains)
                    phase_reg <= P_START;
                    first_reg <= 1'b1;
                    case (kind_reg)
                        K_Q: kind_reg <= K_K;
                        K_K: kind_reg <= K_V;
                        K_V: state_reg <= S_KVW;
                        K_O: begin
                            state_reg <= S_NORM;
                            kind_reg <= K_1;
                        end
                        K_1: kind_reg <= K_3;
                        K_3: kind_reg <= K_2;
                        K_2: begin
                            state_reg <= S_NORM;
                            kind_reg <= layer_reg == LAYER_LAST ? K_C : K_Q;
                            if (layer_reg != LAYER_LAST)
                                layer_reg <= layer_reg + 1'b1;
                        end
                        default: state_reg <= sampling_reg ? S_SAMP : S_NEXT;
                    endcase
                end
            endcase
        end
        S_KVW: begin
            if (kdone_reg && vdone_reg) begin
                state_reg <= S_ATT;
                first_reg <= 1'b1;
            end
        end
        S_ATT: begin
            if (!first_reg && actd_full_now) begin
                state_reg <= S_MV;
                first_reg <= 1'b1;
                phase_reg <= P_START;
                kind_reg <= K_O;
            end
        end
        S_SAMP: begin
            if (smp_fire) begin
                gen_left_reg <= gen_left_reg - 1'b1;
                first_reg <= 1'b1;
                tok_reg <= smp_tok; // m_tok_data, and the next input
                if (gen_left_reg == {{(POS_W-1){1'b0}}, 1'b1} || smp_tok == TOK_BOS) begin
                    state_reg <= S_END;
                end else if (pos_inc == POS_END) begin
                    // the next input would need position seq_len
                    err_pos_reg <= 1'b1;
                    state_reg <= S_END;
                end else begin
                    // feed the token back as the next position's input
                    pos_reg <= pos_inc;
                    tok_last_reg <= 1'b0;
                    sampling_reg <= 1'b1;
                    state_reg <= S_EMB;
                end
            end
        end
        S_NEXT: begin
            first_reg <= 1'b1;
            if (tok_last_reg) begin
                state_reg <= S_END;
            end else begin
                pos_reg <= pos_inc;
                state_reg <= S_TOK;
            end
        end
        default: begin
            // S_END: the sequence is over once the last token has left
            if (!tok_out_valid_reg)
                state_reg <= S_IDLE;
        end
    endcase
    if (rst) begin
        state_reg <= S_IDLE;
        first_reg <= 1'b0;
        phase_reg <= P_START;
        kind_reg <= K_Q;
        pos_reg <= {POS_W{1'b0}};
        gen_left_reg <= {POS_W{1'b0}};
        err_pos_reg <= 1'b0;
        err_tok_reg <= 1'b0;
        tok_last_reg <= 1'b0;
        sampling_reg <= 1'b0;
        layer_reg <= {LW{1'b0}};
    end
end

// embedding request: the token is offered from the first cycle of S_EMB
// until the unit takes it
always @(posedge clk) begin
    if (state_reg == S_EMB && first_reg)
        emb_req_reg <= 1'b1;
    else if (emb_tok_ready)
        emb_req_reg <= 1'b0;
    if (rst)
        emb_req_reg <= 1'b0;
end

assign st_busy = state_reg != S_IDLE;
assign st_pos = pos_reg;
assign st_err_pos = err_pos_reg;
assign st_err_token = err_tok_reg;

// ---- cycle counters ----------------------------------------------------------------------

reg [63:0] cnt_total_reg, cnt_mv_reg, cnt_att_reg, cnt_oth_reg;

always @(posedge clk) begin
    if (state_reg == S_IDLE) begin
        if (ctl_start) begin
            cnt_total_reg <= 64'd0;
            cnt_mv_reg <= 64'd0;
            cnt_att_reg <= 64'd0;
            cnt_oth_reg <= 64'd0;
        end
    end else begin
        cnt_total_reg <= cnt_total_reg + 64'd1;
        if (in_mv)
            cnt_mv_reg <= cnt_mv_reg + 64'd1;
        else if (in_att || state_reg == S_KVW)
            cnt_att_reg <= cnt_att_reg + 64'd1;
        else
            cnt_oth_reg <= cnt_oth_reg + 64'd1;
    end
    if (rst) begin
        cnt_total_reg <= 64'd0;
        cnt_mv_reg <= 64'd0;
        cnt_att_reg <= 64'd0;
        cnt_oth_reg <= 64'd0;
    end
end

assign cnt_total = cnt_total_reg;
assign cnt_matvec = cnt_mv_reg;
assign cnt_attn = cnt_att_reg;
assign cnt_other = cnt_oth_reg;

endmodule

`resetall
