// gen_mem_units OUTROOT [FINALROOT]: emits the bench configurations of the weight memory,
// the embedding lookup and the sampler (src/emit_wmem.c, src/emit_sampler.c)
// with the library's emitters into OUTROOT/<cfg>/rtl/, the data a bench needs
// beyond what it can rebuild itself into OUTROOT/<cfg>/bench_data.txt, and
// per bench a top wrapper OUTROOT/tb_<unit>/tb_<unit>_top.v instantiating
// every configuration of the unit in one Verilator model (one build per
// bench), with the $readmemh images as absolute paths. With FINALROOT the
// files are written to OUTROOT but name FINALROOT (paths and banners), for a
// build that moves changed files into FINALROOT afterwards
// (tests/hdl/units_mem.mk); the output is then byte-identical to a direct
// `gen_mem_units FINALROOT`.
//
// Configurations:
//   wmem_l16     260k synthetic model (seed 260, smooth_k 0), lanes 16: the
//                whole weight stream (16288 beats x 132 bits)
//   wmem_l64     the same model at lanes 64 (2 dexps per beat, 520 bits)
//   wmem_boot    boot-only RAM (no image, PRELOADED 0): lanes 4, G 16, 100 beats
//   embed_260k   the 260k model's embedding (512 x 64, G 32)
//   embed_neg    37 x 40, G 16 (ragged 16+16+8), ebase -30: right shifts up
//                to 30 (rounding, and rows of zeros)
//   embed_sat    the same table with ebase +8: left shifts 24..39, saturation
//   axi_wreader_units  the AXI4 weight reader (lg_axi_wreader): one module whose
//                parameters each instance sets (the table in gen_axi_wreader below)
//   sampler_units vocab 512 (a_*) and vocab 5 (b_*) with one exp2 unit; the
//                mul_share form at vocab 512 (c_*, the iCEBreaker shape), 5 (d_*),
//                300 (e_*, not a power of two) and 2 (f_*, the smallest)
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 // realpath
#endif
#include "llamagen/checkpoint.h"
#include "llamagen/emit_mem.h"
#include "llamagen/emit_units2.h"
#include "llamagen/quantize.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *g_root;   // OUTROOT as given: where files are written
static char g_absroot[4096]; // FINALROOT, absolute (for $readmemh paths in wrappers)
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

// OUTROOT/<name>/rtl/ and a context writing there.
static int open_cfg(lg_emit_ctx *ctx, const char *name, const lg_config *cfg, lg_err *err)
{
    static char rtl[4200];
    snprintf(rtl, sizeof rtl, "%s/%s/rtl", g_root, name);
    if (mkdir_p(rtl, err))
        return -1;
    lg_emit_ctx_init(ctx, cfg, rtl, g_command);
    return 0;
}

static FILE *open_out(const char *sub, const char *file, lg_err *err)
{
    char dir[4200], p[4400];
    snprintf(dir, sizeof dir, "%s/%s", g_root, sub);
    if (mkdir_p(dir, err))
        return NULL;
    snprintf(p, sizeof p, "%s/%s", dir, file);
    FILE *f = fopen(p, "w");
    if (!f)
        lg_fail(err, "%s: %s", p, strerror(errno));
    return f;
}

// Absolute path of OUTROOT/<cfg>/rtl/<file>.
static const char *abs_file(char *buf, size_t cap, const char *cfg, const char *file)
{
    snprintf(buf, cap, "%s/%s/rtl/%s", g_absroot, cfg, file);
    return buf;
}

static const char *WRAP_HEAD =
    "`resetall\n`timescale 1ns / 1ps\n`default_nettype none\n\n"
    "// DO NOT EDIT: bench top written by %s (tests/hdl/gen_mem_units.c).\n"
    "// %s\n\n";

// ---- the 260k synthetic model (the benches rebuild it the same way) -------------

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

// ---- wmem --------------------------------------------------------------------------

typedef struct wmem_cfg {
    const char *name;    // directory
    const char *prefix;  // wrapper port prefix
    char module[128];
    lg_wmem_params p;
    int preloaded;
} wmem_cfg;

static int gen_wmem(wmem_cfg *c, const lg_qmodel *qm, lg_config cfg, lg_err *err)
{
    lg_emit_ctx ctx;
    cfg.hw.lanes = c->p.lanes;
    cfg.hw.group_size = c->p.group;
    if (open_cfg(&ctx, c->name, &cfg, err))
        return -1;
    int rc = 0;
    if (qm) {
        lg_wimage img;
        rc = lg_wimage_build(&img, qm, c->p.lanes, err);
        if (!rc) {
            c->p.depth = img.nbeats;
            rc = lg_emit_weights_hex(&ctx, &img, c->p.init_file, err);
            lg_wimage_free(&img);
        }
    }
    lg_wmem_module_name(c->module, sizeof c->module, &c->p);
    if (!rc)
        rc = lg_emit_wmem(&ctx, c->module, &c->p, err);
    lg_emit_ctx_free(&ctx);
    return rc;
}

static int wrap_wmem(const wmem_cfg *cs, int n, lg_err *err)
{
    FILE *f = open_out("tb_wmem", "tb_wmem_top.v", err);
    if (!f)
        return -1;
    fprintf(f, WRAP_HEAD, g_command,
            "weight memories: 260k lanes 16 (a_*), lanes 64 (b_*), boot-only (c_*).");
    fprintf(f, "module tb_wmem_top (\n    input  wire clk,\n    input  wire rst");
    for (int k = 0; k < n; k++) {
        const char *p = cs[k].prefix;
        int aw = 1;
        while ((1LL << aw) < cs[k].p.depth)
            aw++;
        int nd = lg_wimage_ndexp(cs[k].p.lanes, cs[k].p.group);
        int bw = 8 * cs[k].p.lanes + 4 * nd;
        fprintf(f,
                ",\n    input  wire %s_start,\n    input  wire [%d:0] %s_start_addr,\n"
                "    input  wire [%d:0] %s_last_addr,\n    output wire %s_busy,\n"
                "    output wire %s_done,\n    input  wire %s_boot_we,\n"
                "    input  wire [%d:0] %s_boot_addr,\n    input  wire [%d:0] %s_boot_data,\n"
                "    input  wire %s_boot_done,\n    output wire %s_loaded,\n"
                "    output wire %s_m_valid,\n    input  wire %s_m_ready,\n"
                "    output wire [%d:0] %s_m_mant,\n    output wire [%d:0] %s_m_dexp,\n"
                "    output wire %s_m_last",
                p, aw - 1, p, aw - 1, p, p, p, p, aw - 1, p, bw - 1, p, p, p, p, p,
                8 * cs[k].p.lanes - 1, p, 4 * nd - 1, p, p);
    }
    fprintf(f, "\n);\n\n");
    for (int k = 0; k < n; k++) {
        const char *p = cs[k].prefix;
        char a[4400];
        fprintf(f,
                "%s #(.INIT_FILE(\"%s\"), .PRELOADED(%d)) wmem_%s_i (\n"
                "    .clk(clk), .rst(rst),\n"
                "    .start(%s_start), .start_addr(%s_start_addr), .last_addr(%s_last_addr),\n"
                "    .busy(%s_busy), .done(%s_done),\n"
                "    .boot_we(%s_boot_we), .boot_addr(%s_boot_addr), .boot_data(%s_boot_data),\n"
                "    .boot_done(%s_boot_done), .loaded(%s_loaded),\n"
                "    .m_w_valid(%s_m_valid), .m_w_ready(%s_m_ready), .m_w_mant(%s_m_mant),\n"
                "    .m_w_dexp(%s_m_dexp), .m_w_last(%s_m_last));\n\n",
                cs[k].module,
                cs[k].p.init_file[0] ? abs_file(a, sizeof a, cs[k].name, cs[k].p.init_file)
                                     : "",
                cs[k].preloaded, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p);
    }
    fprintf(f, "endmodule\n\n`resetall\n");
    fclose(f);
    return 0;
}

// ---- embed -------------------------------------------------------------------------

typedef struct embed_cfg {
    const char *name;   // directory
    const char *prefix; // wrapper port prefix
    char module[128];
    lg_qmat m;          // the table (owned unless borrowed)
    int borrowed;
} embed_cfg;

// 37 x 40 table, G 16: LCG mantissas (including +-127 and 0) and dexps 0..15.
static int small_table(lg_qmat *m, int ebase, lg_err *err)
{
    memset(m, 0, sizeof *m);
    m->rows = 37;
    m->cols = 40;
    m->group = 16;
    m->ngroups = 3;
    m->ebase = ebase;
    m->mant = lg_calloc(37 * 40, 1, err);
    m->dexp = m->mant ? lg_calloc(37 * 3, 1, err) : NULL;
    if (!m->dexp)
        return -1;
    uint32_t s = 4242;
    for (int i = 0; i < 37 * 40; i++) {
        s = s * 1664525u + 1013904223u;
        int v = (int)((s >> 16) % 255) - 127;
        m->mant[i] = (int8_t)(i % 40 == 0 ? 127 : i % 40 == 1 ? -127 : i % 40 == 2 ? 0 : v);
    }
    for (int i = 0; i < 37 * 3; i++)
        m->dexp[i] = (uint8_t)(i % 16); // every dexp value, on every group position
    return 0;
}

static int gen_embed(embed_cfg *c, lg_err *err)
{
    lg_config cfg;
    if (lg_config_preset("260k", &cfg, err))
        return -1;
    lg_emit_ctx ctx;
    if (open_cfg(&ctx, c->name, &cfg, err))
        return -1;
    lg_embed_params p;
    lg_embed_params_from_qmat(&p, &c->m, "emb.hex");
    lg_embed_module_name(c->module, sizeof c->module, &p);
    int rc = lg_emit_embed_hex(&ctx, &c->m, "emb.hex", err) ||
             lg_emit_embed(&ctx, c->module, &p, err);
    lg_emit_ctx_free(&ctx);
    if (rc)
        return -1;
    // The table itself, for the bench's C twin (lg_ref_embed).
    FILE *f = open_out(c->name, "bench_data.txt", err);
    if (!f)
        return -1;
    fprintf(f, "%d %d %d %d\n", c->m.rows, c->m.cols, c->m.group, c->m.ebase);
    for (int i = 0; i < c->m.rows * c->m.cols; i++)
        fprintf(f, "%d%c", c->m.mant[i], i % 32 == 31 ? '\n' : ' ');
    fprintf(f, "\n");
    for (int i = 0; i < c->m.rows * c->m.ngroups; i++)
        fprintf(f, "%d%c", c->m.dexp[i], i % 32 == 31 ? '\n' : ' ');
    fprintf(f, "\n");
    fclose(f);
    return 0;
}

static int wrap_embed(const embed_cfg *cs, int n, lg_err *err)
{
    FILE *f = open_out("tb_embed", "tb_embed_top.v", err);
    if (!f)
        return -1;
    fprintf(f, WRAP_HEAD, g_command,
            "embedding lookups: 260k (a_*), 37 x 40 ebase -30 (b_*), ebase +8 (c_*).");
    fprintf(f, "module tb_embed_top (\n    input  wire clk,\n    input  wire rst");
    for (int k = 0; k < n; k++) {
        const char *p = cs[k].prefix;
        fprintf(f,
                ",\n    input  wire %s_s_valid,\n    output wire %s_s_ready,\n"
                "    input  wire [31:0] %s_s_data,\n    output wire %s_m_valid,\n"
                "    input  wire %s_m_ready,\n    output wire [31:0] %s_m_data,\n"
                "    output wire %s_m_last,\n    output wire %s_err",
                p, p, p, p, p, p, p, p);
    }
    fprintf(f, "\n);\n\n");
    for (int k = 0; k < n; k++) {
        const char *p = cs[k].prefix;
        char a[4400];
        fprintf(f,
                "%s #(.INIT_FILE(\"%s\")) embed_%s_i (\n"
                "    .clk(clk), .rst(rst),\n"
                "    .s_tok_valid(%s_s_valid), .s_tok_ready(%s_s_ready), .s_tok_data(%s_s_data),\n"
                "    .m_x_valid(%s_m_valid), .m_x_ready(%s_m_ready), .m_x_data(%s_m_data),\n"
                "    .m_x_last(%s_m_last), .err_oob(%s_err));\n\n",
                cs[k].module, abs_file(a, sizeof a, cs[k].name, "emb.hex"), p, p, p, p, p, p, p,
                p, p);
    }
    fprintf(f, "endmodule\n\n`resetall\n");
    fclose(f);
    return 0;
}

// ---- embedding from the weight stream (lg_embstream) ----------------------------------

typedef struct embstream_cfg {
    const char *name;   // directory
    const char *prefix; // wrapper port prefix
    const char *table;  // the embed_* configuration whose table (bench_data.txt) it reads
    int32_t lanes;
    int64_t base;
    int32_t aw;
    char module[128];
    int dxw; // dexp bits a beat (set by gen_embstream)
} embstream_cfg;

static int gen_embstream(embstream_cfg *c, const lg_qmat *m, lg_err *err)
{
    lg_config cfg;
    if (lg_config_preset("260k", &cfg, err))
        return -1;
    lg_emit_ctx ctx;
    if (open_cfg(&ctx, c->name, &cfg, err))
        return -1;
    lg_embstream_params p;
    lg_embed_params_from_qmat(&p.e, m, "unused.hex");
    p.lanes = c->lanes;
    p.base = c->base;
    p.aw = c->aw;
    snprintf(c->module, sizeof c->module, "lg_embstream_%s", c->prefix);
    c->dxw = 4 * (c->lanes > m->group ? c->lanes / m->group : 1);
    int rc = lg_emit_embstream(&ctx, c->module, &p, err);
    lg_emit_ctx_free(&ctx);
    return rc;
}

static int wrap_embstream(const embstream_cfg *cs, int n, lg_err *err)
{
    FILE *f = open_out("tb_embstream", "tb_embstream_top.v", err);
    if (!f)
        return -1;
    fprintf(f, WRAP_HEAD, g_command,
            "embedding rows from a weight stream: 260k lanes 4 (a_*), 37 x 40 G 16 lanes 32 "
            "(b_*), ebase +8 lanes 1 (c_*), 260k lanes 2 (d_*), 37 x 40 lanes 48 (e_*).");
    fprintf(f, "module tb_embstream_top (\n    input  wire clk,\n    input  wire rst");
    for (int k = 0; k < n; k++) {
        const char *p = cs[k].prefix;
        int l = cs[k].lanes, aw = cs[k].aw, dxw = cs[k].dxw;
        fprintf(f,
                ",\n    input  wire %s_s_valid,\n    output wire %s_s_ready,\n"
                "    input  wire [31:0] %s_s_data,\n    output wire %s_w_start,\n"
                "    output wire [%d:0] %s_w_saddr,\n    output wire [%d:0] %s_w_laddr,\n"
                "    input  wire %s_w_valid,\n    output wire %s_w_ready,\n"
                "    input  wire [%d:0] %s_w_mant,\n    input  wire [%d:0] %s_w_dexp,\n"
                "    output wire %s_m_valid,\n    input  wire %s_m_ready,\n"
                "    output wire [31:0] %s_m_data,\n    output wire %s_m_last,\n"
                "    output wire %s_err",
                p, p, p, p, aw - 1, p, aw - 1, p, p, p, 8 * l - 1, p, dxw - 1, p, p, p, p, p, p);
    }
    fprintf(f, "\n);\n\n");
    for (int k = 0; k < n; k++) {
        const char *p = cs[k].prefix;
        fprintf(f,
                "%s embs_%s_i (\n"
                "    .clk(clk), .rst(rst),\n"
                "    .s_tok_valid(%s_s_valid), .s_tok_ready(%s_s_ready), .s_tok_data(%s_s_data),\n"
                "    .w_start(%s_w_start), .w_start_addr(%s_w_saddr), .w_last_addr(%s_w_laddr),\n"
                "    .s_w_valid(%s_w_valid), .s_w_ready(%s_w_ready), .s_w_mant(%s_w_mant),\n"
                "    .s_w_dexp(%s_w_dexp),\n"
                "    .m_x_valid(%s_m_valid), .m_x_ready(%s_m_ready), .m_x_data(%s_m_data),\n"
                "    .m_x_last(%s_m_last), .err_oob(%s_err));\n\n",
                cs[k].module, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p);
    }
    fprintf(f, "endmodule\n\n`resetall\n");
    fclose(f);
    return 0;
}

// ---- sampler -------------------------------------------------------------------------

static int gen_sampler(const int *vocab, const int *share, const char **prefix, int n,
                       lg_err *err)
{
    lg_config cfg;
    if (lg_config_preset("260k", &cfg, err))
        return -1;
    lg_luts t;
    lg_luts_build(&t);
    lg_emit_ctx ctx;
    if (open_cfg(&ctx, "sampler_units", &cfg, err))
        return -1;
    char mods[8][64];
    int rc = lg_emit_lut_image(&ctx, LG_LUT_EXP2, &t, err) ||
             lg_emit_exp2(&ctx, "lg_exp2", LG_EXP2_HEX, &t, err);
    for (int k = 0; k < n && !rc; k++) {
        lg_sampler_params p = {vocab[k], "lg_exp2", LG_EXP2_HEX, share[k]};
        lg_sampler_module_name(mods[k], sizeof mods[k], &p);
        rc = lg_emit_sampler(&ctx, mods[k], &p, err);
    }
    lg_emit_ctx_free(&ctx);
    if (rc)
        return -1;

    FILE *f = open_out("tb_sampler", "tb_sampler_top.v", err);
    if (!f)
        return -1;
    fprintf(f, WRAP_HEAD, g_command,
            "samplers: vocab 512 (a_*) and vocab 5 (b_*); mul_share form at vocab 512 (c_*),\n"
            "// 5 (d_*), 300 (e_*) and 2 (f_*).");
    fprintf(f, "module tb_sampler_top (\n    input  wire clk,\n    input  wire rst");
    for (int k = 0; k < n; k++) {
        const char *p = prefix[k];
        int tw = 1;
        while ((1 << tw) < vocab[k])
            tw++;
        fprintf(f,
                ",\n    input  wire [31:0] %s_inv_temp,\n    input  wire %s_seed_we,\n"
                "    input  wire [7:0] %s_seed_byte,\n    input  wire %s_s_valid,\n"
                "    output wire %s_s_ready,\n    input  wire [31:0] %s_s_data,\n"
                "    output wire %s_m_valid,\n    input  wire %s_m_ready,\n"
                "    output wire [%d:0] %s_m_data",
                p, p, p, p, p, p, p, p, tw - 1, p);
    }
    fprintf(f, "\n);\n\n");
    for (int k = 0; k < n; k++) {
        const char *p = prefix[k];
        char a[4400];
        fprintf(f,
                "%s #(.EXP2_FILE(\"%s\")) sampler_%s_i (\n"
                "    .clk(clk), .rst(rst),\n"
                "    .inv_temp(%s_inv_temp), .seed_we(%s_seed_we), .seed_byte(%s_seed_byte),\n"
                "    .s_logit_valid(%s_s_valid), .s_logit_ready(%s_s_ready),\n"
                "    .s_logit_data(%s_s_data),\n"
                "    .m_tok_valid(%s_m_valid), .m_tok_ready(%s_m_ready), .m_tok_data(%s_m_data));\n\n",
                mods[k], abs_file(a, sizeof a, "sampler_units", LG_EXP2_HEX), p, p, p, p, p, p, p, p,
                p, p);
    }
    fprintf(f, "endmodule\n\n`resetall\n");
    fclose(f);
    return 0;
}

// ---- main ------------------------------------------------------------------------------

// ---- AXI4 weight reader ------------------------------------------------------------------

// Instances of tb_axi_wreader_top, also written as tb_axi_wreader_cfg.h for
// tests/hdl/tb_axi_wreader.cpp: beat bits (lanes 16, 4, 64 with two dexps,
// 1, 8), beat address bits, AXI data width (narrower and wider than a beat),
// longest burst, bursts outstanding (1: every burst waits for the last one's
// RLAST; 2 with single-word bursts: just enough for a word a cycle).
static const struct {
    const char *p;
    int beat_w, beat_aw, axi_dw, max_burst, max_out;
} AXIW[] = {
    {"a", 132, 14, 64, 16, 1}, {"b", 36, 16, 256, 256, 2}, {"c", 520, 12, 32, 1, 2},
    {"d", 12, 10, 512, 4, 3},  {"e", 68, 13, 128, 8, 8},
};

static int gen_axi_wreader(lg_err *err)
{
    lg_emit_ctx ctx;
    lg_config cfg;
    if (lg_config_preset("260k", &cfg, err) || open_cfg(&ctx, "axi_wreader_units", &cfg, err))
        return -1;
    int rc = lg_emit_axi_wreader(&ctx, "lg_axi_wreader_t", 132, 14, 64, err);
    lg_emit_ctx_free(&ctx);
    if (rc)
        return -1;
    FILE *f = open_out("tb_axi_wreader", "tb_axi_wreader_top.v", err);
    if (!f)
        return -1;
    fprintf(f, WRAP_HEAD, "gen_mem_units", "every AXI weight reader configuration side by side");
    fprintf(f, "module tb_axi_wreader_top (\n    input  wire clk,\n    input  wire rst");
    int n = (int)(sizeof AXIW / sizeof AXIW[0]);
    for (int i = 0; i < n; i++) {
        const char *p = AXIW[i].p;
        int bw = AXIW[i].beat_w, baw = AXIW[i].beat_aw, dw = AXIW[i].axi_dw;
        fprintf(f,
                ",\n    input  wire [31:0] %s_base,\n"
                "    input  wire %s_s_req_valid, output wire %s_s_req_ready,\n"
                "    input  wire [%d:0] %s_s_req_first, input wire [%d:0] %s_s_req_last,\n"
                "    output wire %s_m_w_valid, input wire %s_m_w_ready,\n"
                "    output wire [%d:0] %s_m_w_data,\n"
                "    output wire [31:0] %s_araddr, output wire [7:0] %s_arlen,\n"
                "    output wire [2:0] %s_arsize, output wire [1:0] %s_arburst,\n"
                "    output wire [3:0] %s_arcache, output wire [2:0] %s_arprot,\n"
                "    output wire %s_arvalid, input wire %s_arready,\n"
                "    input  wire [%d:0] %s_rdata, input wire [1:0] %s_rresp,\n"
                "    input  wire %s_rlast, input wire %s_rvalid, output wire %s_rready,\n"
                "    output wire %s_err_resp, output wire %s_err_base",
                p, p, p, baw - 1, p, baw - 1, p, p, p, bw - 1, p, p, p, p, p, p, p, p, p,
                dw - 1, p, p, p, p, p, p, p);
    }
    fprintf(f, "\n);\n\n");
    for (int i = 0; i < n; i++) {
        const char *p = AXIW[i].p;
        fprintf(f,
                "lg_axi_wreader_t #(.BEAT_W(%d), .BEAT_AW(%d), .AXI_AW(32), .AXI_DW(%d), "
                ".MAX_BURST(%d), .MAX_OUTSTANDING(%d)) u_%s (\n"
                "    .clk(clk), .rst(rst), .base(%s_base),\n"
                "    .s_req_valid(%s_s_req_valid), .s_req_ready(%s_s_req_ready),\n"
                "    .s_req_first(%s_s_req_first), .s_req_last(%s_s_req_last),\n"
                "    .m_w_valid(%s_m_w_valid), .m_w_ready(%s_m_w_ready), .m_w_data(%s_m_w_data),\n"
                "    .m_axi_araddr(%s_araddr), .m_axi_arlen(%s_arlen), .m_axi_arsize(%s_arsize),\n"
                "    .m_axi_arburst(%s_arburst), .m_axi_arcache(%s_arcache), "
                ".m_axi_arprot(%s_arprot),\n"
                "    .m_axi_arvalid(%s_arvalid), .m_axi_arready(%s_arready),\n"
                "    .m_axi_rdata(%s_rdata), .m_axi_rresp(%s_rresp), .m_axi_rlast(%s_rlast),\n"
                "    .m_axi_rvalid(%s_rvalid), .m_axi_rready(%s_rready),\n"
                "    .st_err_resp(%s_err_resp), .st_err_base(%s_err_base));\n\n",
                AXIW[i].beat_w, AXIW[i].beat_aw, AXIW[i].axi_dw, AXIW[i].max_burst,
                AXIW[i].max_out, p, p, p, p,
                p, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p, p);
    }
    fprintf(f, "endmodule\n\n`resetall\n");
    if (fclose(f) != 0)
        return lg_fail(err, "tb_axi_wreader_top.v: write failed");
    if (!(f = open_out("tb_axi_wreader", "tb_axi_wreader_cfg.h", err)))
        return -1;
    fprintf(f,
            "// DO NOT EDIT: written by gen_mem_units (tests/hdl/gen_mem_units.c).\n"
            "// The instances of tb_axi_wreader_top.v: X(prefix, BEAT_W, BEAT_AW, AXI_DW, "
            "MAX_BURST, MAX_OUTSTANDING).\n#define AXIW_FOREACH(X) \\\n");
    for (int i = 0; i < n; i++)
        fprintf(f, "    X(%s, %d, %d, %d, %d, %d)%s\n", AXIW[i].p, AXIW[i].beat_w,
                AXIW[i].beat_aw, AXIW[i].axi_dw, AXIW[i].max_burst, AXIW[i].max_out,
                i + 1 < n ? " \\" : "");
    if (fclose(f) != 0)
        return lg_fail(err, "tb_axi_wreader_cfg.h: write failed");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s OUTROOT [FINALROOT]\n", argv[0]);
        return 2;
    }
    lg_err err = {{0}};
    g_root = argv[1];
    const char *final = argc == 3 ? argv[2] : argv[1];
    if (mkdir_p(g_root, &err) || mkdir_p(final, &err) || !realpath(final, g_absroot)) {
        fprintf(stderr, "gen_mem_units: %s: %s\n", final,
                err.msg[0] ? err.msg : strerror(errno));
        return 1;
    }
    snprintf(g_command, sizeof g_command, "%s %s", argv[0], final);

    lg_qmodel qm;
    lg_config cfg;
    if (model_260k(&qm, &cfg, &err)) {
        fprintf(stderr, "gen_mem_units: %s\n", err.msg);
        return 1;
    }
    wmem_cfg wm[3] = {
        {"wmem_l16", "a", "", {16, 32, 0, "weights.hex"}, 1},
        {"wmem_l64", "b", "", {64, 32, 0, "weights.hex"}, 1},
        {"wmem_boot", "c", "", {4, 16, 100, ""}, 0},
    };
    embed_cfg em[3] = {{"embed_260k", "a", "", qm.embed, 1},
                       {"embed_neg", "b", "", {0}, 0},
                       {"embed_sat", "c", "", {0}, 0}};
    static const int vocab[6] = {512, 5, 512, 5, 300, 2};
    static const int vshare[6] = {0, 0, 1, 1, 1, 1};
    static const char *sp[6] = {"a", "b", "c", "d", "e", "f"};
    int rc = gen_wmem(&wm[0], &qm, cfg, &err) || gen_wmem(&wm[1], &qm, cfg, &err) ||
             gen_wmem(&wm[2], NULL, cfg, &err) || wrap_wmem(wm, 3, &err) ||
             small_table(&em[1].m, -30, &err) || small_table(&em[2].m, 8, &err) ||
             gen_embed(&em[0], &err) || gen_embed(&em[1], &err) || gen_embed(&em[2], &err) ||
             wrap_embed(em, 3, &err) || gen_sampler(vocab, vshare, sp, 6, &err) ||
             gen_axi_wreader(&err);
    // lg_embstream on the same three tables: lanes 4 (16 beats a row), lanes
    // 32 > G 16 (two dexps a beat, the second beat 8 of 32 lanes), lanes 1
    // d: the iCEBreaker shape (lanes 2, rows from beat 113280 = 3540 * BPR:
    // the last beat is the start with its low bits set); e: lanes 48 = 3 G
    // (not a power of two: the lane counter; three dexps, one beat a row)
    embstream_cfg es[5] = {{"embstream_a", "a", "embed_260k", 4, 100, 16, "", 0},
                           {"embstream_b", "b", "embed_neg", 32, 3, 8, "", 0},
                           {"embstream_c", "c", "embed_sat", 1, 0, 11, "", 0},
                           {"embstream_d", "d", "embed_260k", 2, 113280, 17, "", 0},
                           {"embstream_e", "e", "embed_neg", 48, 5, 12, "", 0}};
    rc = rc || gen_embstream(&es[0], &em[0].m, &err) || gen_embstream(&es[1], &em[1].m, &err) ||
         gen_embstream(&es[2], &em[2].m, &err) || gen_embstream(&es[3], &em[0].m, &err) ||
         gen_embstream(&es[4], &em[1].m, &err) || wrap_embstream(es, 5, &err);
    lg_qmat_free(&em[1].m);
    lg_qmat_free(&em[2].m);
    lg_qmodel_free(&qm);
    if (rc) {
        fprintf(stderr, "gen_mem_units: %s\n", err.msg);
        return 1;
    }
    return 0;
}
