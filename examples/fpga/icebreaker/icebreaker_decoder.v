`resetall
`timescale 1ns / 1ps
`default_nettype none

/*
 * icebreaker_decoder: the complete 260k decoder system on the iCEBreaker
 * (docs/fpga.md, "The decoder on the iCEBreaker"): icebreaker_decoder_core
 * (the emitted <prefix>_decoder, the QSPI weight reader and the UART token
 * protocol) in the board shell: PLL, reset, SB_IO cells, LEDs.
 *
 * The core's baked parameters and the decoder's module name come from the
 * emission (decoder_params.sh DIR yosys: -DLG_DECODER=... and a chparam of
 * icebreaker_decoder_core); this shell passes only the clock and the flash
 * round trip. The co-simulation taps (every logit, cycle counters) are
 * left open, so synthesis removes the logic that feeds only them.
 *
 * The PLL (LG_CLK_HZ and PLL_DIVR/DIVF/DIVQ/FILTER from FREQ, made by the
 * Makefile with icepll), the reset and the flash pins' SB_IO cells are
 * icebreaker_shell.v, shared by the iCEBreaker tops; IN_LAT = 2 accounts
 * for the IO cells' registers in the flash round trip. SCK = clk (SCK_DDR
 * in the shell and the reader: a DDR SCK output, the bus sampled at clk
 * falling), twice the flash bandwidth of the probe's SCK = clk / 2.
 */
`ifndef LG_CLK_HZ
`define LG_CLK_HZ 30000000
`endif

module icebreaker_decoder #(
    // clk frequency in Hz (the PLL output)
    parameter CLK_HZ = `LG_CLK_HZ,
    // UART rate
    parameter BAUD = 115200
) (
    input  wire CLK,
    input  wire RX,
    output wire TX,
    input  wire BTN_N,
    output wire LEDR_N,
    output wire LEDG_N,
    output wire FLASH_SCK,
    output wire FLASH_SSB,
    inout  wire FLASH_IO0,
    inout  wire FLASH_IO1,
    inout  wire FLASH_IO2,
    inout  wire FLASH_IO3
);

// ---- clock, reset and flash pins (icebreaker_shell.v) -----------------------------

wire clk, rst;
wire spi_cs_n, spi_sck;
wire [3:0] spi_io_o, spi_io_oe, spi_io_i;

icebreaker_shell #(
    .SCK_DDR(1)
) u_shell (
    .CLK(CLK), .BTN_N(BTN_N), .FLASH_SCK(FLASH_SCK), .FLASH_SSB(FLASH_SSB),
    .FLASH_IO0(FLASH_IO0), .FLASH_IO1(FLASH_IO1), .FLASH_IO2(FLASH_IO2), .FLASH_IO3(FLASH_IO3),
    .clk(clk), .rst(rst), .spi_cs_n(spi_cs_n), .spi_sck(spi_sck), .spi_io_o(spi_io_o),
    .spi_io_oe(spi_io_oe), .spi_io_i(spi_io_i));

// ---- the decoder system ---------------------------------------------------------

wire st_loaded, st_active, st_err_image;

icebreaker_decoder_core #(
    .CLK_HZ(CLK_HZ),
    .BAUD(BAUD),
    .IN_LAT(2),
    .SCK_DDR(1),
    .MARKS(1)
) u_core (
    .clk(clk),
    .rst(rst),
    .rxd(RX),
    .txd(TX),
    .spi_cs_n(spi_cs_n),
    .spi_sck(spi_sck),
    .spi_io_o(spi_io_o),
    .spi_io_oe(spi_io_oe),
    .spi_io_i(spi_io_i),
    .st_loaded(st_loaded),
    .st_active(st_active),
    .st_pos(),
    .st_err_pos(),
    .st_err_token(),
    .st_err_image(st_err_image),
    .m_logit_valid(),
    .m_logit_data(),
    .m_logit_last(),
    .cnt_total(),
    .cnt_matvec(),
    .cnt_attn(),
    .cnt_other()
);

// ---- LEDs (active low): green = flash ready with a marked weight image, red =
// a run / a rejected frame (every frame, when green stays off after the boot)

assign LEDG_N = !(st_loaded && !st_err_image);
assign LEDR_N = !st_active;

endmodule

`resetall
