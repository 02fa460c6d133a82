// Weight stream image (src/emit_wmem.c): beat counts, lane padding, dexp
// placement for lanes <= G and lanes > G, the consumption order, round trip
// back into the lg_qmat mantissas/dexps, the weights.hex / emb.hex text, and
// the gain list. The decoding here is written from the documented layout
// (include/llamagen/emit_mem.h), independently of the packer.
#include "test_util.h"

#include "llamagen/checkpoint.h"
#include "llamagen/emit_mem.h"
#include "llamagen/quantize.h"

// ---- fixtures ------------------------------------------------------------------

// A synthetic model of cfg (smooth_k = 0: no calibration run, fast).
static void make_model(lg_qmodel *qm, const lg_config *cfg, uint64_t seed)
{
    lg_err err = {{0}};
    lg_weights w;
    assert_int_equal(lg_weights_synthetic(&cfg->m, seed, &w, &err), 0);
    lg_quant_opts o;
    lg_quant_opts_default(&o);
    o.smooth_k = 0;
    int rc = lg_quantize_model(qm, cfg, &w, &o, &err);
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    assert_int_equal(rc, 0);
    lg_weights_free(&w);
}

static void cfg_260k(lg_config *cfg, int lanes)
{
    lg_err err = {{0}};
    assert_int_equal(lg_config_preset("260k", cfg, &err), 0);
    cfg->hw.lanes = lanes;
}

// Small and ragged: dim 40 (G 16: groups of 16, 16, 8), hidden 100, an
// unshared classifier, vocab 37.
static void cfg_small(lg_config *cfg, int lanes, int group)
{
    lg_err err = {{0}};
    assert_int_equal(lg_config_preset("260k", cfg, &err), 0);
    snprintf(cfg->name, sizeof cfg->name, "custom");
    cfg->m.dim = 40;
    cfg->m.hidden_dim = 100;
    cfg->m.n_layers = 2;
    cfg->m.n_heads = 4;
    cfg->m.n_kv_heads = 2;
    cfg->m.vocab_size = 37;
    cfg->m.seq_len = 16;
    cfg->m.shared_classifier = 0;
    cfg->hw.lanes = lanes;
    cfg->hw.group_size = group;
    cfg->hw.kv_group = 10;
    assert_int_equal(lg_config_validate(cfg, &err), 0);
}

// Independent field extraction: bits [lo, lo + n) of beat b.
static unsigned bits(const lg_wimage *img, int64_t b, int lo, int n)
{
    const uint64_t *w = img->beats + (size_t)b * (size_t)img->words;
    unsigned v = 0;
    for (int k = 0; k < n; k++)
        v |= (unsigned)((w[(lo + k) / 64] >> ((lo + k) % 64)) & 1u) << k;
    return v;
}

static int64_t cdiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The matrices in the documented consumption order.
static int stream_order(const lg_qmat **out, const lg_qmodel *qm)
{
    int k = 0;
    for (int l = 0; l < qm->cfg.m.n_layers; l++) {
        out[k++] = &qm->wq[l];
        out[k++] = &qm->wk[l];
        out[k++] = &qm->wv[l];
        out[k++] = &qm->wo[l];
        out[k++] = &qm->w1[l];
        out[k++] = &qm->w3[l];
        out[k++] = &qm->w2[l];
    }
    out[k++] = &qm->cls;
    return k;
}

// Decodes the image back into mantissas/dexps and compares with the model;
// also checks every padding lane and every dexp slot past the row end is 0.
static void check_round_trip(const lg_wimage *img, const lg_qmodel *qm)
{
    const lg_qmat *order[7 * 64 + 1];
    int n = stream_order(order, qm);
    assert_int_equal(img->nmats, n);
    int lanes = img->lanes, G = img->group;
    int ndexp = lanes > G ? lanes / G : 1;
    assert_int_equal(img->ndexp, ndexp);
    assert_int_equal(img->beat_bits, 8 * lanes + 4 * ndexp);
    assert_int_equal(img->words, cdiv(img->beat_bits, 64));
    int64_t b = 0;
    for (int k = 0; k < n; k++) {
        const lg_qmat *m = order[k];
        assert_ptr_equal(img->mats[k].m, m);
        assert_int_equal(img->mats[k].first, b);
        int64_t bpr = cdiv(m->cols, lanes);
        assert_int_equal(img->mats[k].nbeats, (int64_t)m->rows * bpr);
        for (int r = 0; r < m->rows; r++)
            for (int64_t j = 0; j < bpr; j++, b++) {
                for (int i = 0; i < lanes; i++) {
                    int64_t c = j * lanes + i;
                    int v = (int8_t)(uint8_t)bits(img, b, 8 * i, 8);
                    int want = c < m->cols ? m->mant[(size_t)r * m->cols + c] : 0;
                    if (v != want)
                        fail_msg("%s row %d beat %lld lane %d: %d != %d", img->mats[k].name, r,
                                 (long long)j, i, v, want);
                    assert_int_equal(lg_wbeat_mant(img, b, i), want);
                }
                for (int q = 0; q < ndexp; q++) {
                    int64_t g = lanes <= G ? (j * lanes) / G : j * ndexp + q;
                    int want = g < m->ngroups ? m->dexp[(size_t)r * m->ngroups + g] : 0;
                    int v = (int)bits(img, b, 8 * lanes + 4 * q, 4);
                    if (v != want)
                        fail_msg("%s row %d beat %lld dexp %d: %d != %d", img->mats[k].name, r,
                                 (long long)j, q, v, want);
                    assert_int_equal(lg_wbeat_dexp(img, b, q), want);
                }
                // bits above the beat in the last word are 0
                for (int z = img->beat_bits; z < 64 * img->words; z++)
                    assert_int_equal(bits(img, b, z, 1), 0);
            }
    }
    assert_int_equal(img->nbeats, b);
}

// The 260k model is shared by the tests (quantizing it takes ~0.7 s).
static lg_qmodel g_qm260;
static lg_config g_cfg260;

static int setup_260k(void **state)
{
    (void)state;
    cfg_260k(&g_cfg260, 16);
    make_model(&g_qm260, &g_cfg260, 260);
    return 0;
}

static int teardown_260k(void **state)
{
    (void)state;
    lg_qmodel_free(&g_qm260);
    return 0;
}

// ---- tests -----------------------------------------------------------------------

// 260k, lanes 16: 2848 beats per layer (172 = 10 x 16 + 12: W2 rows take 11
// beats), Wcls 2048: 16288 in all.
static void test_260k_counts(void **state)
{
    (void)state;
    const lg_qmodel *qm = &g_qm260;
    lg_err err = {{0}};
    lg_wimage img;
    assert_int_equal(lg_wimage_build(&img, qm, 0, &err), 0);
    assert_int_equal(img.lanes, 16);
    assert_int_equal(img.beat_bits, 132);
    assert_int_equal(img.words, 3);
    static const int64_t per[7] = {256, 128, 128, 256, 688, 688, 704};
    static const char *names[7] = {"wq", "wk", "wv", "wo", "w1", "w3", "w2"};
    for (int l = 0; l < 5; l++)
        for (int j = 0; j < 7; j++) {
            char nm[24];
            snprintf(nm, sizeof nm, "%s[%d]", names[j], l);
            assert_string_equal(img.mats[7 * l + j].name, nm);
            assert_int_equal(img.mats[7 * l + j].layer, l);
            assert_int_equal(img.mats[7 * l + j].nbeats, per[j]);
        }
    assert_string_equal(img.mats[35].name, "wcls");
    assert_int_equal(img.mats[35].layer, -1);
    assert_int_equal(img.mats[35].nbeats, 2048);
    assert_int_equal(img.nbeats, 5 * 2848 + 2048);
    check_round_trip(&img, qm);

    // W2 rows end in a 12-lane beat: lanes 12..15 are padding (zero) while
    // the row's data is not all zero there in general.
    const lg_wimage_mat *w2 = &img.mats[6];
    int64_t last = w2->first + 10; // row 0, beat 10
    for (int i = 12; i < 16; i++)
        assert_int_equal(bits(&img, last, 8 * i, 8), 0);
    lg_wimage_free(&img);

    // lanes 64 > G 32: two dexps per beat, 520-bit beats.
    assert_int_equal(lg_wimage_build(&img, qm, 64, &err), 0);
    assert_int_equal(img.ndexp, 2);
    assert_int_equal(img.beat_bits, 520);
    assert_int_equal(img.words, 9);
    // per layer 64 + 32 + 32 + 64 + 172 + 172 + 64 * 3, Wcls 512
    assert_int_equal(img.nbeats, 5 * (64 + 32 + 32 + 64 + 172 + 172 + 192) + 512);
    check_round_trip(&img, qm);
    lg_wimage_free(&img);
}

// Ragged small model at several lane / group pairs, unshared classifier.
static void test_small_layouts(void **state)
{
    (void)state;
    static const int pairs[][2] = {{1, 4}, {4, 16}, {16, 16}, {8, 32}, {64, 16}, {32, 4},
                                   {64, 4}, {2, 8}};
    for (size_t t = 0; t < sizeof pairs / sizeof pairs[0]; t++) {
        lg_config cfg;
        cfg_small(&cfg, pairs[t][0], pairs[t][1]);
        lg_qmodel qm;
        make_model(&qm, &cfg, 40 + t);
        assert_ptr_not_equal(qm.cls.mant, qm.embed.mant);
        lg_err err = {{0}};
        lg_wimage img;
        assert_int_equal(lg_wimage_build(&img, &qm, 0, &err), 0);
        assert_ptr_equal(img.mats[img.nmats - 1].m, &qm.cls);
        check_round_trip(&img, &qm);
        lg_wimage_free(&img);
        lg_qmodel_free(&qm);
    }
}

// The image tag (lg_wimage_tag, which the marked flash layout carries and the
// reader checks): the same for the same image, different for one mantissa,
// one dexp or one matrix's ebase changed, and for other weights.
static void test_tag(void **state)
{
    (void)state;
    lg_config cfg;
    cfg_small(&cfg, 4, 16);
    lg_qmodel qm, qm2;
    make_model(&qm, &cfg, 7);
    make_model(&qm2, &cfg, 8);
    lg_err err = {{0}};
    lg_wimage img, img2;
    assert_int_equal(lg_wimage_build(&img, &qm, 0, &err), 0);
    assert_int_equal(lg_wimage_build(&img2, &qm, 0, &err), 0);
    uint32_t t = lg_wimage_tag(&img);
    assert_true(t <= 0xffff);
    assert_int_equal(lg_wimage_tag(&img2), t);
    img2.beats[img2.nbeats / 2] ^= 1; // a mantissa bit
    assert_int_not_equal(lg_wimage_tag(&img2), t);
    img2.beats[img2.nbeats / 2] ^= 1;
    img2.beats[3] ^= (uint64_t)1 << (img2.beat_bits - 1); // a dexp bit
    assert_int_not_equal(lg_wimage_tag(&img2), t);
    img2.beats[3] ^= (uint64_t)1 << (img2.beat_bits - 1);
    assert_int_equal(lg_wimage_tag(&img2), t);
    qm.wk[0].ebase++;
    assert_int_not_equal(lg_wimage_tag(&img2), t);
    qm.wk[0].ebase--;
    lg_wimage_free(&img2);
    assert_int_equal(lg_wimage_build(&img2, &qm2, 0, &err), 0);
    assert_int_not_equal(lg_wimage_tag(&img2), t);
    lg_wimage_free(&img);
    lg_wimage_free(&img2);
    lg_qmodel_free(&qm);
    lg_qmodel_free(&qm2);
}

// The marked flash layout's leading repeats (lg_wimage_marks_lead, the
// reader's MARKS_LEAD): C / (G / lanes) marks in front of the classifier,
// one at beat 0 and one at each dexp change (counted here from the beats'
// own dexp fields), the rest the lead; -1 where the layout cannot be used.
static void test_marks_lead(void **state)
{
    (void)state;
    lg_config cfg;
    cfg_small(&cfg, 4, 16);
    cfg.m.dim = 64;
    cfg.m.hidden_dim = 96;
    cfg.hw.kv_group = 16;
    lg_err err = {{0}};
    assert_int_equal(lg_config_validate(&cfg, &err), 0);
    lg_qmodel qm;
    make_model(&qm, &cfg, 7);
    lg_wimage img;
    assert_int_equal(lg_wimage_build(&img, &qm, 0, &err), 0);
    int64_t c = img.mats[img.nmats - 1].first, bpg = 16 / 4, need = 0, changes = -1;
    for (int64_t b = 0; b < c; b++)
        need += b == 0 || bits(&img, b, 32, 4) != bits(&img, b - 1, 32, 4);
    int64_t lead = lg_wimage_marks_lead(&img, &changes, NULL);
    assert_int_equal(changes, need);
    assert_true(lead >= 0);
    assert_int_equal(lead, c / bpg - need);
    // a dexp change at every beat: more changes than marks
    for (int64_t b = 0; b < c; b++)
        img.beats[(size_t)b * (size_t)img.words] ^= (uint64_t)(b & 1) << 32;
    lg_err why = {{0}};
    assert_int_equal(lg_wimage_marks_lead(&img, &changes, &why), -1);
    assert_true(changes > c / bpg);
    assert_non_null(strstr(why.msg, "has room for"));
    lg_wimage_free(&img);
    // lanes 1, two dexps a beat (lanes 64 > G 16): no marked layout
    assert_int_equal(lg_wimage_build(&img, &qm, 1, &err), 0);
    assert_int_equal(lg_wimage_marks_lead(&img, NULL, &why), -1);
    assert_non_null(strstr(why.msg, "needs one dexp a beat and lanes >= 2"));
    lg_wimage_free(&img);
    assert_int_equal(lg_wimage_build(&img, &qm, 64, &err), 0);
    assert_int_equal(lg_wimage_marks_lead(&img, NULL, NULL), -1);
    lg_wimage_free(&img);
    lg_qmodel_free(&qm);
    // dim 40: a classifier row of 10 beats is not whole groups of 4
    cfg_small(&cfg, 4, 16);
    make_model(&qm, &cfg, 7);
    assert_int_equal(lg_wimage_build(&img, &qm, 0, &err), 0);
    assert_int_equal(lg_wimage_marks_lead(&img, NULL, &why), -1);
    assert_non_null(strstr(why.msg, "classifier at a group boundary"));
    lg_wimage_free(&img);
    lg_qmodel_free(&qm);
}

// lanes > G with a ragged last group: dim 40, G 16, lanes 64: one beat per
// row holding groups 0, 1, 2 (8 inputs) and an empty 4th dexp slot.
static void test_dexp_slots(void **state)
{
    (void)state;
    lg_config cfg;
    cfg_small(&cfg, 64, 16);
    lg_qmodel qm;
    make_model(&qm, &cfg, 7);
    // make every dexp nonzero so a zero slot can only be padding
    const lg_qmat *order[15];
    int n = stream_order(order, &qm);
    for (int k = 0; k < n; k++) {
        lg_qmat *m = (lg_qmat *)order[k];
        for (int i = 0; i < m->rows * m->ngroups; i++)
            m->dexp[i] = (uint8_t)(1 + (i * 7 + k) % 15);
    }
    lg_err err = {{0}};
    lg_wimage img;
    assert_int_equal(lg_wimage_build(&img, &qm, 0, &err), 0);
    assert_int_equal(img.ndexp, 4);
    const lg_wimage_mat *wq = &img.mats[0];
    assert_int_equal(wq->nbeats, 40);
    for (int r = 0; r < 40; r++) {
        for (int q = 0; q < 3; q++)
            assert_int_equal(bits(&img, r, 8 * 64 + 4 * q, 4), qm.wq[0].dexp[r * 3 + q]);
        assert_int_equal(bits(&img, r, 8 * 64 + 12, 4), 0);
        for (int i = 40; i < 64; i++)
            assert_int_equal(bits(&img, r, 8 * i, 8), 0);
    }
    // lanes 4 <= G 16: beat j of a row carries the dexp of group j / 4
    lg_wimage_free(&img);
    assert_int_equal(lg_wimage_build(&img, &qm, 4, &err), 0);
    assert_int_equal(img.ndexp, 1);
    for (int j = 0; j < 10; j++)
        assert_int_equal(bits(&img, 10 + j, 32, 4), qm.wq[0].dexp[3 + j / 4]); // row 1
    check_round_trip(&img, &qm);
    lg_wimage_free(&img);
    lg_qmodel_free(&qm);
}

static void test_errors(void **state)
{
    (void)state;
    lg_config cfg;
    cfg_small(&cfg, 4, 16);
    lg_qmodel qm;
    make_model(&qm, &cfg, 3);
    lg_err err = {{0}};
    lg_wimage img;
    assert_int_equal(lg_wimage_build(&img, &qm, 12, &err), -1);
    assert_non_null(strstr(err.msg, "lanes = 12"));
    assert_null(img.beats);
    assert_int_equal(lg_wimage_build(&img, &qm, 128, &err), -1);
    qm.w3[1].group = 32; // a matrix with another group size
    assert_int_equal(lg_wimage_build(&img, &qm, 4, &err), -1);
    assert_non_null(strstr(err.msg, "w3[1]"));
    qm.w3[1].group = 16;
    qm.wo[0].dexp[5] = 16; // not a 4-bit dexp
    assert_int_equal(lg_wimage_build(&img, &qm, 4, &err), -1);
    assert_non_null(strstr(err.msg, "wo[0]"));
    qm.wo[0].dexp[5] = 0;
    lg_qmodel_free(&qm);
}

// Reads the hex words of a $readmemh file (comments skipped) as strings.
static char **read_hex_lines(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t cap = 1024, k = 0;
    char **v = malloc(cap * sizeof *v);
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '/' && line[1] == '/')
            continue;
        line[strcspn(line, "\r\n")] = 0;
        assert_true(strlen(line) > 0);
        if (k == cap)
            v = realloc(v, (cap *= 2) * sizeof *v);
        v[k++] = strdup(line);
    }
    fclose(f);
    *n = k;
    return v;
}

static void free_lines(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

// weights.hex: one beat per line, ceil(bits / 4) digits, MSB first; emb.hex:
// rows of (per group: dexp word, mantissa bytes).
static void test_hex_files(void **state)
{
    (void)state;
    static const int lanes[2] = {16, 64};
    const lg_qmodel *qm = &g_qm260;
    const char *dir = tu_tmpdir();
    lg_emit_ctx ctx;
    lg_emit_ctx_init(&ctx, &g_cfg260, dir, "test_wmem_image");
    lg_err err = {{0}};
    for (int t = 0; t < 2; t++) {
        lg_wimage img;
        assert_int_equal(lg_wimage_build(&img, qm, lanes[t], &err), 0);
        char file[32], path[512];
        snprintf(file, sizeof file, "weights_l%d.hex", lanes[t]);
        assert_int_equal(lg_emit_weights_hex(&ctx, &img, file, &err), 0);
        // same content again: accepted; the file is recorded once
        assert_int_equal(lg_emit_weights_hex(&ctx, &img, file, &err), 0);
        snprintf(path, sizeof path, "%s/%s", dir, file);
        size_t n;
        char **v = read_hex_lines(path, &n);
        assert_int_equal(n, img.nbeats);
        int digits = (img.beat_bits + 3) / 4;
        for (size_t b = 0; b < n; b++) {
            assert_int_equal(strlen(v[b]), digits);
            for (int d = 0; d < digits; d++) {
                int nib = digits - 1 - d;
                unsigned want = bits(&img, (int64_t)b, 4 * nib,
                                     4 * nib + 4 <= img.beat_bits ? 4 : img.beat_bits - 4 * nib);
                char c = v[b][d];
                unsigned got = (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
                if (got != want)
                    fail_msg("beat %zu digit %d: %c != %x", b, d, c, want);
            }
        }
        free_lines(v, n);
        lg_wimage_free(&img);
    }
    assert_int_equal(ctx.nfiles, 2);

    // embedding ROM
    const lg_qmat *e = &qm->embed;
    assert_int_equal(lg_embed_rom_words(e), 512 * (64 + 2));
    assert_int_equal(lg_emit_embed_hex(&ctx, e, "emb.hex", &err), 0);
    char path[512];
    snprintf(path, sizeof path, "%s/emb.hex", dir);
    size_t n;
    char **v = read_hex_lines(path, &n);
    assert_int_equal(n, 512 * 66);
    size_t k = 0;
    for (int r = 0; r < 512; r++)
        for (int g = 0; g < 2; g++) {
            assert_int_equal(strtol(v[k++], NULL, 16), e->dexp[r * 2 + g]);
            for (int i = 0; i < 32; i++)
                assert_int_equal((int8_t)strtol(v[k++], NULL, 16), e->mant[r * 64 + g * 32 + i]);
        }
    free_lines(v, n);
    lg_emit_ctx_free(&ctx);
    tu_rmtree(dir);
}

// Ragged embedding rows (dim 40, G 16: 16 + 16 + 8), as the ROM builder lays them out.
static void test_embed_rom_ragged(void **state)
{
    (void)state;
    lg_config cfg;
    cfg_small(&cfg, 4, 16);
    lg_qmodel qm;
    make_model(&qm, &cfg, 11);
    const lg_qmat *e = &qm.embed;
    int64_t n = lg_embed_rom_words(e);
    assert_int_equal(n, 37 * 43);
    uint8_t *rom = calloc((size_t)n, 1);
    lg_embed_rom_build(rom, e);
    static const int glen[3] = {16, 16, 8};
    for (int r = 0; r < 37; r++) {
        const uint8_t *w = rom + r * 43;
        int k = 0, c = 0;
        for (int g = 0; g < 3; g++) {
            assert_int_equal(w[k++], e->dexp[r * 3 + g]);
            for (int i = 0; i < glen[g]; i++)
                assert_int_equal((int8_t)w[k++], e->mant[r * 40 + c++]);
        }
        assert_int_equal(k, 43);
    }
    free(rom);
    lg_embed_params p;
    lg_embed_params_from_qmat(&p, e, "emb.hex");
    assert_int_equal(p.vocab, 37);
    assert_int_equal(p.dim, 40);
    assert_int_equal(lg_embed_row_cycles(&p), LG_EMBED_LATENCY + 40 + 3 - 2);
    lg_qmodel_free(&qm);
}

static void test_gain_list(void **state)
{
    (void)state;
    lg_config cfg;
    cfg_small(&cfg, 4, 16);
    lg_qmodel qm;
    make_model(&qm, &cfg, 5);
    assert_int_equal(lg_model_gain_count(&qm), 5);
    lg_qvec g[5];
    lg_model_gain_list(g, &qm);
    assert_ptr_equal(g[0].mant, qm.rms_att[0].mant);
    assert_ptr_equal(g[1].mant, qm.rms_ffn[0].mant);
    assert_ptr_equal(g[2].mant, qm.rms_att[1].mant);
    assert_ptr_equal(g[3].mant, qm.rms_ffn[1].mant);
    assert_ptr_equal(g[4].mant, qm.rms_final.mant);
    assert_int_equal(g[4].exp, qm.rms_final.exp);
    lg_qmodel_free(&qm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_260k_counts),     cmocka_unit_test(test_small_layouts),
        cmocka_unit_test(test_dexp_slots),      cmocka_unit_test(test_errors),
        cmocka_unit_test(test_hex_files),       cmocka_unit_test(test_embed_rom_ragged),
        cmocka_unit_test(test_gain_list),       cmocka_unit_test(test_tag),
        cmocka_unit_test(test_marks_lead),
    };
    return cmocka_run_group_tests(tests, setup_260k, teardown_260k);
}
