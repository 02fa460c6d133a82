`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * icebreaker_probe_core: the vendor-neutral part of icebreaker_probe (no
 * PLL, no SB_IO), so that it simulates as is (sim_probe.cpp, `make sim`).
 *
 * One mat-vec engine (`LG_MATVEC: lg_matvec, LANES lanes, ROWS x COLS) fed by
 * the QSPI weight stream (lg_qspi_stream, image at 1 MiB) and driven over the
 * UART with the host token protocol (lg_uart_rx / lg_uart_tokens /
 * lg_uart_tx; docs/fpga.md):
 *  - a 'G' frame's prompt ids are the activation vector (COLS int16 values,
 *    16-bit ids, loaded in order; extra ids wrap), inv_temp bits 7:0 the
 *    mat-vec's signed shift (-(ebase + xs)); n_gen and seed are ignored;
 *  - after the last id the mat-vec runs over the whole flash image and each
 *    int32 result goes back as two 'T' records (low 16 bits, then high),
 *    then 'E'. UART backpressure stalls the mat-vec, which pauses SCK.
 */
`ifndef LG_MATVEC
`define LG_MATVEC lg_matvec_l4_g32_r512_c172
`endif

module icebreaker_probe_core #(
    // clk frequency in Hz
    parameter CLK_HZ = 30000000,
    // mat-vec lanes, rows, columns (as emitted: gen_fpga_units board)
    parameter LANES = 4,
    parameter ROWS = 512,
    parameter COLS = 172,
    // UART rate
    parameter BAUD = 115200,
    // register stages in the flash round trip (SB_IO registers: 2)
    parameter IN_LAT = 2
) (
    input  wire       clk,
    input  wire       rst,

    /*
     * Host UART
     */
    input  wire       rxd,
    output wire       txd,

    /*
     * QSPI flash
     */
    output wire       spi_cs_n,
    output wire       spi_sck,
    output wire [3:0] spi_io_o,
    output wire [3:0] spi_io_oe,
    input  wire [3:0] spi_io_i,

    /*
     * Status: the flash reader is ready; a run / a rejected frame
     */
    output wire       st_loaded,
    output wire       st_active
);

localparam BEATS = (COLS + LANES - 1) / LANES;
localparam NBEATS = ROWS * BEATS;
localparam AW = $clog2(NBEATS);
localparam CW = $clog2(COLS);
localparam [31:0] COLS_M1_32 = COLS - 1;
localparam [CW-1:0] COLS_M1 = COLS_M1_32[CW-1:0];
localparam T_RES = CLK_HZ / 333333 + 1;   // tRES1 = 3 us

// ---- weight stream ------------------------------------------------------------------

wire w_start;
wire w_loaded;
wire w_valid, w_ready;
wire [LANES*8-1:0] w_mant;
wire [((LANES > 32) ? LANES / 32 : 1)*4-1:0] w_dexp;

// (MARKS = 0: the probe's image has a dexp in every beat, err_image is 0)
wire w_err_image;

lg_qspi_stream #(
    .LANES(LANES),
    .GROUP(32),
    .DEPTH(NBEATS),
    .BASE_ADDR(24'h100000),
    .INIT_WAKE(1),
    .T_RES_CYCLES(T_RES),
    .INIT_QE(1),
    .CS_HIGH_CYCLES(4),
    .IN_LAT(IN_LAT)
) u_qspi (
    .clk(clk),
    .rst(rst),
    .start(w_start),
    .start_addr({AW{1'b0}}),
    .loaded(w_loaded),
    .err_image(w_err_image),
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

wire ctl_start;
wire [23:0] ctl_inv_temp;
wire ctl_seed_we;
wire [7:0] ctl_seed_byte;
wire [15:0] ctl_n_gen;
wire p_valid, p_ready, p_last;
wire [15:0] p_data;
wire g_valid, g_ready;
wire [15:0] g_data;
wire st_busy;
wire st_run, st_reject;

lg_uart_tokens #(
    .TOK_W(16), .POS_W(16), .VOCAB(65535), .SEQ_LEN(COLS), .PROMPT_AW(8),
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
    .st_busy(st_busy), .st_err_pos(1'b0), .st_err_token(1'b0), .st_err_image(w_err_image),
    .st_run(st_run), .st_reject(st_reject));

wire unused_ctl = ^{ctl_seed_we, ctl_seed_byte, ctl_n_gen, ctl_inv_temp[23:8], rx_err_frame, rx_err_overrun};

// ---- the probe's sequencer: load x, run the mat-vec, send the results -------------

localparam [1:0] PH_IDLE = 2'd0, PH_LOAD = 2'd1, PH_RUN = 2'd2;

reg [1:0] ph_reg;
reg [CW-1:0] x_addr_reg;
reg [7:0] shift_reg;
reg go_reg;
reg go_pend_reg; // x loaded: start once the flash reader is ready
reg half_reg;   // 0: low half of the result goes out next

wire mv_busy, mv_done;
wire mv_valid, mv_ready, mv_last;
wire [31:0] mv_data;
wire p_fire = p_valid && p_ready;
wire unused_mv = ^{mv_busy, mv_last};

assign p_ready = ph_reg == PH_LOAD;
assign st_busy = ph_reg != PH_IDLE;
assign w_start = go_reg;
assign g_valid = mv_valid;
assign g_data = half_reg ? mv_data[31:16] : mv_data[15:0];
assign mv_ready = g_ready && half_reg;

always @(posedge clk) begin
    go_reg <= 1'b0;
    case (ph_reg)
        PH_IDLE: begin
            if (ctl_start) begin
                shift_reg <= ctl_inv_temp[7:0];
                x_addr_reg <= {CW{1'b0}};
                ph_reg <= PH_LOAD;
            end
        end
        PH_LOAD: begin
            if (p_fire) begin
                x_addr_reg <= (x_addr_reg == COLS_M1) ? {CW{1'b0}} : x_addr_reg + 1'b1;
                if (p_last) begin
                    go_pend_reg <= 1'b1;
                    ph_reg <= PH_RUN;
                end
            end
        end
        default: begin
            if (go_pend_reg && w_loaded) begin
                go_reg <= 1'b1;
                go_pend_reg <= 1'b0;
            end
            if (mv_done)
                ph_reg <= PH_IDLE;
        end
    endcase
    if (g_valid && g_ready)
        half_reg <= !half_reg;
    if (rst) begin
        ph_reg <= PH_IDLE;
        go_reg <= 1'b0;
        go_pend_reg <= 1'b0;
        half_reg <= 1'b0;
    end
end

`LG_MATVEC u_mv (
    .clk(clk),
    .rst(rst),
    .act_we(p_fire),
    .act_wsel(1'b0),   // one vector (COLS2 = 0)
    .act_waddr(x_addr_reg),
    .act_wdata(p_data),
    .start(go_reg),
    .shift(shift_reg),
    .start_sel(1'b0),
    .busy(mv_busy),
    .done(mv_done),
    .s_w_valid(w_valid),
    .s_w_ready(w_ready),
    .s_w_mant(w_mant),
    .s_w_dexp(w_dexp),
    .m_out_valid(mv_valid),
    .m_out_ready(mv_ready),
    .m_out_data(mv_data),
    .m_out_last(mv_last)
);

assign st_loaded = w_loaded;
assign st_active = st_run || st_reject;

endmodule

`resetall
