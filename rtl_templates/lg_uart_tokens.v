`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * ${MODULE}: host token protocol over a UART byte stream (template
 * rtl_templates/lg_uart_tokens.v; protocol: docs/fpga.md, "Host protocol";
 * bench tests/hdl/tb_uart.cpp).
 *
 * Why: a board with only a serial link (iCEBreaker: FTDI UART) still needs
 * the top module's whole control interface: a generate request (inverse
 * temperature, seed, token count, prompt) in, generated ids out. This unit
 * sits between lg_uart_rx / lg_uart_tx and <prefix>_top's ctl_*, s_tok,
 * m_tok and st_* ports (docs/architecture.md, "The top module").
 *
 * Frames, host -> FPGA (multi-byte fields little-endian):
 *   'G' (0x47) inv_temp[3] seed[4] n_gen[2] n_prompt[2] id[3] x n_prompt chk
 *       generate; chk = XOR of every byte before it, 'G' included
 *   'I' (0x49)  info request
 *   any other byte outside a frame is ignored (a resync point)
 * Records, FPGA -> host:
 *   'I' version vocab[3] seq_len[2] max_prompt[2]   (answer to 'I')
 *   'A'                          frame accepted, generation starts
 *   'T' id[3]                    one generated token
 *   'E' status count[2]          end of a run (count = tokens sent), or a
 *                                rejected frame (count = 0)
 *   status bits: 0 st_err_pos, 1 st_err_token, 2 bad checksum, 3 bad
 *   n_prompt (0 or > max_prompt), 4 busy (a run was pending or active,
 *   or its 'E' record not yet sent), 5 timeout (a frame stalled
 *   TIMEOUT_CYCLES between two bytes, counted in s_rx_tick periods: up
 *   to 2 * TICK_CYCLES later), 6 st_err_image (the core's weight source
 *   holds no usable image, e.g. none or another model's in the flash: a
 *   frame is rejected while it is up, and a run's 'E' shows it if it rose
 *   during the run)
 *
 * Operation: a whole 'G' frame is buffered (prompt ids in a RAM of
 * 2^PROMPT_AW words, saturated to TOK_W bits, so an id >= 2^TOK_W reaches
 * the core as an invalid id and is reported by st_err_token) and checked
 * before anything reaches the core: a UART cannot be paused, while the core
 * takes a prompt token only when its position is done. Once accepted, 'A'
 * is sent, ctl_start pulses as soon as st_busy is low (ctl_* carry the
 * frame's values), the prompt streams out on m_tok (m_tok_last on the last
 * id), each id the core sends on s_tok leaves as a 'T' record, and when the
 * core is idle again (st_busy seen high, then low, with the prompt
 * delivered or an error flag up) the 'E' record closes the run. A frame
 * arriving during a run (until its 'E' record is sent, the end of the run
 * as the host sees it) is parsed and rejected with status bit 4. n_gen
 * saturates to 2^POS_W - 1.
 *
 * Size (the iCEBreaker build: every LUT counts on the UP5K): the frame is
 * handled byte-serially, with no copy of the header. While no run is pending
 * or active, header bytes 0..8 go straight into the ctl_* registers
 * (inv_temp through a byte-wide shift register, n_gen saturated as its high
 * byte arrives) and the seed's four bytes straight on to the decoder
 * (ctl_seed_we / ctl_seed_byte: the sampler shifts them into its PRNG
 * state, so the seed has no copy here: 32 flip-flops fewer); a frame
 * arriving during a run leaves them alone. A frame rejected after its seed
 * bytes (checksum, length) has written them: every accepted frame writes
 * its own seed before its run, so no run sees them. n_prompt lands in the ids-left counter, whose decrement's borrow
 * is its zero test: a body byte at an id's first byte with no id left is
 * the checksum (no 16-bit compares, no checksum state); the checksum is the
 * XOR of the frame so far against that byte. An id is written byte by byte
 * into its buffer word through the RAM's bit write mask (no id register),
 * at address (ids left) mod 2^PROMPT_AW, i.e. last id first. One run
 * counter, an up/down count cleared by 'G' (no load multiplexer), counts
 * the frame's ids up to n_prompt, reads the prompt back from address
 * n_prompt mod 2^PROMPT_AW downwards, is set to all ones when the last id
 * has been read and then counts the generated ids down: the 'E' count is
 * its complement (no write counter, no stored n_prompt, no token counter;
 * a frame is stored only while no run is pending or active and no 'E'
 * waits, so the counter is free). Records are sent from a (record, byte)
 * index through a byte multiplexer instead of a shift register: 'I' is
 * constant, 'T' reads the core's id from s_tok_data while it goes out (the
 * id is taken with the record's last byte: no copy), 'E' of a run reads the
 * run counter and st_err_* live (ctl_start of the next run waits until
 * that 'E' is sent, so they cannot change under it; the core's error flags
 * are sticky until ctl_start), a reject's 'E' its held status.
 *
 * Parameters: TOK_W (token id width, <= 24), POS_W (<= 16), VOCAB and
 * SEQ_LEN (reported by 'I'), PROMPT_AW (prompt buffer 2^PROMPT_AW ids,
 * <= 15), TIMEOUT_CYCLES (idle cycles that abandon a partial frame),
 * TICK_CYCLES (the longest s_rx_tick period: the timeout counts
 * ceil(TIMEOUT_CYCLES / TICK_CYCLES) + 1 ticks, a counter of 16 bits rather
 * than 24 on the iCEBreaker, where lg_uart_rx's bit_tick comes every bit
 * period; 1 with s_rx_tick tied high counts clk cycles).
 *
 * Handshake contract:
 *  - s_rx: one byte per handshake; s_rx_ready is always high (the parser
 *    takes a byte per cycle; the UART receiver could not wait anyway).
 *  - s_rx_tick: a strobe at least once every TICK_CYCLES cycles (the
 *    receiver's bit_tick), the timeout's time base.
 *  - m_tx: valid/ready byte stream, records sent whole and in order of
 *    the events (priority when several wait: reject / info, accept, token,
 *    end); valid stays high and data stable until ready.
 *  - m_tok / s_tok: valid/ready (AXI-stream rules); a valid s_tok id
 *    starts its 'T' record when no record is being sent and none of higher
 *    priority waits, and s_tok_ready is high with the handshake of that
 *    record's last byte (the id is read from s_tok_data meanwhile).
 *  - ctl_seed_we / ctl_seed_byte: the header's seed bytes (least
 *    significant first), one-cycle write strobes as they arrive, only while
 *    no run is pending or active (the decoder's seed port).
 *  - ctl_start: one-cycle pulse; ctl_inv_temp, ctl_n_gen carry
 *    the frame's values with it and hold them until the run's 'E' record
 *    is sent (after st_busy fell: the decoder reads ctl_inv_temp through
 *    the run); they change while a later frame's header arrives, unless a
 *    run is pending or active then.
 *  - the core sends at most n_gen (< 2^POS_W) ids per run, and only after
 *    it took the prompt's last id (the decoder's order: the prompt readout
 *    and the 'E' count share one counter).
 *
 * Latency: 'A' is offered on m_tx, and ctl_start pulses (st_busy low), 1
 * cycle after the checksum byte's handshake (a frame is accepted only once
 * the previous run's 'E' record is sent); a prompt id is offered every 2
 * cycles at most (buffer read into its output register, handshake).
 */
module ${MODULE} #(
    // token id width (the top module's TOK_W, <= 24)
    parameter TOK_W = 10,
    // position / count width (the top module's POS_W, <= 16)
    parameter POS_W = 10,
    // vocabulary size and context length (reported to the host)
    parameter VOCAB = 512,
    parameter SEQ_LEN = 512,
    // prompt buffer: 2^PROMPT_AW ids (<= 15)
    parameter PROMPT_AW = 9,
    // clk cycles without a byte that abandon a partial frame
    parameter TIMEOUT_CYCLES = 8388608,
    // longest s_rx_tick period in clk cycles (the timeout's time base)
    parameter TICK_CYCLES = 1
) (
    input  wire               clk,
    input  wire               rst,

    /*
     * Byte streams from / to the UART
     */
    input  wire               s_rx_valid,
    output wire               s_rx_ready,
    input  wire [7:0]         s_rx_data,
    output wire               m_tx_valid,
    input  wire               m_tx_ready,
    output wire [7:0]         m_tx_data,
    input  wire               s_rx_tick,

    /*
     * To the decoder's control and prompt inputs
     */
    output wire               ctl_start,
    output wire [23:0]        ctl_inv_temp,
    output wire               ctl_seed_we,
    output wire [7:0]         ctl_seed_byte,
    output wire [POS_W-1:0]   ctl_n_gen,
    output wire               m_tok_valid,
    input  wire               m_tok_ready,
    output wire [TOK_W-1:0]   m_tok_data,
    output wire               m_tok_last,

    /*
     * From the decoder: generated tokens and status
     */
    input  wire               s_tok_valid,
    output wire               s_tok_ready,
    input  wire [TOK_W-1:0]   s_tok_data,
    input  wire               st_busy,
    input  wire               st_err_pos,
    input  wire               st_err_token,
    // the weight source's image is unusable (lg_qspi_stream's err_image;
    // 0 where the weights are on chip)
    input  wire               st_err_image,

    /*
     * Status (LEDs): a run is pending or active; a frame was rejected (pulse)
     */
    output wire               st_run,
    output wire               st_reject
);

// ---- constants ------------------------------------------------------------------

// protocol version reported by 'I'
localparam [7:0] VERSION = 8'd1;
localparam [7:0] C_GEN = 8'h47;   // 'G'
localparam [7:0] C_INFO = 8'h49;  // 'I'
localparam [7:0] R_ACK = 8'h41;   // 'A'
localparam [7:0] R_TOK = 8'h54;   // 'T'
localparam [7:0] R_END = 8'h45;   // 'E'
// reject causes, binary: 'E' status bit 2 + the code (one-hot only on the
// wire: 3 flip-flops a cause register instead of 5)
localparam [2:0] E_CHK = 3'd0, E_LEN = 3'd1, E_BUSY = 3'd2, E_TIMEOUT = 3'd3, E_IMG = 3'd4;

localparam AW = PROMPT_AW;
// the timeout in ticks
localparam TIMEOUT_T = (TIMEOUT_CYCLES + TICK_CYCLES - 1) / TICK_CYCLES;
localparam TOW = $clog2(TIMEOUT_T + 1);
localparam [31:0] TIMEOUT_32 = TIMEOUT_T;
localparam [TOW:0] TIMEOUT = TIMEOUT_32[TOW:0];
localparam [31:0] VOCAB_32 = VOCAB;
localparam [31:0] SEQ_32 = SEQ_LEN;
localparam [16:0] MAXP17 = 17'd1 << PROMPT_AW;
localparam [15:0] MAXP16 = MAXP17[15:0];
localparam [POS_W-1:0] NGEN_MAX = {POS_W{1'b1}};
// bits of a 16-bit n_gen above POS_W (nonzero: saturate)
localparam [16:0] POS17 = 17'd1 << POS_W;
localparam [15:0] NGEN_OVER = ~(POS17[15:0] - 16'd1);
// bits of a 24-bit id above TOK_W (nonzero: saturate)
localparam [24:0] TOK25 = 25'd1 << TOK_W;
localparam [23:0] ID_OVER = ~(TOK25[23:0] - 24'd1);

// bad parameter combinations are rejected at elaboration
initial begin
    if (TOK_W < 1 || TOK_W > 24 || POS_W < 1 || POS_W > 16) begin
        $error("Error: TOK_W must be 1..24 and POS_W 1..16 (instance %m)");
        $finish;
    end
    if (PROMPT_AW < 1 || PROMPT_AW > 15 || TIMEOUT_CYCLES < 1 || TICK_CYCLES < 1) begin
        $error("Error: PROMPT_AW must be 1..15, TIMEOUT_CYCLES, TICK_CYCLES >= 1 (instance %m)");
        $finish;
    end
end

// ---- run state (declared first: the parser checks it) -------------------------

reg run_pend_reg;   // accepted, ctl_start not yet sent
reg run_act_reg;    // ctl_start sent, 'E' not yet queued
wire end_busy;      // the run's 'E' is queued or being sent

// ---- frame parser -----------------------------------------------------------------

localparam [1:0] P_IDLE = 2'd0, P_HDR = 2'd1, P_BODY = 2'd2;

reg [1:0] p_state_reg;
// a 4-bit + 1 as gates (an XOR a bit, the AND of the bits below): a LUT a
// bit, where yosys's carry chain for the add needs a feed-in cell of its own
function [3:0] inc4;
    input [3:0] a;
    begin
        inc4 = {a[3] ^ (a[2] & a[1] & a[0]), a[2] ^ (a[1] & a[0]), a[1] ^ a[0], !a[0]};
    end
endfunction
reg [3:0] idx_reg;           // header byte 0..10 (P_HDR), id byte 0..2 (P_BODY)
reg [7:0] xor_reg;           // XOR of the frame so far
reg [15:0] tok_left_reg;     // n_prompt (its low byte from header byte 9), then ids still to come
reg busy_at_g_reg;           // a run was pending or active (or its 'E' not yet sent) at 'G'
reg over_len_reg;            // n_prompt > 2^PROMPT_AW
reg [TOW:0] idle_cnt_reg;    // TIMEOUT_T ticks down to -1 after the frame's last byte
reg [23:0] hs_reg;           // header bytes 0..2: inv_temp = ctl_inv_temp
reg [POS_W-1:0] ngen_reg;    // header bytes 7..8, saturated = ctl_n_gen
reg ngen_over_reg;           // n_gen's low byte has bits above POS_W

wire rx_fire = s_rx_valid;
assign s_rx_ready = 1'b1;
wire p_idle = p_state_reg == P_IDLE;

// the header's last byte (n_prompt high) arriving now
wire [15:0] n_prompt_now = {s_rx_data, tok_left_reg[7:0]};
// 0, or > 2^AW: bits above AW, or bit AW and any below it
wire [16:0] n_prompt17 = {1'b0, n_prompt_now};
wire over_len_now = n_prompt_now == 16'd0 || n_prompt17[16:AW+1] != {(16-AW){1'b0}} ||
                    (n_prompt17[AW] && n_prompt17[AW-1:0] != {AW{1'b0}});

// ids left: its decrement's borrow is the zero test (no 16-bit compare).
// A body byte at id byte 0 with no id left is the checksum.
// - p_state_reg[1] (1 in P_BODY, the only state that reads tl_dec or
// tl_zero) rather than - 1: with a constant yosys drops the carry chain's
// first carry, and the chain then needs a feed-in cell of its own
wire [16:0] tl_dec = {1'b0, tok_left_reg} + {17{p_state_reg[1]}};
wire tl_zero = tl_dec[16];

// the checksum as a zero test: the XOR of the whole frame, chk included
wire chk_ok = s_rx_data == xor_reg;

// parser outcome (a one-cycle strobe for the reply logic and st_reject)
reg reject;        // a 'G' frame failed (its cause in rej_status_reg)
reg [2:0] rej_status_reg;  // the latest reject's cause ('E' status bit 2 + code)

// the count went below zero (TIMEOUT_T + 1 ticks without a byte): its sign
// bit is the timeout, no wide compare
wire to_now = idle_cnt_reg[TOW];
wire timeout = to_now && !p_idle;

// byte strobes
wire hdr_fire = !timeout && rx_fire && p_state_reg == P_HDR;
wire body_fire = !timeout && rx_fire && p_state_reg == P_BODY;
wire chk_fire = body_fire && idx_reg[1:0] == 2'd0 && tl_zero;
wire tok_fire = body_fire && !(idx_reg[1:0] == 2'd0 && tl_zero);
wire bad_len = over_len_reg;

// the parser's outcomes that need no register: an 'I' request, and a 'G'
// frame that passed every check (its checksum byte now)
wire info_req = !timeout && rx_fire && p_idle && s_rx_data == C_INFO;
wire accept = chk_fire && chk_ok && !bad_len && !busy_at_g_reg && !st_err_image;

wire hs_we = hdr_fire && !busy_at_g_reg && idx_reg < 4'd3;
// header bytes 3..6: the seed, on to the decoder as they arrive
wire seed_we = hdr_fire && !busy_at_g_reg && idx_reg >= 4'd3 && idx_reg < 4'd7;
wire ngen_lo_we = hdr_fire && !busy_at_g_reg && idx_reg == 4'd7;
wire ngen_hi_we = hdr_fire && !busy_at_g_reg && idx_reg == 4'd8;
// the run counter counts the frame's ids (no run is pending or active and
// no 'E' waits, so the counter is free): cleared by 'G', one up per id
wire g_busy = run_pend_reg || run_act_reg || end_busy;
wire rc_clear = !timeout && rx_fire && p_idle && s_rx_data == C_GEN && !g_busy;

// n_gen: the low byte, then the high byte with the saturation
wire [15:0] ngen_lo16 = {8'd0, s_rx_data};
wire [15:0] ngen_hi16 = {s_rx_data, 8'd0};
wire ngen_over_now = ngen_over_reg || (ngen_hi16 & NGEN_OVER) != 16'd0;

always @(posedge clk) begin
    if (hs_we)
        hs_reg <= {s_rx_data, hs_reg[23:8]};
    if (ngen_lo_we) begin
        ngen_reg <= ngen_lo16[POS_W-1:0];
        ngen_over_reg <= (ngen_lo16 & NGEN_OVER) != 16'd0;
    end
    if (ngen_hi_we)
        ngen_reg <= ngen_over_now ? NGEN_MAX : (ngen_reg | ngen_hi16[POS_W-1:0]);
end

// an id is written byte by byte into its buffer word at address (ids left)
// mod 2^AW (byte k into bits [8k +: 8], the RAM's bit write mask: no id
// register); a byte with bits above TOK_W writes the whole word as ones
// instead (the saturated id). No flag carries that to the later bytes: a
// byte with such bits is the id's last with bits below TOK_W, so the later
// ones write no bits of the word unless they saturate it too.
localparam [7:0] OVER0 = ID_OVER[7:0], OVER1 = ID_OVER[15:8], OVER2 = ID_OVER[23:16];
wire id_force = (idx_reg[1:0] == 2'd0) ? (s_rx_data & OVER0) != 8'd0 :
                (idx_reg[1:0] == 2'd1) ? (s_rx_data & OVER1) != 8'd0 :
                                         (s_rx_data & OVER2) != 8'd0;
wire buf_we = tok_fire && !busy_at_g_reg;
wire rc_up = buf_we && idx_reg[1:0] == 2'd2;
wire [AW-1:0] buf_wa = tok_left_reg[AW-1:0];

always @(posedge clk) begin
    reject <= 1'b0;
    // (past -1 it may count on: the timeout returns the parser to P_IDLE,
    // which reloads it)
    if (p_idle || rx_fire)
        idle_cnt_reg <= TIMEOUT;
    else if (s_rx_tick)
        // + {s_rx_tick...} (- 1 here) rather than - 1: with a constant yosys
        // drops the chain's first carry, which then needs a feed-in cell
        idle_cnt_reg <= idle_cnt_reg + {(TOW + 1){s_rx_tick}};
    if (timeout) begin
        reject <= 1'b1;
        rej_status_reg <= E_TIMEOUT;
        p_state_reg <= P_IDLE;
    end else if (rx_fire) begin
        xor_reg <= ({8{!p_idle}} & xor_reg) ^ s_rx_data;
        case (p_state_reg)
            P_IDLE: begin
                if (s_rx_data == C_GEN) begin
                    idx_reg <= 4'd0;
                    busy_at_g_reg <= g_busy;
                    p_state_reg <= P_HDR;
                end
            end
            P_HDR: begin
                idx_reg <= inc4(idx_reg);
                if (idx_reg == 4'd9)
                    tok_left_reg[7:0] <= s_rx_data;
                if (idx_reg == 4'd10) begin
                    tok_left_reg[15:8] <= s_rx_data;
                    idx_reg <= 4'd0;
                    over_len_reg <= over_len_now;
                    p_state_reg <= P_BODY;
                end
            end
            default: begin
                if (chk_fire) begin
                    // checksum: the XOR of every earlier byte of the frame
                    if (!chk_ok) begin
                        reject <= 1'b1;
                        rej_status_reg <= E_CHK;
                    end else if (bad_len) begin
                        reject <= 1'b1;
                        rej_status_reg <= E_LEN;
                    end else if (busy_at_g_reg) begin
                        reject <= 1'b1;
                        rej_status_reg <= E_BUSY;
                    end else if (st_err_image) begin
                        reject <= 1'b1;
                        rej_status_reg <= E_IMG;
                    end
                    p_state_reg <= P_IDLE;
                end else if (idx_reg[1:0] == 2'd2) begin
                    idx_reg <= 4'd0;
                    tok_left_reg <= tl_dec[15:0];
                end else begin
                    idx_reg <= inc4(idx_reg);
                end
            end
        endcase
    end
    if (rst) begin
        p_state_reg <= P_IDLE;
        idle_cnt_reg <= TIMEOUT;
        reject <= 1'b0;
    end
end

// ---- prompt buffer ----------------------------------------------------------------

// no_rw_check: a prompt is written while no run reads the buffer (a frame
// that arrives while a run is pending or active is rejected and not stored;
// checked in simulation below), so Yosys builds no read-first logic around
// the block RAM
(* no_rw_check *)
reg [TOK_W-1:0] buf_mem [0:(1<<AW)-1];

integer wb;
always @(posedge clk) begin
    for (wb = 0; wb < TOK_W; wb = wb + 1)
        if (buf_we && (id_force || (wb >> 3) == {30'd0, idx_reg[1:0]}))
            buf_mem[buf_wa][wb] <= id_force || s_rx_data[wb & 7];
end

// ---- run control ------------------------------------------------------------------

reg start_reg;
reg seen_busy_reg;

assign ctl_start = start_reg;
assign ctl_inv_temp = hs_reg[23:0];
assign ctl_seed_we = seed_we;
assign ctl_seed_byte = s_rx_data;
assign ctl_n_gen = ngen_reg;
assign st_run = run_pend_reg || run_act_reg;
assign st_reject = reject;

// one counter for the run (no run, no copy): loaded with n_prompt, it is
// the prompt's readout address (n_prompt down to 1: ids were written at
// (ids left)), set to all ones by the last id's read, then counted down
// by each generated id, so the 'E' count is its complement
localparam RW = (AW > POS_W) ? AW : POS_W;
localparam [31:0] ONE_RW32 = 1;
localparam [RW-1:0] R_ONE = ONE_RW32[RW-1:0];
reg [RW-1:0] run_cnt_reg;
reg rd_done_reg;   // the last id (address 1) has been read: m_tok_last
reg [TOK_W-1:0] rd_data_reg;
reg tok_valid_reg;

wire prompt_done = rd_done_reg && !tok_valid_reg;
wire gen_fire = s_tok_valid && s_tok_ready;
// the run is over: queue 'E' (st_busy seen high, then low, with the prompt
// delivered or an error flag up, and no id waiting)
wire end_req = run_act_reg && seen_busy_reg && !st_busy && !s_tok_valid &&
               (prompt_done || st_err_pos || st_err_token);

always @(posedge clk) begin
    start_reg <= 1'b0;
    if (accept) begin
        run_pend_reg <= 1'b1;
    end else if (run_pend_reg && !st_busy) begin
        // (no run is active and no 'E' in flight while one is pending: the
        // frame was accepted only while neither was)
        start_reg <= 1'b1;
        run_pend_reg <= 1'b0;
        run_act_reg <= 1'b1;
        seen_busy_reg <= 1'b0;
    end else if (run_act_reg) begin
        if (st_busy)
            seen_busy_reg <= 1'b1;
        if (end_req)
            run_act_reg <= 1'b0;
    end
    if (rst) begin
        start_reg <= 1'b0;
        run_pend_reg <= 1'b0;
        run_act_reg <= 1'b0;
    end
end

wire rd_en = run_act_reg && !start_reg && !tok_valid_reg && !rd_done_reg;
wire m_fire = tok_valid_reg && m_tok_ready;
wire rd_last = run_cnt_reg == R_ONE;

always @(posedge clk) begin
    if (rd_en)
        rd_data_reg <= buf_mem[run_cnt_reg[AW-1:0]];
end

`ifndef SYNTHESIS
always @(posedge clk) begin
    if (!rst && buf_we && rd_en && buf_wa == run_cnt_reg[AW-1:0]) begin
        $display("Error: %m: prompt word %0d written and read in one cycle", buf_wa);
        $stop;
    end
end
`endif

always @(posedge clk) begin
    if (rc_clear)
        run_cnt_reg <= {RW{1'b0}};
    else if ((rd_en && rd_last) || (end_req && !rd_done_reg))
        // (a run that ends with its prompt unread generated nothing: count 0)
        run_cnt_reg <= {RW{1'b1}};
    else if (rc_up || rd_en || gen_fire)
        run_cnt_reg <= run_cnt_reg + {{(RW-1){!rc_up}}, 1'b1};
    if (rd_en)
        rd_done_reg <= rd_last;
    if (start_reg) begin
        rd_done_reg <= 1'b0;
        tok_valid_reg <= 1'b0;
    end else if (rd_en) begin
        tok_valid_reg <= 1'b1;
    end else if (m_fire || !run_act_reg) begin
        // taken, or the run ended without it (the core gave up)
        tok_valid_reg <= 1'b0;
    end
    if (rst) begin
        rd_done_reg <= 1'b0;
        tok_valid_reg <= 1'b0;
    end
end

assign m_tok_valid = tok_valid_reg;
assign m_tok_data = rd_data_reg;
assign m_tok_last = rd_done_reg;

// ---- replies: one record at a time, byte by byte through a multiplexer ----------

localparam [2:0] R_NONE = 3'd0, R_REJ = 3'd1, R_INF = 3'd2, R_ACC = 3'd3, R_GEN = 3'd4,
                 R_FIN = 3'd5;

reg pend_info_reg;
reg pend_ack_reg;
reg pend_rej_reg;
reg pend_end_reg;
reg [2:0] rec_reg;           // record being sent (R_NONE: idle)
reg [3:0] rec_idx_reg;       // its byte on m_tx
reg [2:0] rec_status_reg;    // a reject record's cause

wire rec_idle = rec_reg == R_NONE;
assign end_busy = pend_end_reg || rec_reg == R_FIN;

assign m_tx_valid = !rec_idle;
wire tx_fire = !rec_idle && m_tx_ready;
wire rec_last = (rec_reg == R_INF) ? rec_idx_reg == 4'd8 :
                (rec_reg == R_ACC) ? 1'b1 : rec_idx_reg == 4'd3;


// byte k of a 24-bit / 16-bit field
wire [23:0] rec_id24;
wire [15:0] gen_cnt16;

generate
    if (TOK_W < 24) begin : g_id_ext
        assign rec_id24 = {{(24-TOK_W){1'b0}}, s_tok_data};
    end else begin : g_id_full
        assign rec_id24 = s_tok_data;
    end
    // generated ids: the run counter's complement once the prompt is read
    // (before that none were generated)
    if (RW < 16) begin : g_cnt_ext
        assign gen_cnt16 = {{(16-RW){1'b0}}, ~run_cnt_reg};
    end else begin : g_cnt_full
        assign gen_cnt16 = ~run_cnt_reg;
    end
endgenerate
// the record's constant bytes (tags, 'I' payload) by (record, byte); the
// variable payload bytes OR-ed in where they belong (zero elsewhere)
reg [7:0] tx_const;

always @(*) begin
    tx_const = 8'd0;
    if (rec_idx_reg == 4'd0) begin
        case (rec_reg)
            R_INF: tx_const = C_INFO;
            R_ACC: tx_const = R_ACK;
            R_GEN: tx_const = R_TOK;
            default: tx_const = R_END;
        endcase
    end else if (rec_reg == R_INF) begin
        case (rec_idx_reg)
            4'd1: tx_const = VERSION;
            4'd2: tx_const = VOCAB_32[7:0];
            4'd3: tx_const = VOCAB_32[15:8];
            4'd4: tx_const = VOCAB_32[23:16];
            4'd5: tx_const = SEQ_32[7:0];
            4'd6: tx_const = SEQ_32[15:8];
            4'd7: tx_const = MAXP16[7:0];
            default: tx_const = MAXP16[15:8];
        endcase
    end
end

wire b1 = rec_idx_reg[1:0] == 2'd1;
wire b2 = rec_idx_reg[1:0] == 2'd2;
wire b3 = rec_idx_reg[1:0] == 2'd3;
wire r_rej = rec_reg == R_REJ;
wire r_gen = rec_reg == R_GEN;
wire r_fin = rec_reg == R_FIN;
// a token record reads its id from s_tok_data while it goes out (no copy):
// the id is taken with the handshake of the record's last byte
assign s_tok_ready = r_gen && tx_fire && rec_last;

// the core's flags are sticky and the counter still until the next
// ctl_start, which waits for the run's 'E' record
wire [7:0] tx_byte = tx_const |
                     ({8{r_rej && b1}} & (8'd4 << rec_status_reg)) |
                     ({8{r_gen && b1}} & rec_id24[7:0]) |
                     ({8{r_gen && b2}} & rec_id24[15:8]) |
                     ({8{r_gen && b3}} & rec_id24[23:16]) |
                     ({8{r_fin && b1}} & {1'b0, st_err_image, 4'd0, st_err_token, st_err_pos}) |
                     ({8{r_fin && b2}} & gen_cnt16[7:0]) |
                     ({8{r_fin && b3}} & gen_cnt16[15:8]);

assign m_tx_data = tx_byte;

always @(posedge clk) begin
    if (info_req)
        pend_info_reg <= 1'b1;
    if (accept)
        pend_ack_reg <= 1'b1;
    if (reject)
        pend_rej_reg <= 1'b1;
    if (end_req)
        pend_end_reg <= 1'b1;
    if (tx_fire) begin
        rec_idx_reg <= inc4(rec_idx_reg);
        if (rec_last) begin
            rec_reg <= R_NONE;
            rec_idx_reg <= 4'd0;
        end
    end else if (rec_idle) begin
        if (pend_rej_reg) begin
            rec_reg <= R_REJ;
            rec_status_reg <= rej_status_reg;
            pend_rej_reg <= 1'b0;
        end else if (pend_info_reg) begin
            rec_reg <= R_INF;
            pend_info_reg <= 1'b0;
        end else if (pend_ack_reg) begin
            rec_reg <= R_ACC;
            pend_ack_reg <= 1'b0;
        end else if (s_tok_valid) begin
            rec_reg <= R_GEN;
        end else if (pend_end_reg) begin
            rec_reg <= R_FIN;
            pend_end_reg <= 1'b0;
        end
    end
    if (rst) begin
        pend_info_reg <= 1'b0;
        pend_ack_reg <= 1'b0;
        pend_rej_reg <= 1'b0;
        pend_end_reg <= 1'b0;
        rec_reg <= R_NONE;
        rec_idx_reg <= 4'd0;
    end
end

endmodule

`resetall
