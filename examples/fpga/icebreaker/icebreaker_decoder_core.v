`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * icebreaker_decoder_core: the whole emitted decoder as the iCEBreaker runs
 * it, vendor-neutral (no PLL, no SB_IO) so that it simulates as is
 * (sim_decoder.cpp; `make test` runs a few tokens, `make sim` more).
 *
 *   host UART -> lg_uart_rx -> lg_uart_tokens -> <prefix>_decoder -> lg_uart_tokens -> lg_uart_tx
 *                                                     ^ weight stream
 *   QSPI flash (image at 1 MiB) -> lg_qspi_stream ----+
 *
 * Why: the decoder's weight stream does not care where the weights live;
 * this is the configuration of docs/fpga.md's UP5K target (weights read from
 * flash once per token in consumption order, tokens over the host protocol),
 * with the decoder emitted by `llamagen --config 260k --lanes 2 --seq-len
 * 256` (the UP5K's K/V cap). It replaces <prefix>_top's on-chip weight memory
 * by the flash reader; there is no boot write port (the flash is the boot
 * store) and st_weights_ready is the reader's `loaded` (its wake-up / quad
 * enable sequence is done).
 *
 * The decoder module and its baked parameters come from the emission
 * (manifest.json): `LG_DECODER names <prefix>_decoder, and LANES, GROUP,
 * NBEATS (weight_beats_per_token), POS_W, TOK_W, VOCAB and SEQ_LEN must be
 * the emitted values (the decoder rejects other POS_W / TOK_W / LANES / DXW
 * at elaboration). examples/fpga/icebreaker/decoder_params.sh prints them as
 * tool options.
 *
 * m_logit_* (every logit of every position) and the cycle counters are taps
 * for co-simulation; a board shell leaves them open (synthesis removes the
 * tap logic that feeds nothing).
 */
`ifndef LG_DECODER
`define LG_DECODER lg_decoder_is_not_defined
`endif

module icebreaker_decoder_core #(
    // clk frequency in Hz (UART divider, flash wake-up time)
    parameter CLK_HZ = 30000000,
    // UART rate
    parameter BAUD = 115200,
    // register stages in the flash round trip (SB_IO out + in registers: 2)
    parameter IN_LAT = 2,
    // 1: SCK = clk (a DDR SCK output; the bus sampled at clk falling), 0: clk / 2
    parameter SCK_DDR = 1,
    // 1: the marked flash image (mkflash weights --marks: each dexp once, in a
    // mark beat; docs/fpga.md, "Flash image"), 0: the packed one
    parameter MARKS = 1,
    // the weight image's tag (manifest.json's weight_tag, 0..65535): each
    // mark of the flash image holds a nibble of it, which the reader checks
    parameter integer IMAGE_TAG = 0,
    // the flash beat of beat 0's mark in the marked image (manifest.json's
    // weight_marks_lead): each token's burst starts there, past the repeat
    // marks that only the reader's address rule needs (0: reads them)
    parameter integer MARKS_LEAD = 0,
    // emitted decoder: lanes, weight group, weight beats per token
    parameter LANES = 4,
    parameter GROUP = 32,
    parameter NBEATS = 64832,
    // emitted decoder: position and token id widths, vocabulary, seq_len
    parameter POS_W = 9,
    parameter TOK_W = 10,
    parameter VOCAB = 512,
    parameter SEQ_LEN = 256,
    // prompt buffer of the host protocol: 2^PROMPT_AW ids (one EBR at 8)
    parameter PROMPT_AW = 8
) (
    input  wire        clk,
    input  wire        rst,

    /*
     * Host UART
     */
    input  wire        rxd,
    output wire        txd,

    /*
     * QSPI flash
     */
    output wire        spi_cs_n,
    output wire        spi_sck,
    output wire [3:0]  spi_io_o,
    output wire [3:0]  spi_io_oe,
    input  wire [3:0]  spi_io_i,

    /*
     * Status: weights readable; a run (or a rejected frame's reply) is on;
     * the decoder's position and sticky error flags
     */
    output wire              st_loaded,
    output wire              st_active,
    output wire [POS_W-1:0]  st_pos,
    output wire              st_err_pos,
    output wire              st_err_token,
    // the flash holds no marked image of these weights at 1 MiB (the
    // reader's image check: every frame is rejected with 'E' status bit 6)
    output wire              st_err_image,

    /*
     * Co-simulation taps
     */
    output wire        m_logit_valid,
    output wire [31:0] m_logit_data,
    output wire        m_logit_last,
    output wire [63:0] cnt_total,
    output wire [63:0] cnt_matvec,
    output wire [63:0] cnt_attn,
    output wire [63:0] cnt_other
);

localparam integer NDX = (LANES > GROUP) ? LANES / GROUP : 1;
localparam integer DXW = 4 * NDX;
localparam integer AW = (NBEATS > 1) ? $clog2(NBEATS) : 1;
localparam integer T_RES = CLK_HZ / 333333 + 1;   // tRES1 = 3 us
localparam [31:0] TAG32 = IMAGE_TAG;
localparam [15:0] TAG16 = TAG32[15:0];

// ---- weight stream from flash -------------------------------------------------------

wire               w_start, w_loaded;
wire [AW-1:0]      w_start_addr, w_last_addr; // the decoder's beat range per start
wire               w_valid, w_ready;
wire [LANES*8-1:0] w_mant;
wire [DXW-1:0]     w_dexp;
// (the reader streams until the next start cuts the burst: no last_addr,
// busy, done or last; the decoder takes only the beats it owes)
wire unused_w = ^w_last_addr;

lg_qspi_stream #(
    .LANES(LANES),
    .GROUP(GROUP),
    .DEPTH(NBEATS),
    .BASE_ADDR(24'h100000),
    .INIT_WAKE(1),
    .T_RES_CYCLES(T_RES),
    .INIT_QE(1),
    .CS_HIGH_CYCLES(4),
    .IN_LAT(IN_LAT),
    .SCK_DDR(SCK_DDR),
    .MARKS(MARKS),
    .BOOT_CHECK(MARKS),
    .IMAGE_TAG(TAG16),
    .MARKS_LEAD(MARKS != 0 ? MARKS_LEAD : 0)
) u_qspi (
    .clk(clk),
    .rst(rst),
    .start(w_start),
    .start_addr(w_start_addr),
    .loaded(w_loaded),
    .err_image(st_err_image),
    .m_w_valid(w_valid),
    .m_w_ready(w_ready),
    .m_w_mant(w_mant),
    .m_w_dexp(w_dexp),
    .spi_cs_n(spi_cs_n),
    .spi_sck(spi_sck),
    .spi_io_o(spi_io_o),
    .spi_io_oe(spi_io_oe),
    .spi_io_i(spi_io_i)
);

// ---- host link ----------------------------------------------------------------------

wire rx_valid, rx_ready, tx_valid, tx_ready;
wire [7:0] rx_data, tx_data;
wire rx_err_frame, rx_err_overrun;
wire rx_tick;   // bit-period strobe: the token unit's timeout counts bits, not clk cycles

// HOLD 0: lg_uart_tokens takes every byte at once (no output register)
lg_uart_rx #(.CLK_HZ(CLK_HZ), .BAUD(BAUD), .HOLD(0)) u_rx (
    .clk(clk), .rst(rst), .rxd(rxd),
    .m_valid(rx_valid), .m_ready(rx_ready), .m_data(rx_data),
    .err_frame(rx_err_frame), .err_overrun(rx_err_overrun), .bit_tick(rx_tick));

lg_uart_tx #(.CLK_HZ(CLK_HZ), .BAUD(BAUD)) u_tx (
    .clk(clk), .rst(rst), .s_valid(tx_valid), .s_ready(tx_ready), .s_data(tx_data), .txd(txd));

wire               ctl_start;
wire [23:0]        ctl_inv_temp;
wire               ctl_seed_we;                 // the header's seed bytes, on to the sampler
wire [7:0]         ctl_seed_byte;
wire [POS_W-1:0]   ctl_n_gen;
wire               p_valid, p_ready, p_last;   // prompt ids to the decoder
wire [TOK_W-1:0]   p_data;
wire               g_valid, g_ready;           // generated ids from the decoder
wire [TOK_W-1:0]   g_data;
wire               dec_busy;
wire               st_run, st_reject;
wire unused_rx = ^{rx_err_frame, rx_err_overrun};

lg_uart_tokens #(
    .TOK_W(TOK_W), .POS_W(POS_W), .VOCAB(VOCAB), .SEQ_LEN(SEQ_LEN), .PROMPT_AW(PROMPT_AW),
    .TIMEOUT_CYCLES(CLK_HZ / 4), .TICK_CYCLES((CLK_HZ + BAUD / 2) / BAUD)
) u_tokens (
    .clk(clk), .rst(rst),
    .s_rx_valid(rx_valid), .s_rx_ready(rx_ready), .s_rx_data(rx_data),
    .m_tx_valid(tx_valid), .m_tx_ready(tx_ready), .m_tx_data(tx_data),
    .s_rx_tick(rx_tick),
    .ctl_start(ctl_start), .ctl_inv_temp(ctl_inv_temp), .ctl_seed_we(ctl_seed_we),
    .ctl_seed_byte(ctl_seed_byte), .ctl_n_gen(ctl_n_gen),
    .m_tok_valid(p_valid), .m_tok_ready(p_ready), .m_tok_data(p_data), .m_tok_last(p_last),
    .s_tok_valid(g_valid), .s_tok_ready(g_ready), .s_tok_data(g_data),
    .st_busy(dec_busy), .st_err_pos(st_err_pos), .st_err_token(st_err_token),
    .st_err_image(st_err_image),
    .st_run(st_run), .st_reject(st_reject));

// ---- the decoder --------------------------------------------------------------------

`LG_DECODER #(
    .POS_W(POS_W),
    .TOK_W(TOK_W),
    .LANES(LANES),
    .DXW(DXW)
) u_dec (
    .clk(clk),
    .rst(rst),
    .ctl_start(ctl_start),
    .ctl_inv_temp(ctl_inv_temp),
    .ctl_seed_we(ctl_seed_we),
    .ctl_seed_byte(ctl_seed_byte),
    .ctl_n_gen(ctl_n_gen),
    .s_tok_valid(p_valid),
    .s_tok_ready(p_ready),
    .s_tok_data(p_data),
    .s_tok_last(p_last),
    .m_tok_valid(g_valid),
    .m_tok_ready(g_ready),
    .m_tok_data(g_data),
    .m_logit_valid(m_logit_valid),
    .m_logit_data(m_logit_data),
    .m_logit_last(m_logit_last),
    .st_busy(dec_busy),
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

assign st_loaded = w_loaded;
assign st_active = st_run || st_reject;

endmodule

`resetall
