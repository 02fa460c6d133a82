// gen_lut_units OUTROOT [PATHROOT]: emits the bench configurations of the LUT units,
// RMSNorm, RoPE, SiLU gate and residual (src/emit_lut.c, emit_norm.c,
// emit_rope.c, emit_silu.c) into OUTROOT/<unit>_<cfg>/rtl/, the data each
// configuration was built from into OUTROOT/<unit>_<cfg>/bench_data.txt (so
// a bench drives the C twin with exactly the constants the RTL holds), and
// per bench a top wrapper OUTROOT/tb_<unit>/tb_<unit>_top.v that instantiates
// every configuration of the unit in one Verilator model (few builds), with
// the $readmemh images as absolute paths under PATHROOT (default OUTROOT:
// the build emits into a scratch tree and copies what changed to PATHROOT).
//
// Configurations (config = the preset named in the banners):
//   lut_std        260k: exp2, sigmoid, sincos, rsqrt (S_W 64), lg_luts_build
//   rmsnorm_260k   260k: dim 64, the 11 gain vectors of the synthetic
//                  stories260K (5 layers x att/ffn + final), eps 1e-5
//   rmsnorm_d4096  llama2-7b with eps 0: dim 4096, 3 synthetic gain vectors
//                  (exponents -12, -3, +4), so rsqrt sees S = 0 .. 4096 * 32767^2
//                  and the output shift k - e runs from left shifts to ~33
//   rmsnorm_15m    15m: dim 288 (not a power of two), eps 1e-5, 3 synthetic
//                  gain vectors as above
//   rmsnorm_h172   260k with dim 172 (its hidden_dim: 4 * 43, so the last
//                  beat at VL 8 and 16 is ragged), eps 1e-5, 3 synthetic gain
//                  vectors as above
//   rope_260k      260k: head_size 8, theta 10000 (q: 8 heads, k: 4 heads)
//   rope_h128      llama3-8b: head_size 128, theta 500000 (4 heads per vector)
//   rope_260k_share, rope_h128_share  the same two with mul_share 1
//                  (lg_rope_share.v + lg_sincos_share.v)
//   silu_260k      260k: SiLU gate and residual add (element-wise, any length)
//   silu_260k_share  the SiLU gate with mul_share 1 (lg_silu_gate_share.v +
//                  lg_sigmoid_share.v)
#ifndef _XOPEN_SOURCE
#define _XOPEN_SOURCE 700 // realpath
#endif
#include "llamagen/checkpoint.h"
#include "llamagen/emit_units2.h"
#include "llamagen/quantize.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PI 3.14159265358979323846
#define N_EPS (LG_A16_SHIFT_MAX + 1)

static const char *g_root;    // OUTROOT as given
static char g_absroot[4096];  // PATHROOT, absolute (for $readmemh paths in wrappers)
static char g_command[4200];  // regenerate command for the banners

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

// OUTROOT/<name>/rtl/ and a context writing there; dir = OUTROOT/<name>.
static int open_cfg(lg_emit_ctx *ctx, char *dir, size_t cap, char *rtl, size_t rcap,
                    const char *name, const lg_config *cfg, lg_err *err)
{
    snprintf(dir, cap, "%s/%s", g_root, name);
    snprintf(rtl, rcap, "%s/rtl", dir);
    if (mkdir_p(rtl, err))
        return -1;
    lg_emit_ctx_init(ctx, cfg, rtl, g_command);
    return 0;
}

static FILE *open_out(const char *dir, const char *file, lg_err *err)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/%s", dir, file);
    FILE *f = fopen(p, "w");
    if (!f)
        lg_fail(err, "%s: %s", p, strerror(errno));
    return f;
}

// Absolute path of OUTROOT/<cfg>/rtl/<file>: the wrappers pass it to $readmemh.
static const char *abs_file(char *buf, size_t cap, const char *cfg, const char *file)
{
    snprintf(buf, cap, "%s/%s/rtl/%s", g_absroot, cfg, file);
    return buf;
}

static void put_vals(FILE *f, const char *key, const int64_t *v, int n)
{
    fprintf(f, "%s %d", key, n);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%lld", i % 16 ? " " : "\n", (long long)v[i]);
    fprintf(f, "\n");
}

// ---- lut_std -----------------------------------------------------------------------

static int gen_lut(const lg_luts *t, lg_err *err)
{
    lg_emit_ctx ctx;
    lg_config cfg;
    char dir[4096], rtl[4200];
    if (lg_config_preset("260k", &cfg, err) ||
        open_cfg(&ctx, dir, sizeof dir, rtl, sizeof rtl, "lut_std", &cfg, err))
        return -1;
    int rc = lg_emit_lut_images(&ctx, t, err) ||
             lg_emit_exp2(&ctx, "lg_exp2", LG_EXP2_HEX, t, err) ||
             lg_emit_sigmoid(&ctx, "lg_sigmoid", LG_SIGMOID_HEX, t, 0, err) ||
             lg_emit_sincos(&ctx, "lg_sincos", LG_SINE_HEX, t, 0, err) ||
             lg_emit_rsqrt(&ctx, "lg_rsqrt", LG_RSQRT_HEX, t, err);
    lg_emit_ctx_free(&ctx);
    return rc ? -1 : 0;
}

// ---- rmsnorm ---------------------------------------------------------------------------

typedef struct norm_cfg {
    lg_config cfg;      // banner config
    const char *name;   // directory
    const char *module; // RMSNorm module
    int32_t dim, nvec;
    lg_qvec *gains;     // (nvec)
    uint64_t eps_tab[N_EPS];
} norm_cfg;

static void eps_table(uint64_t *tab, int dim, uint32_t eps_e9)
{
    // Same construction as lg_quantize_model (src/quantize.c).
    double eps = eps_e9 * 1e-9;
    for (int s = 0; s < N_EPS; s++)
        tab[s] = (uint64_t)llround(eps * dim * ldexp(1.0, 32 - 2 * s));
}

static int gen_norm(const norm_cfg *c, const lg_luts *t, lg_err *err)
{
    lg_emit_ctx ctx;
    char dir[4096], rtl[4200], gfile[64];
    if (open_cfg(&ctx, dir, sizeof dir, rtl, sizeof rtl, c->name, &c->cfg, err))
        return -1;
    snprintf(gfile, sizeof gfile, "%s_gain.hex", c->module);
    lg_rmsnorm_unit u = {c->module, "lg_rsqrt", LG_RSQRT_HEX, gfile, c->dim, c->nvec, c->gains,
                         c->eps_tab, 0};
    // The lean form (mul_share) of the same configuration: module <module>s.
    char smod[64], sgfile[80];
    snprintf(smod, sizeof smod, "%ss", c->module);
    snprintf(sgfile, sizeof sgfile, "%s_gain.hex", smod);
    lg_rmsnorm_unit us = u;
    us.module = smod;
    us.gain_file = sgfile;
    us.mul_share = 1;
    int rc = lg_emit_lut_image(&ctx, LG_LUT_RSQRT, t, err) ||
             lg_emit_rsqrt(&ctx, "lg_rsqrt", LG_RSQRT_HEX, t, err) ||
             lg_emit_rmsnorm(&ctx, &u, err) || lg_emit_rmsnorm(&ctx, &us, err);
    lg_emit_ctx_free(&ctx);
    if (rc)
        return -1;
    FILE *f = open_out(dir, "bench_data.txt", err);
    if (!f)
        return -1;
    fprintf(f, "dim 1\n%d\nnvec 1\n%d\n", c->dim, c->nvec);
    int64_t v[N_EPS];
    for (int s = 0; s < N_EPS; s++)
        v[s] = (int64_t)c->eps_tab[s];
    put_vals(f, "eps", v, N_EPS);
    int64_t *g = lg_calloc((size_t)c->nvec * c->dim, sizeof *g, err);
    if (!g) {
        fclose(f);
        return -1;
    }
    for (int k = 0; k < c->nvec; k++) {
        for (int i = 0; i < c->dim; i++)
            g[(size_t)k * c->dim + i] = c->gains[k].mant[i];
    }
    int64_t *e = lg_calloc((size_t)c->nvec, sizeof *e, err);
    if (e) {
        for (int k = 0; k < c->nvec; k++)
            e[k] = c->gains[k].exp;
        put_vals(f, "gexp", e, c->nvec);
        put_vals(f, "gain", g, c->nvec * c->dim);
    }
    free(e);
    free(g);
    fclose(f);
    return e ? 0 : -1;
}

// The 11 gain vectors of the synthetic stories260K, quantized like the model.
static int norm_260k(norm_cfg *c, lg_err *err)
{
    lg_weights w;
    if (lg_config_preset("260k", &c->cfg, err) || lg_weights_synthetic(&c->cfg.m, 260, &w, err))
        return -1;
    int d = c->cfg.m.dim, L = c->cfg.m.n_layers;
    c->name = "rmsnorm_260k";
    c->module = "lg_rmsnorm_d64";
    c->dim = d;
    c->nvec = 2 * L + 1;
    c->gains = lg_calloc((size_t)c->nvec, sizeof *c->gains, err);
    int rc = c->gains ? 0 : -1;
    for (int l = 0; l < L && !rc; l++)
        rc = lg_quantize_gain(&c->gains[2 * l], w.rms_att + (size_t)l * d, d, err) ||
             lg_quantize_gain(&c->gains[2 * l + 1], w.rms_ffn + (size_t)l * d, d, err);
    if (!rc)
        rc = lg_quantize_gain(&c->gains[2 * L], w.rms_final, d, err);
    eps_table(c->eps_tab, d, c->cfg.m.norm_eps_e9);
    lg_weights_free(&w);
    return rc ? -1 : 0;
}

// Synthetic mantissas from an LCG for the dim of a preset (or dim, if > 0),
// exponents chosen so that the output shift k - e covers right shifts past 30
// and (with eps 0) left shifts.
static int norm_synth(norm_cfg *c, const char *name, const char *module, const char *preset_name,
                      int dim, int eps_zero, lg_err *err)
{
    static const int exps_std[3] = {-12, -3, 4};
    // rmsnorm_w64 (lean form only): shifts past 47 (-32), 33..47 (-20) and
    // left shifts down to -18 (18, the vector the bench sends zeros and
    // single +-1 with).
    static const int exps_wide[3] = {-32, -20, 18};
    const int *exps = strcmp(name, "rmsnorm_w64") == 0 ? exps_wide : exps_std;
    if (lg_config_preset(preset_name, &c->cfg, err))
        return -1;
    if (eps_zero)
        c->cfg.m.norm_eps_e9 = 0;
    c->name = name;
    c->module = module;
    c->dim = dim > 0 ? dim : c->cfg.m.dim;
    c->nvec = 3;
    c->gains = lg_calloc(3, sizeof *c->gains, err);
    if (!c->gains)
        return -1;
    uint32_t s = 12345;
    for (int k = 0; k < 3; k++) {
        lg_qvec *g = &c->gains[k];
        g->n = c->dim;
        g->exp = exps[k];
        g->mant = lg_calloc((size_t)c->dim, sizeof *g->mant, err);
        if (!g->mant)
            return -1;
        for (int i = 0; i < c->dim; i++) {
            s = s * 1664525u + 1013904223u;
            int m = (int)(s >> 17) - 16384; // -16384 .. 16383 (k = 0: spread gains)
            if (k == 1)
                m = 16384 + (m & 16383);     // 16384 .. 32767
            g->mant[i] = (int16_t)(i == 0 ? LG_A16_MAX : i == 1 ? -LG_A16_MAX : m);
        }
    }
    eps_table(c->eps_tab, c->dim, c->cfg.m.norm_eps_e9);
    return 0;
}

static void norm_free(norm_cfg *c)
{
    for (int k = 0; c->gains && k < c->nvec; k++)
        free(c->gains[k].mant);
    free(c->gains);
}

// ---- rope -----------------------------------------------------------------------------

static int gen_rope(const char *name, const char *module, const char *preset_name, int n_heads,
                    int32_t mul_share, const lg_luts *t, lg_err *err)
{
    const char *sincos = mul_share ? "lg_sincos_share" : "lg_sincos";
    lg_config cfg;
    if (lg_config_preset(preset_name, &cfg, err))
        return -1;
    int head_size = lg_head_size(&cfg.m);
    uint32_t theta = cfg.m.rope_theta;
    uint32_t inc[4096];
    int half = head_size / 2;
    for (int j = 0; j < half; j++) { // as lg_quantize_model (src/quantize.c)
        double f = pow((double)theta, -2.0 * j / head_size) / (2 * PI);
        double v = round(f * 4294967296.0);
        inc[j] = v >= 4294967295.0 ? 4294967295u : (uint32_t)v;
    }
    lg_emit_ctx ctx;
    char dir[4096], rtl[4200], ifile[64];
    if (open_cfg(&ctx, dir, sizeof dir, rtl, sizeof rtl, name, &cfg, err))
        return -1;
    snprintf(ifile, sizeof ifile, "%s_inc.hex", module);
    lg_rope_unit u = {module, sincos, LG_SINE_HEX, ifile, n_heads, head_size, inc, mul_share};
    int rc = lg_emit_lut_image(&ctx, LG_LUT_SINE, t, err) ||
             lg_emit_sincos(&ctx, sincos, LG_SINE_HEX, t, mul_share, err) ||
             lg_emit_rope(&ctx, &u, err);
    lg_emit_ctx_free(&ctx);
    if (rc)
        return -1;
    FILE *f = open_out(dir, "bench_data.txt", err);
    if (!f)
        return -1;
    int64_t v[4096];
    for (int j = 0; j < half; j++)
        v[j] = inc[j];
    fprintf(f, "head_size 1\n%d\n", head_size);
    put_vals(f, "inc", v, half);
    fclose(f);
    return 0;
}

// ---- silu / residual ------------------------------------------------------------------

static int gen_silu(const lg_luts *t, lg_err *err)
{
    lg_emit_ctx ctx;
    lg_config cfg;
    char dir[4096], rtl[4200];
    if (lg_config_preset("260k", &cfg, err) ||
        open_cfg(&ctx, dir, sizeof dir, rtl, sizeof rtl, "silu_260k", &cfg, err))
        return -1;
    int rc = lg_emit_lut_image(&ctx, LG_LUT_SIGMOID, t, err) ||
             lg_emit_sigmoid(&ctx, "lg_sigmoid", LG_SIGMOID_HEX, t, 0, err) ||
             lg_emit_silu_gate(&ctx, "lg_silu_gate", "lg_sigmoid", LG_SIGMOID_HEX, 0, err) ||
             lg_emit_residual(&ctx, "lg_residual", 0, err);
    lg_emit_ctx_free(&ctx);
    if (rc)
        return -1;
    // mul_share form (one shared multiplier)
    if (open_cfg(&ctx, dir, sizeof dir, rtl, sizeof rtl, "silu_260k_share", &cfg, err))
        return -1;
    rc = lg_emit_lut_image(&ctx, LG_LUT_SIGMOID, t, err) ||
         lg_emit_sigmoid(&ctx, "lg_sigmoid_share", LG_SIGMOID_HEX, t, 1, err) ||
         lg_emit_silu_gate(&ctx, "lg_silu_gate_share", "lg_sigmoid_share", LG_SIGMOID_HEX, 1,
                           err) ||
         lg_emit_residual(&ctx, "lg_residual_share", 1, err);
    lg_emit_ctx_free(&ctx);
    return rc ? -1 : 0;
}

// ---- bench top wrappers --------------------------------------------------------------
//
// One Verilator model per bench: the wrapper instantiates each configuration
// with its $readmemh images given as absolute paths, and prefixes its ports.

static const char *WRAP_HEAD =
    "`resetall\n`timescale 1ns / 1ps\n`default_nettype none\n\n"
    "// DO NOT EDIT: bench top written by %s (tests/hdl/gen_lut_units.c).\n"
    "// %s\n\n";

static int gen_wrappers(lg_err *err)
{
    char dir[4096], a[4200], b[4200];
    FILE *f;

    // ---- tb_lut: the four LUT units side by side, one ce.
    snprintf(dir, sizeof dir, "%s/tb_lut", g_root);
    if (mkdir_p(dir, err) || !(f = open_out(dir, "tb_lut_top.v", err)))
        return -1;
    fprintf(f, WRAP_HEAD, g_command, "exp2, sigmoid, sincos and rsqrt (lut_std), shared ce.");
    fprintf(f,
            "module tb_lut_top (\n"
            "    input  wire               clk,\n"
            "    input  wire               rst,\n"
            "    input  wire               ce,\n"
            "    input  wire               e_valid,\n"
            "    input  wire signed [63:0] e_x,\n"
            "    output wire               e_m_valid,\n"
            "    output wire [16:0]        e_m_y,\n"
            "    input  wire               g_valid,\n"
            "    input  wire signed [31:0] g_x,\n"
            "    output wire               g_m_valid,\n"
            "    output wire [16:0]        g_m_y,\n"
            "    input  wire               c_valid,\n"
            "    input  wire [31:0]        c_phase,\n"
            "    output wire               c_m_valid,\n"
            "    output wire signed [17:0] c_m_sin,\n"
            "    output wire signed [17:0] c_m_cos,\n"
            "    input  wire               r_valid,\n"
            "    input  wire [63:0]        r_s,\n"
            "    output wire               r_m_valid,\n"
            "    output wire [16:0]        r_m_y,\n"
            "    output wire [4:0]         r_m_k\n"
            ");\n\n");
    fprintf(f,
            "lg_exp2 #(.X_W(64), .LUT_FILE(\"%s\")) exp2_i (\n"
            "    .clk(clk), .rst(rst), .ce(ce), .s_valid(e_valid), .s_x(e_x),\n"
            "    .m_valid(e_m_valid), .m_y(e_m_y));\n\n",
            abs_file(a, sizeof a, "lut_std", LG_EXP2_HEX));
    fprintf(f,
            "lg_sigmoid #(.LUT_FILE(\"%s\")) sigmoid_i (\n"
            "    .clk(clk), .rst(rst), .ce(ce), .s_valid(g_valid), .s_x(g_x),\n"
            "    .m_valid(g_m_valid), .m_y(g_m_y));\n\n",
            abs_file(a, sizeof a, "lut_std", LG_SIGMOID_HEX));
    fprintf(f,
            "lg_sincos #(.LUT_FILE(\"%s\")) sincos_i (\n"
            "    .clk(clk), .rst(rst), .ce(ce), .s_valid(c_valid), .s_phase(c_phase),\n"
            "    .m_valid(c_m_valid), .m_sin(c_m_sin), .m_cos(c_m_cos));\n\n",
            abs_file(a, sizeof a, "lut_std", LG_SINE_HEX));
    fprintf(f,
            "lg_rsqrt #(.S_W(64), .LUT_FILE(\"%s\")) rsqrt_i (\n"
            "    .clk(clk), .rst(rst), .ce(ce), .s_valid(r_valid), .s_s(r_s),\n"
            "    .m_valid(r_m_valid), .m_y(r_m_y), .m_k(r_m_k));\n\n"
            "endmodule\n\n`resetall\n",
            abs_file(a, sizeof a, "lut_std", LG_RSQRT_HEX));
    fclose(f);

    // ---- tb_rmsnorm: VL 1 at dim 64 (a_*), 4096 (b_*) and 288 (c_*); VL 16 at
    // dim 64 (d_*, 4 full beats), VL 4 at dim 288 (e_*, 72 full beats), VL 16
    // and 8 at dim 172 (f_*, g_*: 11 beats, last 12 of 16; 22 beats, last 4 of 8).
    snprintf(dir, sizeof dir, "%s/tb_rmsnorm", g_root);
    if (mkdir_p(dir, err) || !(f = open_out(dir, "tb_rmsnorm_top.v", err)))
        return -1;
    fprintf(f, WRAP_HEAD, g_command,
            "RMSNorm VL 1: dim 64 (a_*, rmsnorm_260k), 4096 (b_*, rmsnorm_d4096), 288 (c_*,\n"
            "// rmsnorm_15m); VL 16: dim 64 (d_*); VL 4: dim 288 (e_*); dim 172 (rmsnorm_h172)\n"
            "// at VL 16 (f_*) and VL 8 (g_*). Lean form (mul_share): dim 64 VL 1 (h_*),\n"
            "// 4096 VL 1 (i_*), 172 VL 8 (j_*), 288 VL 4 (k_*), rmsnorm_w64 VL 2 (l_*).");
    fprintf(f, "module tb_rmsnorm_top (\n    input  wire clk,\n    input  wire rst");
    // h_* .. l_*: the lean form (mul_share, modules <module>s) at dim 64 VL 1
    // (the iCEBreaker shape), 4096 VL 1, 172 VL 8, 288 VL 4 and the extreme
    // gain exponents of rmsnorm_w64 at VL 2.
    enum { N_NORM = 12 };
    const char *pre[N_NORM] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"};
    const int sel_w[N_NORM] = {4, 2, 2, 4, 2, 2, 2, 4, 2, 2, 2, 2};
    const int vl[N_NORM] = {1, 1, 1, 16, 4, 16, 8, 1, 1, 8, 4, 2};
    for (int k = 0; k < N_NORM; k++)
        fprintf(f,
                ",\n    input  wire %s_s_valid,\n    output wire %s_s_ready,\n"
                "    input  wire [31:0] %s_s_data,\n    input  wire [%d:0] %s_s_sel,\n"
                "    output wire %s_m_valid,\n    input  wire %s_m_ready,\n"
                "    output wire [%d:0] %s_m_data,\n    output wire %s_m_last,\n"
                "    output wire %s_done",
                pre[k], pre[k], pre[k], sel_w[k] - 1, pre[k], pre[k], pre[k], 32 * vl[k] - 1,
                pre[k], pre[k], pre[k]);
    fprintf(f, "\n);\n\n");
    const char *mods[N_NORM] = {"lg_rmsnorm_d64",   "lg_rmsnorm_d4096",  "lg_rmsnorm_d288",
                                "lg_rmsnorm_d64",   "lg_rmsnorm_d288",   "lg_rmsnorm_d172",
                                "lg_rmsnorm_d172",  "lg_rmsnorm_d64s",   "lg_rmsnorm_d4096s",
                                "lg_rmsnorm_d172s", "lg_rmsnorm_d288s",  "lg_rmsnorm_w64s"};
    const char *cfgs[N_NORM] = {"rmsnorm_260k", "rmsnorm_d4096", "rmsnorm_15m",  "rmsnorm_260k",
                                "rmsnorm_15m",  "rmsnorm_h172",  "rmsnorm_h172", "rmsnorm_260k",
                                "rmsnorm_d4096", "rmsnorm_h172", "rmsnorm_15m",  "rmsnorm_w64"};
    for (int k = 0; k < N_NORM; k++) {
        char g[64];
        snprintf(g, sizeof g, "%s_gain.hex", mods[k]);
        fprintf(f,
                "%s #(.GAIN_FILE(\"%s\"), .RSQRT_FILE(\"%s\"), .VL(%d)) norm_%s_i (\n"
                "    .clk(clk), .rst(rst),\n"
                "    .s_valid(%s_s_valid), .s_ready(%s_s_ready), .s_data(%s_s_data), "
                ".s_sel(%s_s_sel),\n"
                "    .m_valid(%s_m_valid), .m_ready(%s_m_ready), .m_data(%s_m_data), "
                ".m_last(%s_m_last),\n"
                "    .done(%s_done));\n\n",
                mods[k], abs_file(a, sizeof a, cfgs[k], g),
                abs_file(b, sizeof b, cfgs[k], LG_RSQRT_HEX), vl[k], pre[k], pre[k], pre[k],
                pre[k], pre[k], pre[k], pre[k], pre[k], pre[k], pre[k]);
    }
    fprintf(f, "endmodule\n\n`resetall\n");
    fclose(f);

    // ---- tb_rope: head_size 8 as q (8 heads) and k (4 heads), head_size 128 (4 heads);
    // mul_share: head_size 8 with q and k in one vector (12 heads, as the decoder),
    // head_size 128 (3 heads).
    snprintf(dir, sizeof dir, "%s/tb_rope", g_root);
    if (mkdir_p(dir, err) || !(f = open_out(dir, "tb_rope_top.v", err)))
        return -1;
    fprintf(f, WRAP_HEAD, g_command,
            "RoPE head_size 8 q (a_*, 8 heads), k (b_*, 4 heads); head_size 128 (c_*, 4 heads);\n"
            "// mul_share: head_size 8 (d_*, 12 heads), head_size 128 (e_*, 3 heads).");
    fprintf(f, "module tb_rope_top (\n    input  wire clk,\n    input  wire rst");
    enum { N_ROPE = 5 };
    const char *rp[N_ROPE] = {"a", "b", "c", "d", "e"};
    for (int k = 0; k < N_ROPE; k++)
        fprintf(f,
                ",\n    input  wire %s_s_valid,\n    output wire %s_s_ready,\n"
                "    input  wire [31:0] %s_s_data,\n    input  wire [31:0] %s_s_pos,\n"
                "    output wire %s_m_valid,\n    input  wire %s_m_ready,\n"
                "    output wire [31:0] %s_m_data,\n    output wire %s_m_last",
                rp[k], rp[k], rp[k], rp[k], rp[k], rp[k], rp[k], rp[k]);
    fprintf(f, "\n);\n\n");
    const char *rmod[N_ROPE] = {"lg_rope_h8", "lg_rope_h8", "lg_rope_h128", "lg_rope_h8_share",
                                "lg_rope_h128_share"};
    const char *rcfg[N_ROPE] = {"rope_260k", "rope_260k", "rope_h128", "rope_260k_share",
                                "rope_h128_share"};
    const int rheads[N_ROPE] = {8, 4, 4, 12, 3};
    for (int k = 0; k < N_ROPE; k++) {
        char inc[64];
        snprintf(inc, sizeof inc, "%s_inc.hex", rmod[k]);
        fprintf(f,
                "%s #(.N_HEADS(%d), .INC_FILE(\"%s\"), .SINE_FILE(\"%s\")) rope_%s_i (\n"
                "    .clk(clk), .rst(rst),\n"
                "    .s_valid(%s_s_valid), .s_ready(%s_s_ready), .s_data(%s_s_data), "
                ".s_pos(%s_s_pos),\n"
                "    .m_valid(%s_m_valid), .m_ready(%s_m_ready), .m_data(%s_m_data), "
                ".m_last(%s_m_last));\n\n",
                rmod[k], rheads[k], abs_file(a, sizeof a, rcfg[k], inc),
                abs_file(b, sizeof b, rcfg[k], LG_SINE_HEX), rp[k], rp[k], rp[k], rp[k], rp[k],
                rp[k], rp[k], rp[k], rp[k]);
    }
    fprintf(f, "endmodule\n\n`resetall\n");
    fclose(f);

    // ---- tb_silu: SiLU gate (g_*), its mul_share form (s_*) and residual add (r_*).
    snprintf(dir, sizeof dir, "%s/tb_silu", g_root);
    if (mkdir_p(dir, err) || !(f = open_out(dir, "tb_silu_top.v", err)))
        return -1;
    fprintf(f, WRAP_HEAD, g_command,
            "SiLU gate (g_*) and residual add (r_*), silu_260k; SiLU gate and residual add\n"
            "// mul_share (s_*, q_*), silu_260k_share.");
    fprintf(f,
            "module tb_silu_top (\n"
            "    input  wire        clk,\n    input  wire        rst,\n"
            "    input  wire        g_h1_valid,\n    output wire        g_h1_ready,\n"
            "    input  wire [31:0] g_h1_data,\n"
            "    input  wire        g_h3_valid,\n    output wire        g_h3_ready,\n"
            "    input  wire [31:0] g_h3_data,\n"
            "    output wire        g_m_valid,\n    input  wire        g_m_ready,\n"
            "    output wire [31:0] g_m_data,\n"
            "    input  wire        s_h1_valid,\n    output wire        s_h1_ready,\n"
            "    input  wire [31:0] s_h1_data,\n"
            "    input  wire        s_h3_valid,\n    output wire        s_h3_ready,\n"
            "    input  wire [31:0] s_h3_data,\n"
            "    output wire        s_m_valid,\n    input  wire        s_m_ready,\n"
            "    output wire [31:0] s_m_data,\n"
            "    input  wire        r_x_valid,\n    output wire        r_x_ready,\n"
            "    input  wire [31:0] r_x_data,\n"
            "    input  wire        r_d_valid,\n    output wire        r_d_ready,\n"
            "    input  wire [31:0] r_d_data,\n"
            "    output wire        r_m_valid,\n    input  wire        r_m_ready,\n"
            "    output wire [31:0] r_m_data,\n"
            "    input  wire        q_x_valid,\n    output wire        q_x_ready,\n"
            "    input  wire [31:0] q_x_data,\n"
            "    input  wire        q_d_valid,\n    output wire        q_d_ready,\n"
            "    input  wire [31:0] q_d_data,\n"
            "    output wire        q_m_valid,\n    input  wire        q_m_ready,\n"
            "    output wire [31:0] q_m_data\n);\n\n");
    fprintf(f,
            "lg_silu_gate #(.SIGMOID_FILE(\"%s\")) silu_i (\n"
            "    .clk(clk), .rst(rst),\n"
            "    .s_h1_valid(g_h1_valid), .s_h1_ready(g_h1_ready), .s_h1_data(g_h1_data),\n"
            "    .s_h3_valid(g_h3_valid), .s_h3_ready(g_h3_ready), .s_h3_data(g_h3_data),\n"
            "    .m_valid(g_m_valid), .m_ready(g_m_ready), .m_data(g_m_data));\n\n"
            "lg_silu_gate_share #(.SIGMOID_FILE(\"%s\")) silu_share_i (\n"
            "    .clk(clk), .rst(rst),\n"
            "    .s_h1_valid(s_h1_valid), .s_h1_ready(s_h1_ready), .s_h1_data(s_h1_data),\n"
            "    .s_h3_valid(s_h3_valid), .s_h3_ready(s_h3_ready), .s_h3_data(s_h3_data),\n"
            "    .m_valid(s_m_valid), .m_ready(s_m_ready), .m_data(s_m_data));\n\n"
            "lg_residual residual_i (\n"
            "    .clk(clk), .rst(rst),\n"
            "    .s_x_valid(r_x_valid), .s_x_ready(r_x_ready), .s_x_data(r_x_data),\n"
            "    .s_d_valid(r_d_valid), .s_d_ready(r_d_ready), .s_d_data(r_d_data),\n"
            "    .m_valid(r_m_valid), .m_ready(r_m_ready), .m_data(r_m_data));\n\n"
            "lg_residual_share residual_share_i (\n"
            "    .clk(clk), .rst(rst),\n"
            "    .s_x_valid(q_x_valid), .s_x_ready(q_x_ready), .s_x_data(q_x_data),\n"
            "    .s_d_valid(q_d_valid), .s_d_ready(q_d_ready), .s_d_data(q_d_data),\n"
            "    .m_valid(q_m_valid), .m_ready(q_m_ready), .m_data(q_m_data));\n\n"
            "endmodule\n\n`resetall\n",
            abs_file(a, sizeof a, "silu_260k", LG_SIGMOID_HEX),
            abs_file(b, sizeof b, "silu_260k_share", LG_SIGMOID_HEX));
    fclose(f);
    return 0;
}

// ---- main ------------------------------------------------------------------------------

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s OUTROOT [PATHROOT]\n", argv[0]);
        return 2;
    }
    lg_err err = {{0}};
    g_root = argv[1];
    const char *pathroot = argc == 3 ? argv[2] : argv[1];
    if (mkdir_p(g_root, &err) || mkdir_p(pathroot, &err) || !realpath(pathroot, g_absroot)) {
        fprintf(stderr, "gen_lut_units: %s: %s\n", pathroot,
                err.msg[0] ? err.msg : strerror(errno));
        return 1;
    }
    snprintf(g_command, sizeof g_command, "%s %s%s%s", argv[0], g_root, argc == 3 ? " " : "",
             argc == 3 ? pathroot : "");

    lg_luts t;
    lg_luts_build(&t);
    norm_cfg n64 = {0}, n4096 = {0}, n288 = {0}, n172 = {0}, nw64 = {0};
    int rc = gen_lut(&t, &err) || norm_260k(&n64, &err) || gen_norm(&n64, &t, &err) ||
             norm_synth(&n4096, "rmsnorm_d4096", "lg_rmsnorm_d4096", "llama2-7b", 0, 1, &err) ||
             gen_norm(&n4096, &t, &err) ||
             norm_synth(&n288, "rmsnorm_15m", "lg_rmsnorm_d288", "15m", 0, 0, &err) ||
             gen_norm(&n288, &t, &err) ||
             norm_synth(&n172, "rmsnorm_h172", "lg_rmsnorm_d172", "260k", 172, 0, &err) ||
             gen_norm(&n172, &t, &err) ||
             norm_synth(&nw64, "rmsnorm_w64", "lg_rmsnorm_w64", "260k", 0, 1, &err) ||
             gen_norm(&nw64, &t, &err) ||
             gen_rope("rope_260k", "lg_rope_h8", "260k", 8, 0, &t, &err) ||
             gen_rope("rope_h128", "lg_rope_h128", "llama3-8b", 4, 0, &t, &err) ||
             gen_rope("rope_260k_share", "lg_rope_h8_share", "260k", 12, 1, &t, &err) ||
             gen_rope("rope_h128_share", "lg_rope_h128_share", "llama3-8b", 4, 1, &t, &err) ||
             gen_silu(&t, &err) || gen_wrappers(&err);
    norm_free(&n64);
    norm_free(&n4096);
    norm_free(&n288);
    norm_free(&n172);
    norm_free(&nw64);
    if (rc) {
        fprintf(stderr, "gen_lut_units: %s\n", err.msg);
        return 1;
    }
    return 0;
}
