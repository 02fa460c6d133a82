// gen_fpga_units: emits the FPGA board units (QSPI weight stream, UART,
// host token protocol) with the library's template machinery.
//
//   gen_fpga_units bench OUTROOT [FINALROOT]
//       the bench configurations (tests/hdl/units_fpga.mk):
//         OUTROOT/rtl/lg_{qspi_stream,uart_rx,uart_tx,uart_tokens}.v
//         OUTROOT/tb_qspi/tb_qspi_top.v + tb_qspi_cfg.h   (tests/hdl/tb_qspi.cpp)
//         OUTROOT/tb_uart/tb_uart_top.v + tb_uart_cfg.h   (tests/hdl/tb_uart.cpp)
//         OUTROOT/tb_uart2/tb_uart2_top.v + tb_uart_cfg.h (the same bench, another
//         lg_uart_tokens shape: tests/hdl/tb_uart2.cpp)
//       A wrapper instantiates every configuration of a bench in one
//       Verilator model; the _cfg.h header hands the bench the same table
//       (one source for both). With FINALROOT the banners name FINALROOT (the
//       build writes into a scratch OUTROOT and copies changed files over).
//   gen_fpga_units board OUTDIR [LANES [ROWS COLS]]
//       the iCEBreaker probe's RTL (examples/fpga/icebreaker): the four units
//       above and lg_matvec_l<LANES>_g32_r<ROWS>_c<COLS> (default 4, 512,
//       172: the largest 260k mat-vec shapes) into OUTDIR.
//
// The units have no C emitter of their own: their templates carry only
// ${MODULE}, and every parameter is a Verilog parameter set where they are
// instantiated, so lg_emit_module with the template's own name is the whole
// emitter (docs/fpga.md, "Emitting the units").
//
// QSPI configurations (flash model per instance, clk period for its timing
// checks in the _cfg.h table):
//   a  260k synthetic model (seed 260, smooth_k 0), lanes 4 (36-bit beats,
//      9 nibbles), the whole weight stream at 1 MiB; flash starts in deep
//      power-down with QE = 0 (the boot sequence must wake it and set QE);
//      30 MHz
//   b  lanes 1 (12-bit beats, 3 nibbles), random image at an odd base, IN_LAT
//      1, no boot sequence (a factory-QE part), 12 MHz
//   c  lanes 64 (two dexps, 520 bits, 65 bytes), IN_LAT 2, 100 MHz
//      (CS# high 6 cycles, tRES1 310 cycles)
//   d  lanes 16 (132 bits, 33 nibbles), image ending at the last flash byte,
//      wake only, 50 MHz
//   e  SCK_DDR (SCK = clk): lanes 2 (20-bit beats, 5 nibbles: the
//      iCEBreaker decoder's reader), IN_LAT 2, QE set at boot from deep
//      power-down, 18 MHz
//   f  SCK_DDR: lanes 64 (whole bytes), IN_LAT 1, no boot sequence, 50 MHz (the
//      flash's tCLQV of 7 ns fits the 10 ns half cycle)
//   g  MARKS (the marked layout) with SCK_DDR: the 260k model's stream at
//      lanes 2, the iCEBreaker decoder's reader exactly (IN_LAT 2, 18 MHz,
//      from deep power-down)
//   h  MARKS at SCK = clk / 2: the model's stream at lanes 8 (4 beats a
//      group, 16-nibble flash beats), IN_LAT 2, 30 MHz
// (g and h get the image's lg_wimage_tag as IMAGE_TAG, as the iCEBreaker
// core gets the manifest's weight_tag)
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700
#endif
#include "llamagen/checkpoint.h"
#include "llamagen/emit_mem.h"
#include "llamagen/emit_units.h"
#include "llamagen/quantize.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char g_command[4200]; // regenerate command for the banners

// ---- helpers -------------------------------------------------------------------

static int mkdir_p(const char *dir, lg_err *err)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", dir);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0777) && errno != EEXIST)
                return lg_fail(err, "mkdir %s: %s", p, strerror(errno));
            *s = '/';
        }
    if (mkdir(p, 0777) && errno != EEXIST)
        return lg_fail(err, "mkdir %s: %s", p, strerror(errno));
    return 0;
}

static FILE *open_out(const char *root, const char *sub, const char *file, lg_err *err)
{
    char dir[4200], p[4400];
    snprintf(dir, sizeof dir, "%s/%s", root, sub);
    if (mkdir_p(dir, err))
        return NULL;
    snprintf(p, sizeof p, "%s/%s", dir, file);
    FILE *f = fopen(p, "w");
    if (!f)
        lg_fail(err, "%s: %s", p, strerror(errno));
    return f;
}

// ---- the units -------------------------------------------------------------------

static const struct {
    const char *name;    // template = module name
    const char *latency; // banner line
} UNITS[] = {
    {"lg_qspi_stream", "first beat 81 + 2 * NW + IN_LAT cycles after start, then one per "
                       "2 * NW cycles (SCK = clk / 2; NW = beat_bits / 4 nibbles, 1 more from "
                       "an odd beat of an odd NW); with SCK_DDR 42 + NW + IN_LAT, then one "
                       "per NW (SCK = clk)"},
    {"lg_uart_rx", "byte valid 3 + CPB / 2 + 9 * CPB cycles after the first cycle with rxd "
                   "low (CPB = round(CLK_HZ / BAUD))"},
    {"lg_uart_tx", "start bit the cycle after the handshake; one byte per 10 * CPB + 1 cycles"},
    {"lg_uart_tokens", "'A' and ctl_start (st_busy low) 1 cycle after a frame's checksum "
                       "byte"},
};
#define N_UNITS ((int)(sizeof UNITS / sizeof UNITS[0]))

static int emit_units(lg_emit_ctx *ctx, lg_err *err)
{
    for (int i = 0; i < N_UNITS; i++)
        if (lg_emit_module(ctx, UNITS[i].name, UNITS[i].name, NULL, 0, UNITS[i].latency, err))
            return -1;
    return 0;
}

// ---- the 260k synthetic model (the QSPI bench rebuilds it the same way) -------------

static int model_260k(lg_qmodel *qm, lg_config *cfg, lg_err *err)
{
    lg_weights w;
    if (lg_config_preset("260k", cfg, err) || lg_weights_synthetic(&cfg->m, 260, &w, err))
        return -1;
    lg_quant_opts o;
    lg_quant_opts_default(&o);
    o.smooth_k = 0;
    int rc = lg_quantize_model(qm, cfg, &w, &o, err);
    lg_weights_free(&w);
    return rc;
}

// ---- QSPI bench ----------------------------------------------------------------------

typedef struct qspi_cfg {
    const char *prefix; // wrapper port prefix
    int lanes, group;
    long depth;         // beats (0: the 260k image's)
    long base;          // flash byte address of beat 0 (-1: end at the last byte)
    int init_wake, t_res, init_qe, cs_high, in_lat;
    int clk_ns;         // the instance's clk period for the flash model's checks
    int model_image;    // 1: the 260k weight stream; 0: random beats
    int flash_pd;       // flash starts in deep power-down
    int flash_qe;       // flash QE bit at power-up
    int ddr;            // SCK_DDR: SCK = clk, the bus sampled at clk falling
    int marks;          // MARKS: the marked layout (each dexp once, in a mark beat)
    unsigned tag;       // MARKS: the image's tag (lg_wimage_tag), the reader's IMAGE_TAG
    long lead;          // MARKS_LEAD: beat 0's flash beat (g, as the iCEBreaker core
                        // gets it; h keeps 0 and reads the leading repeats)
} qspi_cfg;

// flash bytes of a packed instance's image (beats packed nibble after
// nibble: lg_flash_image_bytes), for d's image ending at the flash's end
static long image_bytes(const qspi_cfg *c)
{
    int ndx = c->lanes > c->group ? c->lanes / c->group : 1;
    return (c->depth * (2L * c->lanes + ndx) + 1) / 2;
}

static int clog2l(long v)
{
    int n = 0;
    while ((1L << n) < v)
        n++;
    return n;
}

static int gen_qspi_bench(const char *root, lg_err *err)
{
    qspi_cfg cs[8] = {
        {"a", 4, 32, 0, 0x100000, 1, 256, 1, 4, 0, 33, 1, 1, 0, 0, 0, 0, 0},
        {"b", 1, 32, 300, 0x123457, 0, 256, 0, 4, 1, 83, 0, 0, 1, 0, 0, 0, 0},
        {"c", 64, 32, 100, 0x200000, 1, 310, 1, 6, 2, 10, 0, 0, 0, 0, 0, 0, 0},
        {"d", 16, 32, 200, -1, 1, 256, 0, 4, 0, 20, 0, 1, 1, 0, 0, 0, 0},
        {"e", 2, 32, 3000, 0x100000, 1, 256, 1, 4, 2, 55, 0, 1, 0, 1, 0, 0, 0},
        {"f", 64, 32, 100, 0x300001, 0, 256, 0, 4, 1, 20, 0, 0, 1, 1, 0, 0, 0},
        {"g", 2, 32, 0, 0x100000, 1, 256, 1, 4, 2, 55, 1, 1, 0, 1, 1, 0, 0},
        {"h", 8, 32, 0, 0x200000, 1, 256, 1, 4, 2, 33, 1, 1, 0, 0, 1, 0, 0},
    };
    int n = 8;
    lg_qmodel qm;
    lg_config cfg;
    if (model_260k(&qm, &cfg, err))
        return -1;
    lg_wimage img, img2;
    int rc = lg_wimage_build(&img, &qm, 4, err);
    // g, h: the same model at lanes 2 (the iCEBreaker decoder's stream) and 8
    for (int k = 6; k < 8 && !rc; k++) {
        rc = lg_wimage_build(&img2, &qm, cs[k].lanes, err);
        if (rc) {
            lg_wimage_free(&img);
        } else {
            cs[k].depth = (long)img2.nbeats;
            cs[k].tag = lg_wimage_tag(&img2);
            if (k == 6)
                cs[k].lead = (long)lg_wimage_marks_lead(&img2, NULL, NULL);
            lg_wimage_free(&img2);
        }
    }
    lg_qmodel_free(&qm);
    if (rc)
        return -1;
    cs[0].depth = (long)img.nbeats;
    // the Wcls range of the image (a restart in the middle of a token)
    long cls_first = (long)img.mats[img.nmats - 1].first;
    long cls_beats = (long)img.mats[img.nmats - 1].nbeats;
    lg_wimage_free(&img);
    cs[3].base = (16L << 20) - image_bytes(&cs[3]);

    FILE *f = open_out(root, "tb_qspi", "tb_qspi_top.v", err);
    if (!f)
        return -1;
    fprintf(f, "`resetall\n`timescale 1ns / 1ps\n`default_nettype none\n\n"
               "// DO NOT EDIT: bench top written by %s (tests/hdl/gen_fpga_units.c).\n"
               "// QSPI weight streams a..h; pad_i is registered IN_LAT times before\n"
               "// spi_io_i, as an SB_IO input register would (SCK_DDR: IN_LAT - 1 times,\n"
               "// pad_i being the bus the bench sampled at clk falling).\n\n",
            g_command);
    fprintf(f, "module tb_qspi_top (\n    input  wire clk,\n    input  wire rst");
    for (int k = 0; k < n; k++) {
        const char *p = cs[k].prefix;
        int aw = clog2l(cs[k].depth);
        int ndx = cs[k].lanes > cs[k].group ? cs[k].lanes / cs[k].group : 1;
        fprintf(f,
                ",\n    input  wire %s_start,\n    input  wire [%d:0] %s_start_addr,\n"
                "    output wire %s_loaded,\n    output wire %s_err_image,\n"
                "    output wire %s_m_valid,\n    input  wire %s_m_ready,\n"
                "    output wire [%d:0] %s_m_mant,\n    output wire [%d:0] %s_m_dexp,\n"
                "    output wire %s_cs_n,\n    output wire %s_sck,\n"
                "    output wire [3:0] %s_io_o,\n    output wire [3:0] %s_io_oe,\n"
                "    input  wire [3:0] %s_pad_i",
                p, aw - 1, p, p, p, p, p, 8 * cs[k].lanes - 1, p, 4 * ndx - 1, p, p, p, p, p, p);
    }
    fprintf(f, "\n);\n\n");
    for (int k = 0; k < n; k++) {
        const qspi_cfg *c = &cs[k];
        const char *p = c->prefix;
        int regs = c->in_lat - c->ddr;
        if (regs == 0) {
            fprintf(f, "wire [3:0] %s_io_i = %s_pad_i;\n\n", p, p);
        } else {
            fprintf(f, "reg [3:0] %s_in_reg [0:%d];\nwire [3:0] %s_io_i = %s_in_reg[%d];\n", p,
                    regs - 1, p, p, regs - 1);
            fprintf(f, "always @(posedge clk) begin\n    %s_in_reg[0] <= %s_pad_i;\n", p, p);
            for (int s = 1; s < regs; s++)
                fprintf(f, "    %s_in_reg[%d] <= %s_in_reg[%d];\n", p, s, p, s - 1);
            fprintf(f, "end\n\n");
        }
        fprintf(f,
                "lg_qspi_stream #(\n    .LANES(%d), .GROUP(%d), .DEPTH(%ld), .BASE_ADDR(24'h%06lx),\n"
                "    .INIT_WAKE(%d), .T_RES_CYCLES(%d), .INIT_QE(%d), .CS_HIGH_CYCLES(%d),\n"
                "    .IN_LAT(%d), .SCK_DDR(%d), .MARKS(%d), .IMAGE_TAG(16'h%04x), .MARKS_LEAD(%ld)\n"
                ") qspi_%s (\n"
                "    .clk(clk), .rst(rst),\n"
                "    .start(%s_start), .start_addr(%s_start_addr),\n"
                "    .loaded(%s_loaded), .err_image(%s_err_image),\n"
                "    .m_w_valid(%s_m_valid), .m_w_ready(%s_m_ready), .m_w_mant(%s_m_mant),\n"
                "    .m_w_dexp(%s_m_dexp),\n"
                "    .spi_cs_n(%s_cs_n), .spi_sck(%s_sck), .spi_io_o(%s_io_o),\n"
                "    .spi_io_oe(%s_io_oe), .spi_io_i(%s_io_i)\n);\n\n",
                c->lanes, c->group, c->depth, c->base, c->init_wake, c->t_res, c->init_qe,
                c->cs_high, c->in_lat, c->ddr, c->marks, c->tag, c->lead, p, p, p, p, p, p, p, p, p, p, p, p,
                p, p);
    }
    fprintf(f, "endmodule\n\n`resetall\n");
    fclose(f);

    f = open_out(root, "tb_qspi", "tb_qspi_cfg.h", err);
    if (!f)
        return -1;
    fprintf(f, "// DO NOT EDIT: written by %s (tests/hdl/gen_fpga_units.c).\n"
               "// The configurations of tb_qspi_top.v, for tests/hdl/tb_qspi.cpp.\n"
               "#define TBQ_CLS_FIRST %ld\n#define TBQ_CLS_BEATS %ld\n"
               "#define TBQ_FOREACH(X) \\\n",
            g_command, cls_first, cls_beats);
    for (int k = 0; k < n; k++) {
        const qspi_cfg *c = &cs[k];
        fprintf(f,
                "    X(%s, %d, %d, %ld, 0x%06lxL, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %ldL)%s\n",
                c->prefix, c->lanes, c->group, c->depth, c->base, c->init_wake, c->t_res,
                c->init_qe, c->cs_high, c->in_lat, c->clk_ns, c->model_image, c->flash_pd,
                c->flash_qe, c->ddr, c->marks, c->lead, k + 1 < n ? " \\" : "");
    }
    fclose(f);
    return 0;
}

// ---- UART bench -----------------------------------------------------------------------

// host_tx -> dut_rx -> tokens -> dut_tx -> host_rx, the lines passing through
// the bench (h2d_line -> dut_rxd, d2h_line -> host_rxd), and rx2: a receiver
// at another rate that the bench drives bit by bit.
#define U_CLK_HZ 1152000
#define U_BAUD 115200
#define U2_CLK_HZ 1000000
#define U_VOCAB 512
#define U_SEQ 40
#define U_TIMEOUT 5000

// lg_uart_tokens shapes, one bench each (the same tests/hdl/tb_uart.cpp):
//   tb_uart   TOK_W 10, POS_W 10, 32 prompt ids
//   tb_uart2  TOK_W 20 (an id's third byte is kept), POS_W 6 (n_gen
//             saturated from its low byte), 16 prompt ids (random frames
//             fill the buffer: n_prompt = 2^PROMPT_AW)
typedef struct uart_cfg {
    const char *name; // bench (directory tb_<name>, module tb_<name>_top)
    int tok_w, pos_w, prompt_aw;
} uart_cfg;

static const uart_cfg UART_CFGS[] = {{"uart", 10, 10, 5}, {"uart2", 20, 6, 4}};

static int gen_uart_bench(const char *root, const uart_cfg *c, lg_err *err)
{
    char sub[64], top[64];
    snprintf(sub, sizeof sub, "tb_%s", c->name);
    snprintf(top, sizeof top, "tb_%s_top.v", c->name);
    FILE *f = open_out(root, sub, top, err);
    if (!f)
        return -1;
    fprintf(f,
            "`resetall\n`timescale 1ns / 1ps\n`default_nettype none\n\n"
            "// DO NOT EDIT: bench top written by %s (tests/hdl/gen_fpga_units.c).\n"
            "// host_tx -> (h2d_line, bench) -> dut_rxd -> rx -> tokens -> tx -> (d2h_line,\n"
            "// bench) -> host_rxd -> host_rx; rx2 at %d Hz is driven by the bench.\n\n"
            "module tb_%s_top (\n"
            "    input  wire clk,\n    input  wire rst,\n"
            "    input  wire h_tx_valid,\n    output wire h_tx_ready,\n"
            "    input  wire [7:0] h_tx_data,\n    output wire h2d_line,\n"
            "    input  wire dut_rxd,\n    output wire d2h_line,\n    input  wire host_rxd,\n"
            "    output wire h_rx_valid,\n    output wire [7:0] h_rx_data,\n"
            "    output wire h_rx_err_frame,\n    output wire h_rx_err_overrun,\n"
            "    output wire d_rx_err_frame,\n    output wire d_rx_err_overrun,\n"
            "    output wire ctl_start,\n    output wire [23:0] ctl_inv_temp,\n"
            "    output wire ctl_seed_we,\n    output wire [7:0] ctl_seed_byte,\n"
            "    output wire [%d:0] ctl_n_gen,\n"
            "    output wire p_valid,\n    input  wire p_ready,\n"
            "    output wire [%d:0] p_data,\n    output wire p_last,\n"
            "    input  wire g_valid,\n    output wire g_ready,\n    input  wire [%d:0] g_data,\n"
            "    input  wire st_busy,\n    input  wire st_err_pos,\n    input  wire st_err_token,\n"
            "    input  wire st_err_image,\n"
            "    output wire st_run,\n    output wire st_reject,\n"
            "    input  wire rx2_rxd,\n    input  wire rx2_ready,\n    output wire rx2_valid,\n"
            "    output wire [7:0] rx2_data,\n    output wire rx2_err_frame,\n"
            "    output wire rx2_err_overrun\n);\n\n",
            g_command, U2_CLK_HZ, c->name, c->pos_w - 1, c->tok_w - 1, c->tok_w - 1);
    fprintf(f,
            "wire d_rx_valid, d_rx_ready, d_tx_valid, d_tx_ready;\n"
            "wire [7:0] d_rx_data, d_tx_data;\n"
            "wire d_rx_tick, h_rx_tick, rx2_tick, unused_ticks;\n\n"
            "lg_uart_tx #(.CLK_HZ(%d), .BAUD(%d)) host_tx (\n"
            "    .clk(clk), .rst(rst), .s_valid(h_tx_valid), .s_ready(h_tx_ready),\n"
            "    .s_data(h_tx_data), .txd(h2d_line));\n\n"
            "lg_uart_rx #(.CLK_HZ(%d), .BAUD(%d), .HOLD(0)) dut_rx (\n"
            "    .clk(clk), .rst(rst), .rxd(dut_rxd), .m_valid(d_rx_valid),\n"
            "    .m_ready(d_rx_ready), .m_data(d_rx_data), .err_frame(d_rx_err_frame),\n"
            "    .err_overrun(d_rx_err_overrun), .bit_tick(d_rx_tick));\n\n"
            "lg_uart_tokens #(.TOK_W(%d), .POS_W(%d), .VOCAB(%d), .SEQ_LEN(%d),\n"
            "    .PROMPT_AW(%d), .TIMEOUT_CYCLES(%d), .TICK_CYCLES(%d)) tokens (\n"
            "    .clk(clk), .rst(rst),\n"
            "    .s_rx_valid(d_rx_valid), .s_rx_ready(d_rx_ready), .s_rx_data(d_rx_data),\n"
            "    .m_tx_valid(d_tx_valid), .m_tx_ready(d_tx_ready), .m_tx_data(d_tx_data),\n"
            "    .s_rx_tick(d_rx_tick),\n"
            "    .ctl_start(ctl_start), .ctl_inv_temp(ctl_inv_temp), .ctl_seed_we(ctl_seed_we),\n"
            "    .ctl_seed_byte(ctl_seed_byte), .ctl_n_gen(ctl_n_gen),\n"
            "    .m_tok_valid(p_valid), .m_tok_ready(p_ready), .m_tok_data(p_data),\n"
            "    .m_tok_last(p_last),\n"
            "    .s_tok_valid(g_valid), .s_tok_ready(g_ready), .s_tok_data(g_data),\n"
            "    .st_busy(st_busy), .st_err_pos(st_err_pos), .st_err_token(st_err_token),\n"
            "    .st_err_image(st_err_image),\n"
            "    .st_run(st_run), .st_reject(st_reject));\n\n"
            "lg_uart_tx #(.CLK_HZ(%d), .BAUD(%d)) dut_tx (\n"
            "    .clk(clk), .rst(rst), .s_valid(d_tx_valid), .s_ready(d_tx_ready),\n"
            "    .s_data(d_tx_data), .txd(d2h_line));\n\n"
            "lg_uart_rx #(.CLK_HZ(%d), .BAUD(%d)) host_rx (\n"
            "    .clk(clk), .rst(rst), .rxd(host_rxd), .m_valid(h_rx_valid),\n"
            "    .m_ready(1'b1), .m_data(h_rx_data), .err_frame(h_rx_err_frame),\n"
            "    .err_overrun(h_rx_err_overrun), .bit_tick(h_rx_tick));\n\n"
            "lg_uart_rx #(.CLK_HZ(%d), .BAUD(%d)) rx2 (\n"
            "    .clk(clk), .rst(rst), .rxd(rx2_rxd), .m_valid(rx2_valid),\n"
            "    .m_ready(rx2_ready), .m_data(rx2_data), .err_frame(rx2_err_frame),\n"
            "    .err_overrun(rx2_err_overrun), .bit_tick(rx2_tick));\n"
            "assign unused_ticks = ^{h_rx_tick, rx2_tick};\n\n"
            "endmodule\n\n`resetall\n",
            U_CLK_HZ, U_BAUD, U_CLK_HZ, U_BAUD, c->tok_w, c->pos_w, U_VOCAB, U_SEQ, c->prompt_aw,
            U_TIMEOUT, (U_CLK_HZ + U_BAUD / 2) / U_BAUD, U_CLK_HZ, U_BAUD, U_CLK_HZ, U_BAUD,
            U2_CLK_HZ, U_BAUD);
    fclose(f);

    f = open_out(root, sub, "tb_uart_cfg.h", err);
    if (!f)
        return -1;
    fprintf(f,
            "// DO NOT EDIT: written by %s (tests/hdl/gen_fpga_units.c).\n"
            "// The parameters of tb_%s_top.v, for tests/hdl/tb_uart.cpp.\n"
            "#define TBU_CLK_HZ %d\n#define TBU_BAUD %d\n#define TBU2_CLK_HZ %d\n"
            "#define TBU_TOK_W %d\n#define TBU_POS_W %d\n#define TBU_VOCAB %d\n"
            "#define TBU_SEQ %d\n#define TBU_PROMPT_AW %d\n#define TBU_TIMEOUT %d\n",
            g_command, c->name, U_CLK_HZ, U_BAUD, U2_CLK_HZ, c->tok_w, c->pos_w, U_VOCAB, U_SEQ,
            c->prompt_aw, U_TIMEOUT);
    fclose(f);
    return 0;
}

// ---- main ------------------------------------------------------------------------------

static int arg_int(const char *s, int32_t *v)
{
    char *end;
    long x = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || x < 1 || x > (1L << 20))
        return -1;
    *v = (int32_t)x;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s bench OUTROOT [FINALROOT] | board OUTDIR [LANES [ROWS COLS]]\n", argv[0]);
        return 2;
    }
    g_command[0] = '\0';
    int bench_final = strcmp(argv[1], "bench") == 0 && argc == 4;
    for (int i = 0; i < (bench_final ? 2 : argc); i++) {
        strncat(g_command, i ? " " : "", sizeof g_command - strlen(g_command) - 1);
        strncat(g_command, argv[i], sizeof g_command - strlen(g_command) - 1);
    }
    if (bench_final) {
        strncat(g_command, " ", sizeof g_command - strlen(g_command) - 1);
        strncat(g_command, argv[3], sizeof g_command - strlen(g_command) - 1);
    }
    lg_err err = {{0}};
    lg_config cfg;
    if (lg_config_preset("260k", &cfg, &err)) {
        fprintf(stderr, "gen_fpga_units: %s\n", err.msg);
        return 1;
    }
    cfg.hw.lanes = 4;
    int rc;
    if (strcmp(argv[1], "bench") == 0 && (argc == 3 || argc == 4)) {
        char rtl[4200];
        snprintf(rtl, sizeof rtl, "%s/rtl", argv[2]);
        lg_emit_ctx ctx;
        rc = mkdir_p(rtl, &err);
        lg_emit_ctx_init(&ctx, &cfg, rtl, g_command);
        if (!rc)
            rc = emit_units(&ctx, &err);
        lg_emit_ctx_free(&ctx);
        if (!rc)
            rc = gen_qspi_bench(argv[2], &err);
        for (size_t i = 0; !rc && i < sizeof UART_CFGS / sizeof UART_CFGS[0]; i++)
            rc = gen_uart_bench(argv[2], &UART_CFGS[i], &err);
    } else if (strcmp(argv[1], "board") == 0 && (argc == 3 || argc == 4 || argc == 6)) {
        lg_matvec_params p = {4, 32, 512, 172, 0};
        if ((argc >= 4 && arg_int(argv[3], &p.lanes)) ||
            (argc == 6 && (arg_int(argv[4], &p.rows) || arg_int(argv[5], &p.cols)))) {
            fprintf(stderr, "gen_fpga_units: bad board arguments\n");
            return 2;
        }
        cfg.hw.lanes = p.lanes;
        lg_emit_ctx ctx;
        rc = mkdir_p(argv[2], &err);
        lg_emit_ctx_init(&ctx, &cfg, argv[2], g_command);
        if (!rc)
            rc = emit_units(&ctx, &err) || lg_emit_matvec(&ctx, NULL, &p, &err);
        for (int i = 0; rc == 0 && i < ctx.nfiles; i++)
            printf("%s/%s\n", argv[2], ctx.files[i]);
        lg_emit_ctx_free(&ctx);
    } else {
        fprintf(stderr, "gen_fpga_units: unknown mode or wrong argument count: %s\n", argv[1]);
        return 2;
    }
    if (rc) {
        fprintf(stderr, "gen_fpga_units: %s\n", err.msg);
        return 1;
    }
    return 0;
}
