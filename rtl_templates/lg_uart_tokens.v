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
 *   n_prompt (0 or > max_prompt), 4 busy (a run was pending or active),
 *   5 timeout (a frame stalled TIMEOUT_CYCLES between two bytes)
 *
 * Operation: a whole 'G' frame is buffered (prompt ids in a RAM of
 * 2^PROMPT_AW words, saturated to TOK_W bits, so an id >= 2^TOK_W reaches
 * the core as an invalid id and is reported by st_err_token) and checked
 * before anything reaches the core: a UART cannot be paused, while the core
 * takes a prompt token only when its position is done. Once accepted, 'A'
 * is sent, ctl_start pulses as soon as st_busy is low (ctl_* hold the
 * frame's values), the prompt streams out on m_tok (m_tok_last on the last
 * id), each id the core sends on s_tok leaves as a 'T' record, and when the
 * core is idle again (st_busy seen high, then low, with the prompt
 * delivered or an error flag up) the 'E' record closes the run. A frame
 * arriving during a run is parsed and rejected with status bit 4. n_gen
 * saturates to 2^POS_W - 1.
 *
 * Parameters: TOK_W (token id width, <= 24), POS_W (<= 16), VOCAB and
 * SEQ_LEN (reported by 'I'), PROMPT_AW (prompt buffer 2^PROMPT_AW ids,
 * <= 15), TIMEOUT_CYCLES (idle cycles that abandon a partial frame).
 *
 * Handshake contract:
 *  - s_rx: one byte per handshake; s_rx_ready is always high (the parser
 *    takes a byte per cycle; the UART receiver could not wait anyway).
 *  - m_tx: valid/ready byte stream, records sent whole and in order of
 *    the events (priority when several wait: reject / info, accept, token,
 *    end); valid stays high and data stable until ready.
 *  - m_tok / s_tok: valid/ready (AXI-stream rules); s_tok_ready is high
 *    while no record is being sent and none of higher priority waits.
 *  - ctl_start: one-cycle pulse; ctl_inv_temp, ctl_seed, ctl_n_gen stay
 *    stable from it until the next accepted frame.
 *
 * Latency: 'A' is offered on m_tx, and ctl_start pulses (st_busy low), 2
 * cycles after the checksum byte's handshake; a prompt id is offered every
 * 3 cycles at most (buffer read, output register, handshake).
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
    parameter TIMEOUT_CYCLES = 8388608
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

    /*
     * To the decoder's control and prompt inputs
     */
    output wire               ctl_start,
    output wire [23:0]        ctl_inv_temp,
    output wire [31:0]        ctl_seed,
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
// status bits of 'E'
localparam [7:0] E_CHK = 8'h04, E_LEN = 8'h08, E_BUSY = 8'h10, E_TIMEOUT = 8'h20;

localparam TOW = $clog2(TIMEOUT_CYCLES + 1);
localparam [31:0] TIMEOUT_32 = TIMEOUT_CYCLES;
localparam [TOW-1:0] TIMEOUT = TIMEOUT_32[TOW-1:0];
localparam [31:0] VOCAB_32 = VOCAB;
localparam [31:0] SEQ_32 = SEQ_LEN;
localparam [23:0] VOCAB24 = VOCAB_32[23:0];
localparam [15:0] SEQ16 = SEQ_32[15:0];
localparam [16:0] MAXP17 = 17'd1 << PROMPT_AW;
localparam [15:0] MAXP16 = MAXP17[15:0];
localparam [POS_W-1:0] NGEN_MAX = {POS_W{1'b1}};

// bad parameter combinations are rejected at elaboration
initial begin
    if (TOK_W < 1 || TOK_W > 24 || POS_W < 1 || POS_W > 16) begin
        $error("Error: TOK_W must be 1..24 and POS_W 1..16 (instance %m)");
        $finish;
    end
    if (PROMPT_AW < 1 || PROMPT_AW > 15 || TIMEOUT_CYCLES < 1) begin
        $error("Error: PROMPT_AW must be 1..15, TIMEOUT_CYCLES >= 1 (instance %m)");
        $finish;
    end
end

// ---- run state (declared first: the parser checks it) -------------------------

reg run_pend_reg;   // accepted, ctl_start not yet sent
reg run_act_reg;    // ctl_start sent, 'E' not yet queued

// ---- frame parser -----------------------------------------------------------------

localparam [1:0] P_IDLE = 2'd0, P_HDR = 2'd1, P_TOK = 2'd2, P_CHK = 2'd3;

reg [1:0] p_state_reg;
reg [3:0] hdr_idx_reg;       // header byte 0..10
reg [87:0] hdr_reg;          // the 11 header bytes, byte k in [8k +: 8]
reg [7:0] xor_reg;           // XOR of the frame so far
reg [1:0] tb_idx_reg;        // byte of the current id (0..2)
reg [15:0] tok_left_reg;     // ids still to come
reg [15:0] tb_lo_reg;        // the id's first two bytes
reg store_reg;               // ids of this frame go to the buffer
reg busy_at_g_reg;           // a run was pending or active at 'G'
reg [TOW-1:0] idle_cnt_reg;  // cycles since the frame's last byte

wire rx_fire = s_rx_valid;
assign s_rx_ready = 1'b1;

wire [15:0] hdr_n_prompt = hdr_reg[87:72];
wire bad_len = hdr_n_prompt == 16'd0 || hdr_n_prompt > MAXP16;
// the header's last byte (n_prompt high) arriving now
wire [15:0] n_prompt_now = {s_rx_data, hdr_reg[87:80]};
wire bad_len_now = n_prompt_now == 16'd0 || n_prompt_now > MAXP16;

// the id completed by this byte, saturated to TOK_W bits
wire [23:0] id_now = {s_rx_data, tb_lo_reg};
wire [TOK_W-1:0] id_sat;

generate
    if (TOK_W < 24) begin : g_sat
        assign id_sat = (id_now[23:TOK_W] != {(24-TOK_W){1'b0}}) ? {TOK_W{1'b1}}
                                                               : id_now[TOK_W-1:0];
    end else begin : g_nosat
        assign id_sat = id_now;
    end
endgenerate

// parser outcomes (one-cycle strobes for the run and reply logic)
reg info_req;      // 'I' received
reg accept;        // a 'G' frame passed every check
reg reject;        // a 'G' frame failed (reject_status)
reg [7:0] reject_status;
reg buf_we;
reg [PROMPT_AW-1:0] buf_wa_reg;

// the count reached TIMEOUT (a registered compare: the wide equality stays
// off the parser's enables); idle_cnt_reg saturates there
reg to_reg;
wire timeout = to_reg && p_state_reg != P_IDLE;

always @(posedge clk) begin
    info_req <= 1'b0;
    accept <= 1'b0;
    reject <= 1'b0;
    buf_we <= 1'b0;
    if (p_state_reg == P_IDLE || rx_fire)
        idle_cnt_reg <= {TOW{1'b0}};
    else if (idle_cnt_reg != TIMEOUT)
        idle_cnt_reg <= idle_cnt_reg + 1'b1;
    to_reg <= idle_cnt_reg == TIMEOUT && !rx_fire;
    if (timeout) begin
        reject <= 1'b1;
        reject_status <= E_TIMEOUT;
        p_state_reg <= P_IDLE;
    end else if (rx_fire) begin
        xor_reg <= xor_reg ^ s_rx_data;
        case (p_state_reg)
            P_IDLE: begin
                if (s_rx_data == C_GEN) begin
                    xor_reg <= C_GEN;
                    hdr_idx_reg <= 4'd0;
                    busy_at_g_reg <= run_pend_reg || run_act_reg;
                    p_state_reg <= P_HDR;
                end else if (s_rx_data == C_INFO) begin
                    info_req <= 1'b1;
                end
            end
            P_HDR: begin
                hdr_reg <= {s_rx_data, hdr_reg[87:8]};
                hdr_idx_reg <= hdr_idx_reg + 1'b1;
                if (hdr_idx_reg == 4'd10) begin
                    tok_left_reg <= n_prompt_now;
                    tb_idx_reg <= 2'd0;
                    store_reg <= !bad_len_now && !busy_at_g_reg;
                    buf_wa_reg <= {PROMPT_AW{1'b0}};
                    p_state_reg <= (n_prompt_now == 16'd0) ? P_CHK : P_TOK;
                end
            end
            P_TOK: begin
                if (tb_idx_reg == 2'd2) begin
                    tb_idx_reg <= 2'd0;
                    tok_left_reg <= tok_left_reg - 1'b1;
                    buf_we <= store_reg;
                    if (tok_left_reg == 16'd1)
                        p_state_reg <= P_CHK;
                end else begin
                    tb_lo_reg <= {s_rx_data, tb_lo_reg[15:8]};
                    tb_idx_reg <= tb_idx_reg + 1'b1;
                end
            end
            default: begin
                // checksum: the XOR of every earlier byte of the frame
                if (s_rx_data != xor_reg) begin
                    reject <= 1'b1;
                    reject_status <= E_CHK;
                end else if (bad_len) begin
                    reject <= 1'b1;
                    reject_status <= E_LEN;
                end else if (busy_at_g_reg) begin
                    reject <= 1'b1;
                    reject_status <= E_BUSY;
                end else begin
                    accept <= 1'b1;
                end
                p_state_reg <= P_IDLE;
            end
        endcase
    end
    if (buf_we)
        buf_wa_reg <= buf_wa_reg + 1'b1;
    if (rst) begin
        p_state_reg <= P_IDLE;
        idle_cnt_reg <= {TOW{1'b0}};
        to_reg <= 1'b0;
        info_req <= 1'b0;
        accept <= 1'b0;
        reject <= 1'b0;
        buf_we <= 1'b0;
    end
end

// ---- prompt buffer ----------------------------------------------------------------

reg [TOK_W-1:0] buf_mem [0:(1<<PROMPT_AW)-1];
reg [TOK_W-1:0] buf_wdata_reg;

always @(posedge clk) begin
    if (rx_fire && p_state_reg == P_TOK && tb_idx_reg == 2'd2)
        buf_wdata_reg <= id_sat;
end

always @(posedge clk) begin
    if (buf_we)
        buf_mem[buf_wa_reg] <= buf_wdata_reg;
end

// ---- run control ------------------------------------------------------------------

reg [23:0] inv_temp_reg;
reg [31:0] seed_reg;
reg [POS_W-1:0] n_gen_reg;
reg [PROMPT_AW:0] n_prompt_reg; // ids in the buffer (<= 2^PROMPT_AW)
reg start_reg;
reg seen_busy_reg;
reg [15:0] gen_cnt_reg;      // tokens taken from the core this run
reg end_req;                 // the run is over: queue 'E'

wire [15:0] hdr_n_gen = hdr_reg[71:56];
wire n_gen_sat;

generate
    if (POS_W < 16) begin : g_ngen_sat
        assign n_gen_sat = hdr_n_gen[15:POS_W] != {(16-POS_W){1'b0}};
    end else begin : g_ngen_fit
        assign n_gen_sat = 1'b0;
    end
endgenerate

assign ctl_start = start_reg;
assign ctl_inv_temp = inv_temp_reg;
assign ctl_seed = seed_reg;
assign ctl_n_gen = n_gen_reg;
assign st_run = run_pend_reg || run_act_reg;
assign st_reject = reject;

// prompt readout: buffer read, then the output register
reg [PROMPT_AW:0] rd_cnt_reg;    // ids read so far
reg rd_pend_reg;
reg [TOK_W-1:0] rd_data_reg;
reg tok_valid_reg;
reg tok_last_reg;

wire prompt_done = rd_cnt_reg == n_prompt_reg && !rd_pend_reg && !tok_valid_reg;
wire gen_fire = s_tok_valid && s_tok_ready;

always @(posedge clk) begin
    start_reg <= 1'b0;
    end_req <= 1'b0;
    if (accept) begin
        inv_temp_reg <= hdr_reg[23:0];
        seed_reg <= hdr_reg[55:24];
        n_gen_reg <= n_gen_sat ? NGEN_MAX : hdr_n_gen[POS_W-1:0];
        n_prompt_reg <= hdr_n_prompt[PROMPT_AW:0];
        run_pend_reg <= 1'b1;
    end else if (run_pend_reg && !run_act_reg && !st_busy && !start_reg) begin
        start_reg <= 1'b1;
        run_pend_reg <= 1'b0;
        run_act_reg <= 1'b1;
        seen_busy_reg <= 1'b0;
        gen_cnt_reg <= 16'd0;
    end else if (run_act_reg) begin
        if (st_busy)
            seen_busy_reg <= 1'b1;
        if (gen_fire)
            gen_cnt_reg <= gen_cnt_reg + 1'b1;
        if (seen_busy_reg && !st_busy && !s_tok_valid &&
            (prompt_done || st_err_pos || st_err_token)) begin
            end_req <= 1'b1;
            run_act_reg <= 1'b0;
        end
    end
    if (rst) begin
        start_reg <= 1'b0;
        end_req <= 1'b0;
        run_pend_reg <= 1'b0;
        run_act_reg <= 1'b0;
    end
end

wire rd_en = run_act_reg && !tok_valid_reg && !rd_pend_reg &&
             rd_cnt_reg != n_prompt_reg;
wire tok_fire = tok_valid_reg && m_tok_ready;

always @(posedge clk) begin
    if (rd_en)
        rd_data_reg <= buf_mem[rd_cnt_reg[PROMPT_AW-1:0]];
end

always @(posedge clk) begin
    if (start_reg) begin
        rd_cnt_reg <= {(PROMPT_AW+1){1'b0}};
        rd_pend_reg <= 1'b0;
        tok_valid_reg <= 1'b0;
    end else begin
        if (rd_en)
            rd_cnt_reg <= rd_cnt_reg + 1'b1;
        rd_pend_reg <= rd_en;
        if (rd_pend_reg) begin
            tok_valid_reg <= 1'b1;
            tok_last_reg <= rd_cnt_reg == n_prompt_reg;
        end else if (tok_fire || !run_act_reg) begin
            // taken, or the run ended without it (the core gave up)
            tok_valid_reg <= 1'b0;
        end
    end
    if (rst) begin
        rd_cnt_reg <= {(PROMPT_AW+1){1'b0}};
        rd_pend_reg <= 1'b0;
        tok_valid_reg <= 1'b0;
    end
end

assign m_tok_valid = tok_valid_reg;
assign m_tok_data = rd_data_reg;
assign m_tok_last = tok_last_reg;

// ---- replies: one record at a time from a shift register ------------------------

reg pend_info_reg;
reg pend_ack_reg;
reg pend_rej_reg;
reg [7:0] rej_status_reg;
reg pend_end_reg;
reg [7:0] end_status_reg;
reg [15:0] end_cnt_reg;

reg [71:0] rec_reg;          // bytes still to send, next in [7:0]
reg [3:0] rec_left_reg;      // their count
wire rec_idle = rec_left_reg == 4'd0;

assign m_tx_valid = !rec_idle;
assign m_tx_data = rec_reg[7:0];
wire tx_fire = !rec_idle && m_tx_ready;

assign s_tok_ready = rec_idle && !pend_rej_reg && !pend_info_reg && !pend_ack_reg;

wire [23:0] gen_id;

generate
    if (TOK_W < 24) begin : g_id_ext
        assign gen_id = {{(24-TOK_W){1'b0}}, s_tok_data};
    end else begin : g_id_full
        assign gen_id = s_tok_data;
    end
endgenerate
wire [23:0] info_vocab = VOCAB24;

always @(posedge clk) begin
    if (info_req)
        pend_info_reg <= 1'b1;
    if (accept)
        pend_ack_reg <= 1'b1;
    if (reject) begin
        pend_rej_reg <= 1'b1;
        rej_status_reg <= reject_status;
    end
    if (end_req) begin
        pend_end_reg <= 1'b1;
        end_status_reg <= {6'd0, st_err_token, st_err_pos};
        end_cnt_reg <= gen_cnt_reg;
    end
    if (tx_fire) begin
        rec_reg <= {8'd0, rec_reg[71:8]};
        rec_left_reg <= rec_left_reg - 1'b1;
    end else if (rec_idle) begin
        if (pend_rej_reg) begin
            rec_reg <= {40'd0, 16'd0, rej_status_reg, R_END};
            rec_left_reg <= 4'd4;
            pend_rej_reg <= 1'b0;
        end else if (pend_info_reg) begin
            rec_reg <= {MAXP16, SEQ16, info_vocab, VERSION, C_INFO};
            rec_left_reg <= 4'd9;
            pend_info_reg <= 1'b0;
        end else if (pend_ack_reg) begin
            rec_reg <= {64'd0, R_ACK};
            rec_left_reg <= 4'd1;
            pend_ack_reg <= 1'b0;
        end else if (gen_fire) begin
            rec_reg <= {40'd0, gen_id, R_TOK};
            rec_left_reg <= 4'd4;
        end else if (pend_end_reg) begin
            rec_reg <= {40'd0, end_cnt_reg, end_status_reg, R_END};
            rec_left_reg <= 4'd4;
            pend_end_reg <= 1'b0;
        end
    end
    if (rst) begin
        pend_info_reg <= 1'b0;
        pend_ack_reg <= 1'b0;
        pend_rej_reg <= 1'b0;
        pend_end_reg <= 1'b0;
        rec_left_reg <= 4'd0;
    end
end

endmodule

`resetall
