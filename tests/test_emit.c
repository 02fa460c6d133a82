// Emitter machinery (src/emit.c) and the matvec/actq emitters: template
// substitution (good, unknown placeholder, unused value, missing template),
// banner content, $readmemh formatting, byte-identical re-emission, the
// decoder's negated K offset image.
#include "test_util.h"

#include "llamagen/emit_attn.h"
#include "llamagen/emit_decoder.h"
#include "llamagen/emit_units.h"
#include "llamagen/quantize.h"

// ---- helpers -------------------------------------------------------------------

// Whole file as a malloc'ed string (NULL when unreadable).
static char *slurp(const char *dir, const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    assert_int_equal(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

// Line k (0-based) of s copied into buf.
static const char *line_of(const char *s, int k, char *buf, size_t n)
{
    for (; k > 0 && s; k--) {
        s = strchr(s, '\n');
        if (s)
            s++;
    }
    if (!s)
        return NULL;
    size_t len = strcspn(s, "\n");
    if (len >= n)
        len = n - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    return buf;
}

static lg_config cfg_260k(void)
{
    lg_config c;
    lg_err err;
    assert_int_equal(lg_config_preset("260k", &c, &err), 0);
    return c;
}

// ---- templates and substitution ------------------------------------------------

static void test_template_get(void **state)
{
    (void)state;
    const char *mv = lg_template_get("lg_matvec");
    assert_non_null(mv);
    assert_non_null(strstr(mv, "module ${MODULE}"));
    assert_non_null(lg_template_get("lg_actq"));
    assert_null(lg_template_get("lg_matvec.v"));
    assert_null(lg_template_get("no_such_template"));
    assert_null(lg_template_get(NULL));
}

static void test_render_good(void **state)
{
    (void)state;
    lg_subst vars[] = {{"MODULE", "my_actq"}, {"COLS", "77"}};
    char *out = NULL;
    lg_err err = {{0}};
    assert_int_equal(lg_template_render("lg_actq", vars, 2, &out, &err), 0);
    assert_non_null(out);
    assert_non_null(strstr(out, "module my_actq #("));
    assert_non_null(strstr(out, "parameter COLS = 77"));
    assert_null(strstr(out, "${"));
    // Everything outside the placeholders is kept verbatim.
    const char *t = lg_template_get("lg_actq");
    size_t expect = strlen(t);
    for (const char *p = t; (p = strstr(p, "${")); p++)
        expect -= strcspn(p, "}") + 1;
    size_t nmod = 0, ncols = 0;
    for (const char *p = t; (p = strstr(p, "${MODULE}")); p++)
        nmod++;
    for (const char *p = t; (p = strstr(p, "${COLS}")); p++)
        ncols++;
    expect += nmod * strlen("my_actq") + ncols * 2;
    assert_int_equal(strlen(out), expect);
    free(out);
}

static void test_render_unknown_placeholder(void **state)
{
    (void)state;
    lg_subst vars[] = {{"MODULE", "x"}};
    char *out = (char *)1;
    lg_err err = {{0}};
    assert_int_equal(lg_template_render("lg_actq", vars, 1, &out, &err), -1);
    assert_null(out);
    assert_non_null(strstr(err.msg, "lg_actq"));
    assert_non_null(strstr(err.msg, "${COLS}"));
    assert_non_null(strstr(err.msg, "unknown placeholder"));
}

static void test_render_unused_value(void **state)
{
    (void)state;
    lg_subst vars[] = {{"MODULE", "x"}, {"COLS", "8"}, {"LANES", "4"}};
    char *out = NULL;
    lg_err err = {{0}};
    assert_int_equal(lg_template_render("lg_actq", vars, 3, &out, &err), -1);
    assert_null(out);
    assert_non_null(strstr(err.msg, "lg_actq"));
    assert_non_null(strstr(err.msg, "${LANES}"));
    assert_non_null(strstr(err.msg, "not used"));
}

static void test_render_bad_values(void **state)
{
    (void)state;
    char *out = NULL;
    lg_err err = {{0}};
    lg_subst twice[] = {{"MODULE", "x"}, {"COLS", "8"}, {"COLS", "9"}};
    assert_int_equal(lg_template_render("lg_actq", twice, 3, &out, &err), -1);
    assert_non_null(strstr(err.msg, "twice"));
    lg_subst null_value[] = {{"MODULE", "x"}, {"COLS", NULL}};
    assert_int_equal(lg_template_render("lg_actq", null_value, 2, &out, &err), -1);
    assert_non_null(strstr(err.msg, "COLS"));
    lg_subst bad_name[] = {{"MODULE", "x"}, {"CO LS", "8"}};
    assert_int_equal(lg_template_render("lg_actq", bad_name, 2, &out, &err), -1);
    assert_non_null(strstr(err.msg, "identifier"));
    assert_null(out);
}

static void test_render_missing_template(void **state)
{
    (void)state;
    char *out = (char *)1;
    lg_err err = {{0}};
    assert_int_equal(lg_template_render("lg_nope", NULL, 0, &out, &err), -1);
    assert_null(out);
    assert_non_null(strstr(err.msg, "lg_nope"));
}

// ---- modules and banners ------------------------------------------------------------

static void test_banner(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir();
    lg_config cfg = cfg_260k();
    lg_emit_ctx ctx;
    lg_emit_ctx_init(&ctx, &cfg, dir, "llamagen emit --config 260k\n--out x"); // newline folded
    lg_err err = {{0}};
    lg_actq_params p = {64};
    assert_int_equal(lg_emit_actq(&ctx, "lg_actq_b", &p, &err), 0);
    assert_int_equal(ctx.nfiles, 1);
    assert_string_equal(ctx.files[0], "lg_actq_b.v");

    char *s = slurp(dir, "lg_actq_b.v");
    assert_non_null(s);
    char l[512];
    assert_string_equal(line_of(s, 0, l, sizeof l), "// DO NOT EDIT: generated by llamagen " LG_VERSION);
    assert_string_equal(line_of(s, 1, l, sizeof l), "// regenerate: llamagen emit --config 260k --out x");
    assert_string_equal(line_of(s, 2, l, sizeof l),
                        "// config: 260k dim=64 hidden=172 layers=5 heads=8 kv_heads=4 vocab=512 "
                        "seq_len=512 lanes=16 group=32 kv_bits=8");
    assert_non_null(line_of(s, 3, l, sizeof l));
    assert_true(strncmp(l, "// latency: 4 cycles", 20) == 0);
    assert_string_equal(line_of(s, 4, l, sizeof l), "");
    assert_string_equal(line_of(s, 5, l, sizeof l), "`resetall");
    assert_non_null(strstr(s, "\nmodule lg_actq_b #(\n"));
    assert_non_null(strstr(s, "parameter COLS = 64"));
    assert_null(strstr(s, "${"));
    free(s);

    // The mat-vec banner states its latency.
    lg_matvec_params mp = {16, 32, 64, 64, 0};
    assert_int_equal(lg_emit_matvec(&ctx, NULL, &mp, &err), 0);
    assert_string_equal(ctx.files[1], "lg_matvec_l16_g32_r64_c64.v");
    s = slurp(dir, "lg_matvec_l16_g32_r64_c64.v");
    assert_non_null(s);
    assert_non_null(strstr(s, "\n// latency: 11 cycles from a row's last weight beat"));
    assert_non_null(strstr(s, "start to done 268 cycles"));
    assert_non_null(strstr(s, "\nmodule lg_matvec_l16_g32_r64_c64 #(\n"));
    assert_non_null(strstr(s, "parameter LANES = 16"));
    free(s);
    lg_emit_ctx_free(&ctx);
    tu_rmtree(dir);
}

static void test_module_errors(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir();
    lg_config cfg = cfg_260k();
    lg_emit_ctx ctx;
    lg_emit_ctx_init(&ctx, &cfg, dir, "test");
    lg_err err = {{0}};
    lg_subst cols[] = {{"COLS", "8"}};
    // Not an identifier (also keeps the file inside outdir).
    assert_int_equal(lg_emit_module(&ctx, "../x", "lg_actq", cols, 1, "n/a", &err), -1);
    assert_non_null(strstr(err.msg, "identifier"));
    // ${MODULE} given but different from the module name.
    lg_subst mism[] = {{"MODULE", "other"}, {"COLS", "8"}};
    assert_int_equal(lg_emit_module(&ctx, "mine", "lg_actq", mism, 2, "n/a", &err), -1);
    assert_non_null(strstr(err.msg, "MODULE"));
    // Missing template, unknown placeholder: errors name module and template.
    assert_int_equal(lg_emit_module(&ctx, "mine", "lg_nope", cols, 1, "n/a", &err), -1);
    assert_non_null(strstr(err.msg, "lg_nope"));
    assert_int_equal(lg_emit_module(&ctx, "mine", "lg_matvec", cols, 1, "n/a", &err), -1);
    assert_non_null(strstr(err.msg, "mine"));
    assert_non_null(strstr(err.msg, "lg_matvec"));
    assert_non_null(strstr(err.msg, "${LANES}"));
    // Bad unit parameters.
    lg_matvec_params bad = {3, 32, 4, 64, 0};
    assert_int_equal(lg_emit_matvec(&ctx, NULL, &bad, &err), -1);
    assert_non_null(strstr(err.msg, "lanes = 3"));
    lg_matvec_params badg = {4, 2, 4, 64, 0};
    assert_int_equal(lg_emit_matvec(&ctx, NULL, &badg, &err), -1);
    assert_non_null(strstr(err.msg, "group = 2"));
    lg_actq_params badc = {1};
    assert_int_equal(lg_emit_actq(&ctx, NULL, &badc, &err), -1);
    assert_non_null(strstr(err.msg, "cols = 1"));
    // Nothing was written.
    assert_int_equal(ctx.nfiles, 0);
    // Unwritable directory.
    lg_emit_ctx bad_dir;
    lg_emit_ctx_init(&bad_dir, &cfg, "/nonexistent/dir", "test");
    lg_actq_params p = {8};
    assert_int_equal(lg_emit_actq(&bad_dir, NULL, &p, &err), -1);
    assert_non_null(strstr(err.msg, "/nonexistent/dir/lg_actq_c8.v"));
    lg_emit_ctx_free(&bad_dir);
    lg_emit_ctx_free(&ctx);
    tu_rmtree(dir);
}

// ---- unit helpers ---------------------------------------------------------------------

// lg_attn_cycles_at (the attention's control run cycle by cycle, for the
// decoder's cycle model) against the closed form the unit benches measure
// exactly, with nothing held back; and its stalls: K or V later than the
// unit would ask for them moves the done, a K / V ready before the unit asks
// does not.
static void test_attn_cycles_at(void **state)
{
    (void)state;
    const int hss[] = {2, 4, 6, 8, 16, 32, 128}, lanes[] = {1, 2, 8, 16, 64};
    const int heads[] = {1, 2, 3, 8, 32};
    int n = 0;
    for (int a = 0; a < 7; a++)
        for (int b = 0; b < 5; b++)
            for (int c = 0; c < 5; c++)
                for (int qm = 0; qm < 3; qm++)
                    for (int g = 0; g < 2; g++)
                        for (int pos = 0; pos < 200; pos += pos < 4 ? 1 : 49) {
                            lg_attn_params p = {0};
                            p.head_size = hss[a];
                            p.n_heads = heads[c];
                            p.n_kv_heads = 1;
                            p.n_layers = 1;
                            p.seq_len = 256;
                            p.kv_bits = 8;
                            p.kv_group = g ? 2 : hss[a];
                            p.lanes = lanes[b];
                            p.score_c = 1000;
                            p.qv_max = qm == 0 ? 0 : qm == 1 ? 1 : 2;
                            int64_t want = lg_attn_cycles(&p, pos);
                            if (lg_attn_cycles_at(&p, pos, 0, 0) != want)
                                fail_msg("hs %d lanes %d heads %d qv %d group %d pos %d: %lld, want %lld",
                                         p.head_size, p.lanes, p.n_heads, lg_attn_qv(&p),
                                         p.kv_group, pos,
                                         (long long)lg_attn_cycles_at(&p, pos, 0, 0),
                                         (long long)want);
                            n++;
                        }
    assert_true(n > 4000);
    // make test's GQA 2:1 decoder (head size 8, 4 heads, lanes 8, query beats
    // of 2): k_ok 77 and v_ok 134 cycles after the start, done 198 (the
    // decoder's co-simulation: 199, its query a cycle later)
    lg_attn_params p = {.head_size = 8, .n_heads = 4, .n_kv_heads = 2, .n_layers = 2,
                        .seq_len = 10, .kv_bits = 8, .kv_group = 8, .lanes = 8,
                        .score_c = 1000, .qv_max = 2};
    assert_int_equal(lg_attn_cycles(&p, 0), 108);
    assert_int_equal(lg_attn_cycles_at(&p, 0, 77, 134), 198);
    assert_int_equal(lg_attn_cycles_at(&p, 0, 5, 10), 108); // both there in time
    assert_true(lg_attn_cycles_at(&p, 0, 0, 134) > lg_attn_cycles_at(&p, 0, 0, 133));
    assert_true(lg_attn_cycles_at(&p, 0, 77, 0) > lg_attn_cycles_at(&p, 0, 76, 0));
    // more heads than any fixed table (info takes configs up to n_heads
    // 65536 that no emission checks first)
    p.n_heads = 2048;
    p.n_kv_heads = 2048;
    assert_int_equal(lg_attn_cycles_at(&p, 3, 0, 0), lg_attn_cycles(&p, 3));
    // K or V held back past 2^22 cycles: the closed form shifted by the wait
    assert_true(lg_attn_cycles_at(&p, 3, 1 << 23, 0) > (1 << 23));
    assert_true(lg_attn_cycles_at(&p, 3, 0, 1 << 23) > (1 << 23));
    // past 2^22 row beats a call, the closed form with the V side shifted
    p.n_heads = 1024;
    p.n_kv_heads = 1024;
    p.seq_len = 8192;
    assert_int_equal(lg_attn_cycles_at(&p, 8191, 0, 0), lg_attn_cycles(&p, 8191));
    assert_true(lg_attn_cycles_at(&p, 8191, 0, 1000000000) > 1000000000);
}

static void test_unit_numbers(void **state)
{
    (void)state;
    lg_matvec_params p = {16, 32, 64, 172, 0};
    assert_int_equal(lg_matvec_beats(&p), 11);
    assert_int_equal(lg_matvec_dexps(&p), 1);
    assert_int_equal(lg_matvec_latency(&p), 11);
    assert_int_equal(lg_matvec_run_cycles(&p), 64 * 11 + 12);
    assert_int_equal(lg_matvec_acc_width(&p), 47); // clog2(172) + 39
    lg_matvec_params w = {64, 32, 64, 16, 0};
    assert_int_equal(lg_matvec_dexps(&w), 2);
    assert_int_equal(lg_matvec_beats(&w), 1);
    assert_int_equal(lg_matvec_acc_width(&w), 24 + 6 + 15 + 1); // beat sum wider
    char name[96];
    lg_matvec_module_name(name, sizeof name, &p);
    assert_string_equal(name, "lg_matvec_l16_g32_r64_c172");
    lg_actq_params a = {172};
    assert_int_equal(lg_actq_latency(&a), 4);
    assert_int_equal(lg_actq_run_cycles(&a), 2 * 172 + 2);
    // the lean form (--mul-share): one output beat every 5 cycles
    assert_int_equal(lg_actq_share_latency(&a), 12);
    assert_int_equal(lg_actq_share_run_cycles(&a), 6 * 172 + 6);
    lg_actq_module_name(name, sizeof name, &a);
    assert_string_equal(name, "lg_actq_c172");
    lg_config cfg = cfg_260k();
    lg_matvec_params_from_cfg(&p, &cfg, 172, 64);
    assert_int_equal(p.lanes, cfg.hw.lanes);
    assert_int_equal(p.group, cfg.hw.group_size);
    assert_int_equal(p.rows, 172);
    assert_int_equal(p.cols, 64);
}

// ---- $readmemh images -------------------------------------------------------------------

static void test_hex(void **state)
{
    (void)state;
    const char *dir = tu_tmpdir();
    lg_config cfg = cfg_260k();
    lg_emit_ctx ctx;
    lg_emit_ctx_init(&ctx, &cfg, dir, "llamagen emit");
    lg_err err = {{0}};
    char l[256];

    const int64_t v8[] = {0, 1, -1, 255, -128, 127};
    assert_int_equal(lg_emit_hex(&ctx, "a.hex", v8, 6, 8, "bytes", &err), 0);
    char *s = slurp(dir, "a.hex");
    assert_non_null(s);
    assert_string_equal(line_of(s, 0, l, sizeof l), "// DO NOT EDIT: generated by llamagen " LG_VERSION);
    assert_string_equal(line_of(s, 1, l, sizeof l), "// regenerate: llamagen emit");
    assert_true(strncmp(line_of(s, 2, l, sizeof l), "// config: 260k ", 16) == 0);
    assert_non_null(strstr(line_of(s, 3, l, sizeof l), "6 words x 8 bits"));
    assert_non_null(strstr(l, "bytes"));
    const char *want8[] = {"00", "01", "ff", "ff", "80", "7f"};
    for (int i = 0; i < 6; i++)
        assert_string_equal(line_of(s, 4 + i, l, sizeof l), want8[i]);
    assert_null(line_of(s, 11, l, sizeof l)); // ends after the last word's newline
    free(s);

    // Widths that are not a multiple of 4: digits = ceil(w / 4), masked.
    const int64_t v12[] = {-1, 2047, -2048, 5};
    assert_int_equal(lg_emit_hex(&ctx, "b.hex", v12, 4, 12, "twelve", &err), 0);
    s = slurp(dir, "b.hex");
    const char *want12[] = {"fff", "7ff", "800", "005"};
    for (int i = 0; i < 4; i++)
        assert_string_equal(line_of(s, 4 + i, l, sizeof l), want12[i]);
    free(s);
    const int64_t v5[] = {-1, 16, -16, 31};
    assert_int_equal(lg_emit_hex(&ctx, "c.hex", v5, 4, 5, "five", &err), 0);
    s = slurp(dir, "c.hex");
    const char *want5[] = {"1f", "10", "10", "1f"};
    for (int i = 0; i < 4; i++)
        assert_string_equal(line_of(s, 4 + i, l, sizeof l), want5[i]);
    free(s);
    const int64_t v64[] = {INT64_MIN, -1, INT64_MAX, 0x1234};
    assert_int_equal(lg_emit_hex(&ctx, "d.hex", v64, 4, 64, "wide", &err), 0);
    s = slurp(dir, "d.hex");
    const char *want64[] = {"8000000000000000", "ffffffffffffffff", "7fffffffffffffff",
                            "0000000000001234"};
    for (int i = 0; i < 4; i++)
        assert_string_equal(line_of(s, 4 + i, l, sizeof l), want64[i]);
    free(s);
    const int64_t v1[] = {0, 1, -1};
    assert_int_equal(lg_emit_hex(&ctx, "e.hex", v1, 3, 1, "bits", &err), 0);
    s = slurp(dir, "e.hex");
    assert_string_equal(line_of(s, 6, l, sizeof l), "1");
    free(s);
    assert_int_equal(ctx.nfiles, 5);

    // Errors: values that do not fit, bad widths, bad names.
    const int64_t big[] = {0, 256};
    assert_int_equal(lg_emit_hex(&ctx, "f.hex", big, 2, 8, "x", &err), -1);
    assert_non_null(strstr(err.msg, "word 1 = 256"));
    const int64_t neg[] = {-129};
    assert_int_equal(lg_emit_hex(&ctx, "f.hex", neg, 1, 8, "x", &err), -1);
    assert_int_equal(lg_emit_hex(&ctx, "f.hex", v8, 1, 0, "x", &err), -1);
    assert_non_null(strstr(err.msg, "width 0"));
    assert_int_equal(lg_emit_hex(&ctx, "f.hex", v8, 1, 65, "x", &err), -1);
    assert_int_equal(lg_emit_hex(&ctx, "sub/f.hex", v8, 1, 8, "x", &err), -1);
    assert_non_null(strstr(err.msg, "sub/f.hex"));
    assert_int_equal(ctx.nfiles, 5);
    lg_emit_ctx_free(&ctx);
    tu_rmtree(dir);
}

// ---- determinism ------------------------------------------------------------------------

static void emit_set(const char *dir, lg_emit_ctx *ctx, const lg_config *cfg)
{
    lg_emit_ctx_init(ctx, cfg, dir, "llamagen emit --config 260k --out DIR");
    lg_err err = {{0}};
    lg_matvec_params mp[] = {{16, 32, 64, 172, 0}, {64, 32, 172, 64, 0}, {1, 4, 3, 5, 0}};
    for (int i = 0; i < 3; i++)
        assert_int_equal(lg_emit_matvec(ctx, NULL, &mp[i], &err), 0);
    lg_actq_params ap = {172};
    assert_int_equal(lg_emit_actq(ctx, NULL, &ap, &err), 0);
    const int64_t v[] = {3, -3, 100};
    assert_int_equal(lg_emit_hex(ctx, "v.hex", v, 3, 9, "values", &err), 0);
}

static void test_reemission_identical(void **state)
{
    (void)state;
    char a[256], b[256];
    snprintf(a, sizeof a, "%s", tu_tmpdir());
    snprintf(b, sizeof b, "%s", tu_tmpdir());
    lg_config cfg = cfg_260k();
    lg_emit_ctx ca, cb;
    emit_set(a, &ca, &cfg);
    emit_set(b, &cb, &cfg);
    assert_int_equal(ca.nfiles, 5);
    assert_int_equal(cb.nfiles, 5);
    for (int i = 0; i < ca.nfiles; i++) {
        assert_string_equal(ca.files[i], cb.files[i]);
        char *x = slurp(a, ca.files[i]), *y = slurp(b, cb.files[i]);
        assert_non_null(x);
        assert_non_null(y);
        assert_string_equal(x, y);
        free(x);
        free(y);
    }

    // Same module again through the same context: accepted, listed once.
    lg_err err = {{0}};
    lg_matvec_params same = {16, 32, 64, 172, 0};
    assert_int_equal(lg_emit_matvec(&ca, NULL, &same, &err), 0);
    assert_int_equal(ca.nfiles, 5);
    // Same name, different content: the clash is an error.
    lg_matvec_params other = {16, 32, 64, 170, 0};
    assert_int_equal(lg_emit_matvec(&ca, "lg_matvec_l16_g32_r64_c172", &other, &err), -1);
    assert_non_null(strstr(err.msg, "different content"));
    lg_emit_ctx_free(&ca);
    lg_emit_ctx_free(&cb);
    tu_rmtree(a);
    tu_rmtree(b);
}

// ---- the decoder's K offset image ---------------------------------------------------------

// koff.hex holds -mu (the decoder adds it: no inverters in front of the carry
// chain); a -2^31 offset, whose negation does not fit, is refused by name.
static void test_decoder_koff_negated(void **state)
{
    (void)state;
    lg_config cfg = cfg_260k();
    lg_err err = {{0}};
    lg_qmodel qm;
    assert_int_equal(lg_decoder_qmodel(&qm, &cfg, NULL, &err), 0);
    qm.k_offset[0] = 41;
    qm.k_offset[1] = -868;
    char dir[256], prefix[128], file[160];
    snprintf(dir, sizeof dir, "%s", tu_tmpdir());
    lg_decoder_opts o = {"test", "synthetic", NULL};
    assert_int_equal(lg_emit_decoder(dir, &qm, &o, &err), 0);
    lg_decoder_prefix(prefix, sizeof prefix, &qm);
    snprintf(file, sizeof file, "%s_koff.hex", prefix);
    char *hex = slurp(dir, file);
    assert_non_null(hex);
    const char *w = hex;
    while (*w == '/') // skip the comment lines
        w = strchr(w, '\n') + 1;
    char buf[64];
    assert_string_equal(line_of(w, 0, buf, sizeof buf), "ffffffd7"); // -41
    assert_string_equal(line_of(w, 1, buf, sizeof buf), "00000364"); // 868
    // after the n_layers x kv_dim offsets, the two values a saturating
    // k - mu takes (lg_sat32: +-(2^31 - 1)), which the controller reads
    // instead of a 32-bit saturation mux
    int nko = cfg.m.n_layers * lg_kv_dim(&cfg.m);
    assert_string_equal(line_of(w, nko, buf, sizeof buf), "7fffffff");
    assert_string_equal(line_of(w, nko + 1, buf, sizeof buf), "80000001");
    const char *end = line_of(w, nko + 2, buf, sizeof buf); // nothing after them
    assert_true(end == NULL || *end == '\0');
    free(hex);
    tu_rmtree(dir);

    qm.k_offset[5] = INT32_MIN;
    snprintf(dir, sizeof dir, "%s", tu_tmpdir());
    assert_int_equal(lg_emit_decoder(dir, &qm, &o, &err), -1);
    assert_non_null(strstr(err.msg, "K offset 5 is -2^31"));
    tu_rmtree(dir);
    lg_qmodel_free(&qm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_template_get),
        cmocka_unit_test(test_render_good),
        cmocka_unit_test(test_render_unknown_placeholder),
        cmocka_unit_test(test_render_unused_value),
        cmocka_unit_test(test_render_bad_values),
        cmocka_unit_test(test_render_missing_template),
        cmocka_unit_test(test_banner),
        cmocka_unit_test(test_module_errors),
        cmocka_unit_test(test_unit_numbers),
        cmocka_unit_test(test_attn_cycles_at),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_reemission_identical),
        cmocka_unit_test(test_decoder_koff_negated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
