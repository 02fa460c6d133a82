// Config tests: every preset validates and has its published shape, every
// rule of lg_config_validate fires with its own message, overrides parse
// strictly, and the size statistics match sums worked out by hand.
#include "test_util.h"

#include "llamagen/config.h"

// ---- helpers ----

// The 260k preset (valid), for tests to break one field at a time.
static lg_config base_260k(void)
{
    lg_config c;
    lg_err err = {{0}};
    assert_int_equal(lg_config_preset("260k", &c, &err), 0);
    return c;
}

// Asserts that validation fails with a message containing needle.
#define assert_invalid(cfg, needle)                                                        \
    do {                                                                                   \
        lg_err e_ = {{0}};                                                                 \
        assert_int_equal(lg_config_validate(&(cfg), &e_), -1);                             \
        if (!strstr(e_.msg, (needle)))                                                     \
            fail_msg("message '%s' lacks '%s'", e_.msg, (needle));                         \
    } while (0)

// Asserts that an override fails with a message containing needle and leaves
// the config untouched.
#define assert_override_fails(key, value, needle)                                          \
    do {                                                                                   \
        lg_config c_ = base_260k(), before_ = c_;                                          \
        lg_err e_ = {{0}};                                                                 \
        assert_int_equal(lg_config_override(&c_, (key), (value), &e_), -1);                \
        if (!strstr(e_.msg, (needle)))                                                     \
            fail_msg("message '%s' lacks '%s'", e_.msg, (needle));                         \
        assert_memory_equal(&c_, &before_, sizeof c_);                                     \
    } while (0)

// ---- presets ----

static void test_every_preset_validates(void **state)
{
    int n = lg_config_preset_count();
    assert_int_equal(n, 7);
    for (int i = 0; i < n; i++) {
        const char *name = lg_config_preset_name(i);
        assert_non_null(name);
        assert_non_null(lg_config_preset_desc(i));
        assert_true(strlen(lg_config_preset_desc(i)) > 0);
        for (int j = 0; j < i; j++)
            assert_string_not_equal(name, lg_config_preset_name(j));
        lg_config c;
        lg_err err = {{0}};
        assert_int_equal(lg_config_preset(name, &c, &err), 0);
        assert_string_equal(c.name, name);
        if (lg_config_validate(&c, &err) != 0)
            fail_msg("preset %s: %s", name, err.msg);
        // default hardware: 16 lanes, G 32, 8-bit K/V, one exponent per head row
        assert_int_equal(c.hw.lanes, 16);
        assert_int_equal(c.hw.group_size, 32);
        assert_int_equal(c.hw.kv_bits, 8);
        assert_int_equal(c.hw.kv_group, lg_head_size(&c.m));
    }
    assert_null(lg_config_preset_name(-1));
    assert_null(lg_config_preset_name(n));
    assert_null(lg_config_preset_desc(n));
}

static void check_shape(const char *name, int dim, int hidden, int layers, int heads, int kv_heads,
                        int vocab, int seq, unsigned theta, int shared)
{
    lg_config c;
    lg_err err = {{0}};
    assert_int_equal(lg_config_preset(name, &c, &err), 0);
    assert_int_equal(c.m.dim, dim);
    assert_int_equal(c.m.hidden_dim, hidden);
    assert_int_equal(c.m.n_layers, layers);
    assert_int_equal(c.m.n_heads, heads);
    assert_int_equal(c.m.n_kv_heads, kv_heads);
    assert_int_equal(c.m.vocab_size, vocab);
    assert_int_equal(c.m.seq_len, seq);
    assert_int_equal(c.m.rope_theta, theta);
    assert_int_equal(c.m.norm_eps_e9, 10000); // 1e-5
    assert_int_equal(c.m.shared_classifier, shared);
}

static void test_preset_shapes(void **state)
{
    check_shape("260k", 64, 172, 5, 8, 4, 512, 512, 10000, 1);
    check_shape("15m", 288, 768, 6, 6, 6, 32000, 256, 10000, 1);
    check_shape("42m", 512, 1376, 8, 8, 8, 32000, 1024, 10000, 1);
    check_shape("110m", 768, 2048, 12, 12, 12, 32000, 1024, 10000, 1);
    check_shape("tinyllama-1.1b", 2048, 5632, 22, 32, 4, 32000, 2048, 10000, 0);
    check_shape("llama2-7b", 4096, 11008, 32, 32, 32, 32000, 4096, 10000, 0);
    check_shape("llama3-8b", 4096, 14336, 32, 32, 8, 128256, 8192, 500000, 0);

    lg_config c = base_260k();
    assert_int_equal(lg_head_size(&c.m), 8);
    assert_int_equal(lg_kv_dim(&c.m), 32);
}

static void test_unknown_preset(void **state)
{
    lg_config c;
    lg_err err = {{0}};
    assert_int_equal(lg_config_preset("nope", &c, &err), -1);
    assert_non_null(strstr(err.msg, "unknown config 'nope'"));
    assert_int_equal(lg_config_preset("", &c, &err), -1);
    assert_int_equal(lg_config_preset("260K", &c, &err), -1); // names are exact
}

// ---- validation: one rule per check ----

static void test_positive_fields(void **state)
{
    lg_config c;
    c = base_260k(), c.m.dim = 0;
    assert_invalid(c, "dim = 0 must be positive");
    c = base_260k(), c.m.hidden_dim = -3;
    assert_invalid(c, "hidden_dim = -3 must be positive");
    c = base_260k(), c.m.n_layers = 0;
    assert_invalid(c, "n_layers = 0 must be positive");
    c = base_260k(), c.m.n_heads = -1;
    assert_invalid(c, "n_heads = -1 must be positive");
    c = base_260k(), c.m.n_kv_heads = 0;
    assert_invalid(c, "n_kv_heads = 0 must be positive");
    c = base_260k(), c.m.vocab_size = 0;
    assert_invalid(c, "vocab_size = 0 must be positive");
    c = base_260k(), c.m.seq_len = INT32_MIN;
    assert_invalid(c, "seq_len = -2147483648 must be positive");
    // token 1 is BOS: a one-token vocabulary made run / eval read the
    // embedding out of bounds (ASan: heap-buffer-overflow in lg_ref_embed)
    c = base_260k(), c.m.vocab_size = 1;
    assert_invalid(c, "vocab_size = 1 must be at least 2 (token 1 is BOS)");
    c = base_260k(), c.m.vocab_size = 2;
    assert_int_equal(lg_config_validate(&c, NULL), 0);
}

static void test_limits(void **state)
{
    lg_config c;
    c = base_260k(), c.m.dim = 65537;
    assert_invalid(c, "dim = 65537 exceeds the limit 65536");
    c = base_260k(), c.m.hidden_dim = 262145;
    assert_invalid(c, "hidden_dim = 262145 exceeds the limit 262144");
    c = base_260k(), c.m.n_layers = 1025;
    assert_invalid(c, "n_layers = 1025 exceeds the limit 1024");
    c = base_260k(), c.m.n_heads = 65537;
    assert_invalid(c, "n_heads = 65537 exceeds the limit 65536");
    c = base_260k(), c.m.n_kv_heads = 65537;
    assert_invalid(c, "n_kv_heads = 65537 exceeds the limit 65536");
    c = base_260k(), c.m.vocab_size = (1 << 20) + 1;
    assert_invalid(c, "vocab_size = 1048577 exceeds the limit 1048576");
    c = base_260k(), c.m.seq_len = (1 << 20) + 1;
    assert_invalid(c, "seq_len = 1048577 exceeds the limit 1048576");

    // each limit itself is allowed
    c = base_260k(), c.m.seq_len = 1 << 20, c.m.vocab_size = 1 << 20;
    assert_int_equal(lg_config_validate(&c, NULL), 0);
    c = base_260k(), c.m.n_layers = 1024, c.m.hidden_dim = 1 << 18;
    assert_int_equal(lg_config_validate(&c, NULL), 0);
}

static void test_head_rules(void **state)
{
    lg_config c;
    c = base_260k(), c.m.n_heads = 6;
    assert_invalid(c, "dim = 64 is not divisible by n_heads = 6");
    c = base_260k(), c.m.n_kv_heads = 3;
    assert_invalid(c, "n_heads = 8 is not a multiple of n_kv_heads = 3");
    c = base_260k(), c.m.n_heads = 4, c.m.n_kv_heads = 8; // kv_heads > heads
    c.hw.kv_group = 16;
    assert_invalid(c, "n_heads = 4 is not a multiple of n_kv_heads = 8");
    c = base_260k(), c.m.dim = 72, c.hw.kv_group = 9; // head_size 9
    assert_invalid(c, "head_size = dim/n_heads = 9 must be even for RoPE");
    c = base_260k(), c.m.dim = 1024, c.m.n_heads = 1, c.m.n_kv_heads = 1;
    c.hw.kv_group = 1024;
    assert_invalid(c, "head_size = 1024 exceeds the limit 512");
    // MHA, GQA and MQA all pass
    c = base_260k(), c.m.n_kv_heads = 8;
    assert_int_equal(lg_config_validate(&c, NULL), 0);
    c = base_260k(), c.m.n_kv_heads = 1;
    assert_int_equal(lg_config_validate(&c, NULL), 0);
}

static void test_rope_and_eps(void **state)
{
    lg_config c;
    c = base_260k(), c.m.rope_theta = 1;
    assert_invalid(c, "rope_theta = 1 must be at least 2");
    c = base_260k(), c.m.rope_theta = 0;
    assert_invalid(c, "rope_theta = 0 must be at least 2");
    c = base_260k(), c.m.norm_eps_e9 = 0;
    assert_invalid(c, "norm_eps = 0 e-9");
    c = base_260k(), c.m.norm_eps_e9 = 1000001;
    assert_invalid(c, "norm_eps = 1000001 e-9");
    c = base_260k(), c.m.norm_eps_e9 = 1000000, c.m.rope_theta = 2;
    assert_int_equal(lg_config_validate(&c, NULL), 0);
}

static void test_hardware_rules(void **state)
{
    lg_config c;
    c = base_260k(), c.hw.lanes = 0;
    assert_invalid(c, "lanes = 0 must be");
    c = base_260k(), c.hw.lanes = 65;
    assert_invalid(c, "lanes = 65 must be");
    c = base_260k(), c.hw.lanes = 128;
    assert_invalid(c, "lanes = 128 must be a power of two in 1..64");
    c = base_260k(), c.hw.lanes = 12; // so a beat of lanes never straddles a group unevenly
    assert_invalid(c, "lanes = 12 must be a power of two");
    c = base_260k(), c.hw.group_size = 48;
    assert_invalid(c, "group_size = 48 must be a power of two in 4..256");
    c = base_260k(), c.hw.group_size = 2;
    assert_invalid(c, "group_size = 2 must be a power of two in 4..256");
    c = base_260k(), c.hw.group_size = 512;
    assert_invalid(c, "group_size = 512 must be a power of two in 4..256");
    c = base_260k(), c.hw.group_size = 0;
    assert_invalid(c, "group_size = 0 must be a power of two");
    c = base_260k(), c.hw.kv_bits = 3;
    assert_invalid(c, "kv_bits = 3 must be in 4..16");
    c = base_260k(), c.hw.kv_bits = 17;
    assert_invalid(c, "kv_bits = 17 must be in 4..16");
    c = base_260k(), c.hw.kv_group = 3;
    assert_invalid(c, "kv_group = 3 must divide head_size = 8");
    c = base_260k(), c.hw.kv_group = 16;
    assert_invalid(c, "kv_group = 16 must divide head_size = 8");
    c = base_260k(), c.hw.kv_group = 0;
    assert_invalid(c, "kv_group = 0 must divide head_size = 8");
    c = base_260k(), c.hw.kv_ports = 0;
    assert_invalid(c, "kv_ports = 0 must be 1 (single-port K/V RAM) or 2");
    c = base_260k(), c.hw.kv_ports = 3;
    assert_invalid(c, "kv_ports = 3 must be 1 (single-port K/V RAM) or 2");
    c = base_260k(), c.hw.kv_ports = 1;
    assert_int_equal(lg_config_validate(&c, NULL), 0);
    c = base_260k(), c.hw.lanes = 4, c.hw.vec_lanes = 8;
    assert_invalid(c, "vec_lanes = 8 must be a power of two <= min(lanes, 16) = 4");
    c = base_260k(), c.hw.lanes = 64, c.hw.vec_lanes = 32;
    assert_invalid(c, "vec_lanes = 32 must be a power of two <= min(lanes, 16) = 16");
    c = base_260k(), c.hw.vec_lanes = 3;
    assert_invalid(c, "vec_lanes = 3 must be a power of two");
    c = base_260k(), c.hw.lanes = 4, c.hw.vec_lanes = 1;
    assert_int_equal(lg_config_validate(&c, NULL), 0);
    c = base_260k(), c.hw.embed_stream = 2;
    assert_invalid(c, "embed_stream = 2 must be 0 or 1");
    c = base_260k(), c.hw.ext_weights = -1;
    assert_invalid(c, "ext_weights = -1 must be 0 (on-chip), 1 (stream ports) or 2 (AXI4)");
    c = base_260k(), c.hw.ext_weights = 3;
    assert_invalid(c, "ext_weights = 3 must be 0");
    c = base_260k(), c.hw.embed_stream = 1, c.m.shared_classifier = 0;
    assert_invalid(c, "embed_stream needs a shared classifier");
    c = base_260k(), c.hw.embed_stream = 1;
    assert_int_equal(lg_config_validate(&c, NULL), 0);
    // the ends of each range pass
    c = base_260k(), c.hw.lanes = 64, c.hw.group_size = 256, c.hw.kv_bits = 16, c.hw.kv_group = 1;
    assert_int_equal(lg_config_validate(&c, NULL), 0);
    c = base_260k(), c.hw.lanes = 1, c.hw.group_size = 4, c.hw.kv_bits = 4, c.hw.kv_group = 2;
    assert_int_equal(lg_config_validate(&c, NULL), 0);
}

static void test_too_many_params(void **state)
{
    // every field within its limit, but ~5.3e13 parameters
    lg_config c = base_260k();
    c.m.dim = 1 << 16;
    c.m.hidden_dim = 1 << 18;
    c.m.n_layers = 1024;
    c.m.n_heads = 128;
    c.m.n_kv_heads = 128;
    c.hw.kv_group = 512;
    assert_invalid(c, "parameters exceeds the limit 2^40");
}

// ---- overrides ----

static void test_override_good(void **state)
{
    lg_config c = base_260k();
    lg_err err = {{0}};
    assert_int_equal(lg_config_override(&c, "dim", "128", &err), 0);
    assert_int_equal(c.m.dim, 128);
    assert_string_equal(c.name, "custom"); // another model
    assert_int_equal(c.hw.kv_group, 16); // follows head_size 128/8
    assert_int_equal(lg_config_override(&c, "n-heads", "4", &err), 0);
    assert_int_equal(c.hw.kv_group, 32);
    assert_int_equal(lg_config_override(&c, "kv-group", "8", &err), 0);
    assert_int_equal(c.hw.kv_group, 8);
    assert_int_equal(lg_config_validate(&c, &err), 0);

    struct {
        const char *key, *value;
        int64_t want;
        const void *field;
    } cases[] = {
        {"hidden-dim", "300", 300, &c.m.hidden_dim},
        {"n-layers", "2", 2, &c.m.n_layers},
        {"n-kv-heads", "2", 2, &c.m.n_kv_heads},
        {"vocab-size", "1000", 1000, &c.m.vocab_size},
        {"seq-len", "2048", 2048, &c.m.seq_len},
        {"lanes", "64", 64, &c.hw.lanes},
        {"group-size", "64", 64, &c.hw.group_size},
        {"kv-bits", "12", 12, &c.hw.kv_bits},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(lg_config_override(&c, cases[i].key, cases[i].value, &err), 0);
        int32_t v;
        memcpy(&v, cases[i].field, sizeof v);
        assert_int_equal(v, cases[i].want);
    }
    // rope-theta is unsigned 32-bit: its maximum fits
    assert_int_equal(lg_config_override(&c, "rope-theta", "4294967295", &err), 0);
    assert_int_equal(c.m.rope_theta, 4294967295u);
    assert_int_equal(lg_config_override(&c, "rope-theta", "500000", &err), 0);
    assert_int_equal(c.m.rope_theta, 500000);
    assert_int_equal(lg_config_override(&c, "dim", "2147483647", &err), 0); // int32 max parses
    assert_int_equal(c.m.dim, INT32_MAX);
    assert_invalid(c, "dim = 2147483647 exceeds the limit 65536"); // and then fails validation
}

static void test_override_errors(void **state)
{
    assert_override_fails("foo", "1", "unknown parameter --foo");
    assert_override_fails("", "1", "unknown parameter --");
    assert_override_fails("dim", "12x", "--dim: '12x' is not an integer");
    assert_override_fails("dim", "abc", "--dim: 'abc' is not an integer");
    assert_override_fails("dim", "", "--dim: '' is not an integer");
    assert_override_fails("dim", "1.5", "is not an integer");
    assert_override_fails("dim", " ", "is not an integer");
    // leading white space is refused like trailing (strtoll would skip it)
    assert_override_fails("dim", " 64", "--dim: ' 64' is not an integer");
    assert_override_fails("lanes", "\t4", "is not an integer");
    assert_override_fails("dim", "64 ", "is not an integer");
    assert_override_fails("lanes", "0", "--lanes: '0' is not an integer in 1..");
    assert_override_fails("seq-len", "-4", "--seq-len: '-4' is not an integer in 1..");
    assert_override_fails("dim", "99999999999",
                          "--dim: '99999999999' is not an integer in 1..2147483647");
    assert_override_fails("dim", "2147483648", "is not an integer in 1..2147483647");
    assert_override_fails("rope-theta", "99999999999", "in 1..4294967295");
    assert_override_fails("kv-bits", "99999999999999999999999", "is not an integer");
}

// ---- statistics ----

static void test_stats_260k(void **state)
{
    lg_config c = base_260k();
    lg_config_stats st;
    lg_config_stats_compute(&c, &st);
    // d 64, hidden 172, L 5, kv_dim 32, V 512, shared classifier, G 32
    // per layer: wq,wo 2*64*64 + wk,wv 2*32*64 + w1,w2,w3 3*64*172 = 45312
    //            plus two norm vectors 2*64 = 45440
    // params = 512*64 + 5*45440 + 64 = 32768 + 227200 + 64
    assert_int_equal(st.params, 260032);
    // bytes = rows*cols mantissas + rows*ceil(cols/32) exponents per matrix;
    // norms: 64 int16 gains + 1 exponent = 129 bytes
    //   embedding 512*64 + 512*2                               = 33792
    //   per layer: wq,wo 2*(4096+128) = 8448; wk,wv 2*(2048+64) = 4224;
    //              w1,w3 2*(11008+344) = 22704; w2 11008+64*6 = 11392;
    //              norms 2*129 = 258                    -> 47026 * 5 = 235130
    //   final norm                                                = 129
    assert_int_equal(st.weight_bytes, 33792 + 235130 + 129);
    // K and V, 5 layers: 32 int8 mantissas + 32/8 exponents each = 5*2*36
    assert_int_equal(st.kv_bytes_per_pos, 360);
    // 5*45312 layer MACs + 512*64 classifier
    assert_int_equal(st.weight_macs, 226560 + 32768);
    // 5 layers * 8 heads * head_size 8 * (q.k + p.v) * (pos+1)
    assert_int_equal(st.attn_macs_pos0, 640);
    assert_int_equal(st.attn_macs_last, 640 * 512);
    assert_int_equal(lg_attn_macs(&c.m, 9), 6400);

    // 16-bit K/V mantissas take two bytes each; one exponent per 2 elements
    c.hw.kv_bits = 16;
    c.hw.kv_group = 2;
    lg_config_stats_compute(&c, &st);
    assert_int_equal(st.kv_bytes_per_pos, 5 * 2 * (32 * 2 + 16));
}

static void test_stats_llama3_8b(void **state)
{
    lg_config c;
    lg_err err = {{0}};
    assert_int_equal(lg_config_preset("llama3-8b", &c, &err), 0);
    lg_config_stats st;
    lg_config_stats_compute(&c, &st);
    // unshared: embedding + classifier 2*128256*4096 = 1050673152
    // per layer 2*4096^2 + 2*1024*4096 + 3*4096*14336 + 2*4096 = 218112000
    assert_int_equal(st.params, 1050673152ull + 32ull * 218112000ull + 4096ull);
    assert_int_equal(st.params, 8030261248ull); // the published 8.03B
    assert_int_equal(st.weight_macs, 32ull * (218112000ull - 8192ull) + 128256ull * 4096ull);
    assert_int_equal(st.attn_macs_last, 32ull * 32 * 128 * 2 * 8192);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_preset_validates),
        cmocka_unit_test(test_preset_shapes),
        cmocka_unit_test(test_unknown_preset),
        cmocka_unit_test(test_positive_fields),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_head_rules),
        cmocka_unit_test(test_rope_and_eps),
        cmocka_unit_test(test_hardware_rules),
        cmocka_unit_test(test_too_many_params),
        cmocka_unit_test(test_override_good),
        cmocka_unit_test(test_override_errors),
        cmocka_unit_test(test_stats_260k),
        cmocka_unit_test(test_stats_llama3_8b),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
