/*
 * Long context: a tiny config with seq_len 32768 runs to its last position
 * in the integer model. RoPE phases stay exact (checked against a 128-bit
 * computation), no accumulator saturates, and the argmax agrees with the
 * float model at sampled positions.
 */
#include "test_util.h"

#include <math.h>

#include "llamagen/float_model.h"
#include "llamagen/quantize.h"

static void test_long_context(void **state)
{
    (void)state;
    lg_config cfg;
    lg_err err;
    assert_int_equal(lg_config_preset("260k", &cfg, &err), 0);
    cfg.m = (lg_model_config){8, 16, 1, 1, 1, 32, 32768, 10000, 10000, 1};
    lg_hw_defaults(&cfg.m, &cfg.hw);
    assert_int_equal(lg_config_validate(&cfg, &err), 0);
    lg_weights w;
    assert_int_equal(lg_weights_synthetic(&cfg.m, 2024, &w, &err), 0);
    lg_quant_opts qo;
    lg_quant_opts_default(&qo);
    qo.smooth_k = 0; // calibration over 32k positions would dominate the test time
    lg_qmodel qm;
    assert_int_equal(lg_quantize_model(&qm, &cfg, &w, &qo, &err), 0);
    lg_ref_model rm;
    lg_float_model fm;
    assert_int_equal(lg_ref_model_init(&rm, &qm, &err), 0);
    assert_int_equal(lg_float_model_init(&fm, &cfg.m, &w, &err), 0);

    uint32_t r = 12345;
    int checked = 0, agree = 0;
    for (int pos = 0; pos < cfg.m.seq_len; pos++) {
        r = r * 1103515245u + 12345u;
        int tok = (int)((r >> 16) % 32);
        const int32_t *il = lg_ref_forward(&rm, tok, pos);
        const float *fl = lg_float_forward(&fm, tok, pos);
        if (pos % 2048 == 2047 || pos == cfg.m.seq_len - 1) {
            int fa = 0;
            for (int i = 1; i < 32; i++)
                if (fl[i] > fl[fa])
                    fa = i;
            agree += lg_ref_argmax(il, 32) == fa;
            checked++;
            for (int i = 0; i < 32; i++) {
                assert_true(il[i] > -2147483647 && il[i] < 2147483647); // no saturation
                assert_true(fabs(il[i] / 65536.0 - fl[i]) < 0.5);
            }
        }
    }
    fprintf(stderr, "long context: argmax agrees at %d of %d sampled positions\n", agree, checked);
    assert_true(agree >= checked - 1);

    // The RoPE phase is exact at every position: (pos * inc) mod 2^32.
    for (uint64_t pos = 0; pos < 70000; pos += 997)
        for (int j = 0; j < 4; j++)
            assert_int_equal((uint32_t)((unsigned __int128)pos * qm.rope_inc[j] % ((unsigned __int128)1 << 32)),
                             (uint32_t)pos * qm.rope_inc[j]);
    lg_float_model_free(&fm);
    lg_ref_model_free(&rm);
    lg_qmodel_free(&qm);
    lg_weights_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_long_context),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
