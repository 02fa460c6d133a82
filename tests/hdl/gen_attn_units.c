// gen_attn_units OUTDIR FINALDIR HS NH NKV LAYERS SEQ BITS GROUP LANES [KV_PORTS [QV_MAX
// [MUL_SHARE]]]
//
// Bench helper: emits one K/V cache + attention configuration with the
// library's emitters (src/emit_attention.c, plus the exp2 and actq units they
// instantiate) into OUTDIR/rtl/, and
//   OUTDIR/rtl/tb_attn_top.v  the bench top: lg_kvcache + lg_attention wired
//                             as in the decoder, with per-stream stall gates
//                             on the cache<->attention streams and a direct
//                             port to the cache's read side (sel = 1);
//   OUTDIR/tb_cfg.h           the configuration as C macros for the benches
//                             (tb_kvcache.cpp, tb_attention.cpp).
// FINALDIR is where OUTDIR/rtl will live when simulated: the exp2 image is
// referenced by its absolute path there (so the model runs from any cwd).
// The banner config is the 260k preset with these shapes.
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 // realpath
#endif
#include "llamagen/emit_attn.h"
#include "llamagen/emit_units.h"
#include "llamagen/emit_units2.h"
#include "llamagen/ref.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int arg_int(const char *s, int32_t *v)
{
    char *end;
    long x = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || x < 0 || x > (1L << 30))
        return -1;
    *v = (int32_t)x;
    return 0;
}

static int clog2(int64_t x)
{
    int n = 0;
    while ((1LL << n) < x)
        n++;
    return n;
}

static int width(int64_t x) { return x > 1 ? clog2(x) : 1; }

// The bench top, wired for one configuration (widths as numbers).
static int write_top(const char *dir, const lg_attn_params *p, const char *kvc,
                     const char *att)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/tb_attn_top.v", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int beat = lg_attn_beat(p);
    int ngb = beat > p->kv_group ? beat / p->kv_group : 1;
    int lw = width(p->n_layers), hw = width(p->n_kv_heads), pw = width(p->seq_len);
    int mw = beat * p->kv_bits, ew = ngb * 5;
    fprintf(f,
            "// DO NOT EDIT: written by tests/hdl/gen_attn_units.c (bench top).\n"
            "`resetall\n`timescale 1ns / 1ps\n`default_nettype none\n\n"
            "// tb_attn_top: %s + %s as the decoder wires them. gate[i] = 0\n"
            "// blocks stream i between them for a cycle (valid and ready both masked):\n"
            "// 0 K beats, 1 V beats, 2 K requests, 3 V requests. sel = 1 hands the\n"
            "// cache's read side to the rq_* / rd_* ports (the attention sees nothing).\n"
            "module tb_attn_top (\n"
            "    input  wire        clk,\n"
            "    input  wire        rst,\n"
            "    input  wire        kw_k_valid,\n"
            "    output wire        kw_k_ready,\n"
            "    input  wire [31:0] kw_k_data,\n"
            "    input  wire [%d:0] kw_k_layer,\n"
            "    input  wire [31:0] kw_k_pos,\n"
            "    input  wire        kw_v_valid,\n"
            "    output wire        kw_v_ready,\n"
            "    input  wire [31:0] kw_v_data,\n"
            "    input  wire [%d:0] kw_v_layer,\n"
            "    input  wire [31:0] kw_v_pos,\n"
            "    output wire        k_done,\n"
            "    output wire        v_done,\n"
            "    output wire        kv_err,\n"
            "    input  wire        sel,\n"
            "    input  wire [3:0]  gate,\n",
            kvc, att, lw - 1, lw - 1);
    for (int k = 0; k < 2; k++) {
        const char *c = k ? "v" : "k";
        fprintf(f,
                "    input  wire        rq_%s_valid,\n"
                "    output wire        rq_%s_ready,\n"
                "    input  wire [%d:0] rq_%s_layer,\n"
                "    input  wire [%d:0] rq_%s_head,\n"
                "    input  wire [%d:0] rq_%s_first,\n"
                "    input  wire [%d:0] rq_%s_last,\n"
                "    output wire        rd_%s_valid,\n"
                "    input  wire        rd_%s_ready,\n"
                "    output wire [%d:0] rd_%s_mant,\n"
                "    output wire [%d:0] rd_%s_exp,\n"
                "    output wire        rd_%s_last,\n",
                c, c, lw - 1, c, hw - 1, c, pw - 1, c, pw - 1, c, c, c, mw - 1, c, ew - 1, c, c);
    }
    fprintf(f,
            "    input  wire        start,\n"
            "    input  wire [%d:0] start_layer,\n"
            "    input  wire [31:0] start_pos,\n"
            "    output wire        busy,\n"
            "    output wire        done,\n"
            "    output wire        err,\n"
            "    input  wire        q_valid,\n"
            "    output wire        q_ready,\n"
            "    input  wire [31:0] q_data,\n"
            "    output wire        out_valid,\n"
            "    input  wire        out_ready,\n"
            "    output wire [31:0] out_data,\n"
            "    output wire        out_last\n"
            ");\n\n",
            lw - 1);
    // attention <-> cache nets
    for (int k = 0; k < 2; k++) {
        const char *c = k ? "v" : "k";
        fprintf(f,
                "wire        a_%sreq_valid, c_%sreq_ready;\n"
                "wire [%d:0] a_%sreq_layer;\n"
                "wire [%d:0] a_%sreq_head;\n"
                "wire [%d:0] a_%sreq_first, a_%sreq_last;\n"
                "wire        c_%s_valid, a_%s_ready;\n"
                "wire [%d:0] c_%s_mant;\n"
                "wire [%d:0] c_%s_exp;\n"
                "wire        c_%s_last;\n",
                c, c, lw - 1, c, hw - 1, c, pw - 1, c, c, c, c, mw - 1, c, ew - 1, c, c);
    }
    fprintf(f, "\n%s u_kvc (\n    .clk(clk),\n    .rst(rst),\n", kvc);
    for (int k = 0; k < 2; k++) {
        const char *c = k ? "v" : "k";
        int g = k ? 1 : 0, gr = k ? 3 : 2;
        fprintf(f,
                "    .s_%s_valid(kw_%s_valid),\n    .s_%s_ready(kw_%s_ready),\n"
                "    .s_%s_data(kw_%s_data),\n    .s_%s_layer(kw_%s_layer),\n"
                "    .s_%s_pos(kw_%s_pos),\n",
                c, c, c, c, c, c, c, c, c, c);
        fprintf(f,
                "    .s_%sreq_valid(sel ? rq_%s_valid : a_%sreq_valid && gate[%d]),\n"
                "    .s_%sreq_ready(c_%sreq_ready),\n"
                "    .s_%sreq_layer(sel ? rq_%s_layer : a_%sreq_layer),\n"
                "    .s_%sreq_head(sel ? rq_%s_head : a_%sreq_head),\n"
                "    .s_%sreq_first(sel ? rq_%s_first : a_%sreq_first),\n"
                "    .s_%sreq_last(sel ? rq_%s_last : a_%sreq_last),\n"
                "    .m_%s_valid(c_%s_valid),\n"
                "    .m_%s_ready(sel ? rd_%s_ready : a_%s_ready && gate[%d]),\n"
                "    .m_%s_mant(c_%s_mant),\n    .m_%s_exp(c_%s_exp),\n"
                "    .m_%s_last(c_%s_last),\n",
                c, c, c, gr, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, g, c, c, c,
                c, c, c);
    }
    fprintf(f, "    .k_done(k_done),\n    .v_done(v_done),\n    .err(kv_err)\n);\n\n");
    for (int k = 0; k < 2; k++) {
        const char *c = k ? "v" : "k";
        fprintf(f,
                "assign rq_%s_ready = sel && c_%sreq_ready;\n"
                "assign rd_%s_valid = sel && c_%s_valid;\n"
                "assign rd_%s_mant = c_%s_mant;\n"
                "assign rd_%s_exp = c_%s_exp;\n"
                "assign rd_%s_last = c_%s_last;\n",
                c, c, c, c, c, c, c, c, c, c);
    }
    fprintf(f, "\n%s u_att (\n    .clk(clk),\n    .rst(rst),\n"
               "    .start(start),\n    .start_layer(start_layer),\n"
               "    .start_pos(start_pos),\n    .busy(busy),\n    .done(done),\n"
               "    .err(err),\n    .s_q_valid(q_valid),\n    .s_q_ready(q_ready),\n"
               "    .s_q_data(q_data),\n",
            att);
    for (int k = 0; k < 2; k++) {
        const char *c = k ? "v" : "k";
        int g = k ? 1 : 0, gr = k ? 3 : 2;
        fprintf(f,
                "    .m_%sreq_valid(a_%sreq_valid),\n"
                "    .m_%sreq_ready(!sel && c_%sreq_ready && gate[%d]),\n"
                "    .m_%sreq_layer(a_%sreq_layer),\n    .m_%sreq_head(a_%sreq_head),\n"
                "    .m_%sreq_first(a_%sreq_first),\n    .m_%sreq_last(a_%sreq_last),\n"
                "    .s_%s_valid(!sel && c_%s_valid && gate[%d]),\n"
                "    .s_%s_ready(a_%s_ready),\n"
                "    .s_%s_mant(c_%s_mant),\n    .s_%s_exp(c_%s_exp),\n"
                "    .s_%s_last(c_%s_last),\n",
                c, c, c, c, gr, c, c, c, c, c, c, c, c, c, c, g, c, c, c, c, c, c, c, c);
    }
    fprintf(f, "    .m_out_valid(out_valid),\n    .m_out_ready(out_ready),\n"
               "    .m_out_data(out_data),\n    .m_out_last(out_last)\n);\n\n"
               "endmodule\n\n`resetall\n");
    return fclose(f);
}

int main(int argc, char **argv)
{
    if (argc < 11 || argc > 14) {
        fprintf(stderr,
                "usage: %s OUTDIR FINALDIR HS NH NKV LAYERS SEQ BITS GROUP LANES [KV_PORTS "
                "[QV_MAX [MUL_SHARE]]]\n",
                argv[0]);
        return 2;
    }
    lg_attn_params p;
    memset(&p, 0, sizeof p);
    p.kv_ports = 2;
    if (arg_int(argv[3], &p.head_size) || arg_int(argv[4], &p.n_heads) ||
        arg_int(argv[5], &p.n_kv_heads) || arg_int(argv[6], &p.n_layers) ||
        arg_int(argv[7], &p.seq_len) || arg_int(argv[8], &p.kv_bits) ||
        arg_int(argv[9], &p.kv_group) || arg_int(argv[10], &p.lanes) ||
        (argc >= 12 && arg_int(argv[11], &p.kv_ports)) ||
        (argc >= 13 && arg_int(argv[12], &p.qv_max)) ||
        (argc >= 14 && arg_int(argv[13], &p.mul_share))) {
        fprintf(stderr, "gen_attn_units: bad arguments\n");
        return 2;
    }
    // as src/quantize.c computes it for the model
    p.score_c = (int32_t)llround(1.0 / log(2.0) / sqrt((double)p.head_size) * (1 << LG_SCORE_SC));

    char cmd[1024] = "";
    for (int i = 0; i < argc; i++) {
        strncat(cmd, i ? " " : "", sizeof cmd - strlen(cmd) - 1);
        strncat(cmd, argv[i], sizeof cmd - strlen(cmd) - 1);
    }
    lg_err err = {{0}};
    lg_config cfg;
    if (lg_config_preset("260k", &cfg, &err)) {
        fprintf(stderr, "gen_attn_units: %s\n", err.msg);
        return 1;
    }
    cfg.m.n_heads = p.n_heads;
    cfg.m.n_kv_heads = p.n_kv_heads;
    cfg.m.dim = p.head_size * p.n_heads;
    cfg.m.n_layers = p.n_layers;
    cfg.m.seq_len = p.seq_len;
    cfg.hw.kv_bits = p.kv_bits;
    cfg.hw.kv_group = p.kv_group;
    cfg.hw.lanes = p.lanes;
    cfg.hw.kv_ports = p.kv_ports;
    cfg.hw.mul_share = p.mul_share;
    if (p.qv_max > 0 && p.qv_max < 8) // what lg_attn_params_from_cfg derives it from
        cfg.hw.vec_lanes = p.qv_max;

    char rtl[4096], final_img[4200];
    snprintf(rtl, sizeof rtl, "%s/rtl", argv[1]);
    if ((mkdir(argv[1], 0777) && errno != EEXIST) || (mkdir(rtl, 0777) && errno != EEXIST)) {
        fprintf(stderr, "gen_attn_units: mkdir %s: %s\n", rtl, strerror(errno));
        return 1;
    }
    char final_abs[4096];
    if (!realpath(argv[2], final_abs)) {
        fprintf(stderr, "gen_attn_units: %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    snprintf(final_img, sizeof final_img, "%s/rtl/%s", final_abs, LG_EXP2_HEX);

    lg_luts luts;
    lg_luts_build(&luts);
    lg_emit_ctx ctx;
    lg_emit_ctx_init(&ctx, &cfg, rtl, cmd);
    char kvc[160], att[160], actq[64];
    lg_kvcache_module_name(kvc, sizeof kvc, &p);
    lg_attention_module_name(att, sizeof att, &p);
    lg_actq_params ap = {p.head_size};
    lg_actq_module_name(actq, sizeof actq, &ap);
    int rc = lg_emit_lut_images(&ctx, &luts, &err) ||
             lg_emit_exp2(&ctx, "lg_exp2", final_img, &luts, &err) ||
             lg_emit_actq(&ctx, actq, &ap, &err) || lg_emit_kvcache(&ctx, kvc, &p, &err) ||
             lg_emit_attention(&ctx, att, &p, "lg_exp2", final_img, actq, &err);
    if (rc) {
        fprintf(stderr, "gen_attn_units: %s\n", err.msg);
        lg_emit_ctx_free(&ctx);
        return 1;
    }
    if (write_top(rtl, &p, kvc, att)) {
        fprintf(stderr, "gen_attn_units: cannot write %s/tb_attn_top.v\n", rtl);
        lg_emit_ctx_free(&ctx);
        return 1;
    }
    char hpath[4200];
    snprintf(hpath, sizeof hpath, "%s/tb_cfg.h", argv[1]);
    FILE *h = fopen(hpath, "w");
    if (!h) {
        fprintf(stderr, "gen_attn_units: cannot write %s\n", hpath);
        lg_emit_ctx_free(&ctx);
        return 1;
    }
    fprintf(h,
            "// DO NOT EDIT: written by %s\n"
            "#define TB_HEAD_SIZE %d\n#define TB_N_HEADS %d\n#define TB_N_KV_HEADS %d\n"
            "#define TB_LAYERS %d\n#define TB_SEQ_LEN %d\n#define TB_KV_BITS %d\n"
            "#define TB_KV_GROUP %d\n#define TB_LANES %d\n#define TB_SCORE_C %d\n"
            "#define TB_KV_PORTS %d\n#define TB_QV_MAX %d\n#define TB_MUL_SHARE %d\n",
            cmd, p.head_size, p.n_heads, p.n_kv_heads, p.n_layers, p.seq_len, p.kv_bits,
            p.kv_group, p.lanes, p.score_c, p.kv_ports, p.qv_max, p.mul_share);
    fclose(h);
    for (int i = 0; i < ctx.nfiles; i++)
        printf("%s/%s\n", rtl, ctx.files[i]);
    lg_emit_ctx_free(&ctx);
    return 0;
}
